import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { PermissionEntry, SystemFile } from "../schema.js";
import { systemFileProblems } from "./invariants.js";
import { EDIT_NEEDS_READ, zoomContactCenterImporter } from "./zoom-contact-center.js";

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");
const fixture = zoomContactCenterImporter.parse(read("./fixtures/zoom-contact-center-privileges.txt"));
const data = JSON.parse(read("../data/zoom-contact-center.json")) as SystemFile;
const byKey = (file: SystemFile, key: string): PermissionEntry => {
  const found = file.permissions.find((p) => p.key === key);
  if (!found) throw new Error(`no permission ${key}`);
  return found;
};

describe("zoom-contact-center importer on a fixture", () => {
  it("keeps documented ids, including both halves of a Read/Edit pair on one line", () => {
    expect(fixture.permissions.map((p) => p.key)).toEqual([
      "RptQueueAnalytics:Read",
      "RptQueueAnalyticsOverview:Read",
      "RptWallboard:Read",
      "RptWallboard:Edit",
      "RptHeatmapShare:Edit",
      "OutboundSmsCampaign",
      "TeamTab",
      "UserManagement:Read",
      "UserManagement:Edit",
      "RoleManagement:Read",
      "RoleManagement:Edit",
      "RoutingEngineManagement:Read",
      "RoutingEngineManagement:Edit",
      "CallbackQueueExport:Edit",
    ]);
  });

  it("takes categories from the settings section headings", () => {
    expect(fixture.categories.map((c) => c.name)).toEqual([
      "Contact Center - Analytics settings",
      "Contact Center - General settings",
      "Contact Center - Administration settings",
    ]);
    expect(byKey(fixture, "TeamTab").category).toBe("contact-center-general-settings");
  });

  it("makes X:Edit require X:Read only where both exist", () => {
    expect(byKey(fixture, "RptWallboard:Edit").requires).toBe("RptWallboard:Read");
    expect(byKey(fixture, "UserManagement:Edit").requires).toBe("UserManagement:Read");
    expect(byKey(fixture, "CallbackQueueExport:Edit").requires).toBeNull();
    expect(byKey(fixture, "RptHeatmapShare:Edit").requires).toBeNull();
  });

  it("writes its own summaries and tells the halves of a pair apart", () => {
    expect(byKey(fixture, "RptWallboard:Read").summary).toBe("View wallboards on the floor screens");
    expect(byKey(fixture, "UserManagement:Read").summary).toBe("View user accounts");
    expect(byKey(fixture, "UserManagement:Edit").summary).toBe("Manage user accounts");
    expect(byKey(fixture, "RoutingEngineManagement:Edit").summary).not.toBe(
      byKey(fixture, "RoutingEngineManagement:Read").summary,
    );
  });

  it("derives surfaces only for privileges present, with overview widgets on their report", () => {
    expect(fixture.surfaces.map((s) => s.id).sort()).toEqual([
      "real-time-queue-analytics",
      "real-time-queue-analytics-overview",
      "roles",
      "routing-engine-console",
      "teams-tab",
      "users",
      "wallboards",
    ]);
    const overview = fixture.surfaces.find((s) => s.id === "real-time-queue-analytics-overview");
    expect(overview?.requires).toEqual({ all: ["RptQueueAnalytics:Read", "RptQueueAnalyticsOverview:Read"] });
    expect(overview?.kind).toBe("widget");
    expect(byKey(fixture, "TeamTab").pages).toEqual(["Contact Center client > Teams tab"]);
    // Which privileges give admin actions is decided in the overrides, not by the parser.
    expect(fixture.adminRights).toEqual([]);
  });

  it("rejects a line that is not privilege ids followed by a description", () => {
    const broken =
      "Contact Center - General settings\n\nPrivilegesDescription\nPlace Outbound Call: allowed\n";
    expect(() => zoomContactCenterImporter.parse(broken)).toThrow(/line 4/);
  });
});

describe("zoom-contact-center data file", () => {
  it("holds all 144 privileges in the three settings sections", () => {
    expect(data.permissions).toHaveLength(144);
    expect(data.categories.map((c) => c.id)).toEqual([
      "contact-center-administration-settings",
      "contact-center-analytics-settings",
      "contact-center-general-settings",
    ]);
    const per = (id: string) => data.permissions.filter((p) => p.category === id).length;
    expect(per("contact-center-analytics-settings")).toBe(39);
    expect(per("contact-center-general-settings")).toBe(53);
    expect(per("contact-center-administration-settings")).toBe(52);
  });

  it("passes the structural checks: known references, no cycles, conventional selectors", () => {
    expect(systemFileProblems(data)).toEqual([]);
  });

  // Zoom document, the settings tables: Read and Edit of a resource are listed as a pair, and
  // nothing says Edit needs Read. The requirement is ours, and the data says so.
  it("makes every Edit of a Read/Edit pair require its Read, and nothing else, marked assumed", () => {
    const edits = data.permissions.filter((p) => p.requires !== null);
    expect(edits).toHaveLength(20); // 3 analytics pairs + 17 administration pairs
    for (const p of edits) expect(p.requires).toBe(p.key.replace(/:Edit$/, ":Read"));
    for (const p of edits) expect(p.assumptions, p.key).toEqual([EDIT_NEEDS_READ]);
    expect(data.permissions.filter((p) => p.assumptions !== undefined)).toHaveLength(20);
    expect(byKey(data, "RptDashboards:Edit").requires).toBe("RptDashboards:Read");
    expect(byKey(data, "RptCustomReportsShare:Edit").requires).toBeNull();
  });

  it("lets role management edit and assign roles, and user management only manage users", () => {
    const givers = (action: string) =>
      data.adminRights?.filter((r) => r.action === action).flatMap((r) => r.permissions);
    expect(givers("edit-roles")).toEqual(["RoleManagement:Edit"]);
    expect(givers("assign-roles")).toEqual(["RoleManagement:Edit"]);
    expect(givers("manage-users")).toEqual(["UserManagement:Edit"]);
    expect(data.adminRights?.find((r) => r.action === "edit-roles")?.section).toBe(
      "Privileges and Role Management for Contact Center",
    );
  });

  it("has no licenses and no default roles, since the document names none", () => {
    expect(data.licenses).toEqual([]);
    expect(data.defaultRoles).toEqual([]);
    expect(data.permissions.every((p) => p.licenses.length === 0 && p.status === "active")).toBe(true);
  });

  it("models the pages, client tabs and panels the privileges open", () => {
    const surface = (id: string) => data.surfaces.find((s) => s.id === id);
    expect(surface("wallboards")).toMatchObject({
      kind: "page",
      requires: "RptWallboard:Read",
      urlPattern: "/zoom-contact-center/analytics/wallboards*",
      selector: '[data-rolecall-surface="zoom-contact-center/wallboards"]',
    });
    expect(surface("roles")?.requires).toBe("RoleManagement:Read");
    expect(surface("teams-tab")).toMatchObject({ kind: "tab", urlPattern: "/zoom-contact-center/client*" });
    expect(surface("consumer-history")?.kind).toBe("panel");
    expect(surface("historical-queue-charts-overview")?.requires).toEqual({
      all: ["RptQueueChartReport:Read", "RptQueueChartReportOverView:Read"],
    });
    expect(data.surfaces).toHaveLength(52);
  });
});
