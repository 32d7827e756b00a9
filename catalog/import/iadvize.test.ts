import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { PermissionEntry, SystemFile } from "../schema.js";
import { iadvizeImporter } from "./iadvize.js";
import { systemFileProblems } from "./invariants.js";

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");
const fixture = iadvizeImporter.parse(read("./fixtures/iadvize-custom-roles.txt"));
const data = JSON.parse(read("../data/iadvize.json")) as SystemFile;
const byKey = (file: SystemFile, key: string): PermissionEntry => {
  const found = file.permissions.find((p) => p.key === key);
  if (!found) throw new Error(`no permission ${key}`);
  return found;
};
const surface = (file: SystemFile, id: string) => file.surfaces.find((s) => s.id === id);
const WEBSITE_KPIS =
  "access-to-website-sales-indicators-website-turnover-website-transactions-and-website-aov";

describe("iadvize importer on a fixture", () => {
  it("splits each glued line into the permission name and its description", () => {
    expect(fixture.permissions.map((p) => [p.key, p.name])).toEqual([
      [
        "access-to-order-figures-basket-size-order-count-and-average-spend",
        "Access to order figures (basket size, order count and average spend)",
      ],
      ["access-to-supervision-report", "Access to Supervision report"],
      ["access-to-reports", "Access to Reports"],
      ["access-to-shift-planner", "Access to Shift Planner"],
    ]);
    expect(fixture.categories).toEqual([{ id: "user-permissions", name: "User permissions" }]);
  });

  it("turns 'mandatory to activate ... beforehand' into a requirement", () => {
    expect(byKey(fixture, "access-to-supervision-report").requires).toBe("access-to-reports");
    expect(byKey(fixture, "access-to-reports").requires).toBeNull();
  });

  it("uses our summary where written and the description's first sentence otherwise", () => {
    expect(byKey(fixture, "access-to-reports").summary).toBe("Manage everything in the reporting area");
    expect(byKey(fixture, "access-to-shift-planner").summary).toBe(
      "Gives users the planner where conversation shifts are drawn up",
    );
  });

  it("only emits surfaces whose permissions the text defines", () => {
    expect(surface(fixture, "automation-tab")).toBeUndefined();
    expect(surface(fixture, "people-tab")).toBeUndefined();
    expect(surface(fixture, "production-report")).toBeUndefined();
    expect(surface(fixture, "supervision-report")?.requires).toBe("access-to-supervision-report");
    expect(surface(fixture, "reports-tab")?.requires).toBe("access-to-reports");
    expect(byKey(fixture, "access-to-supervision-report").pages).toEqual([
      "Admin > Reports > Supervision report",
    ]);
  });

  it("ends the table at the line holding only a non-breaking space", () => {
    expect(fixture.permissions).toHaveLength(4);
  });

  it("rejects a requirement on an option the table does not define", () => {
    const text = read("./fixtures/iadvize-custom-roles.txt").replace(
      '"access to reports"',
      '"access to billing"',
    );
    expect(() => iadvizeImporter.parse(text)).toThrow(/unknown permission 'access to billing'/);
  });
});

describe("iadvize data file", () => {
  it("holds the seven documented permissions, keyed by slugs of their names", () => {
    expect(data.permissions.map((p) => p.key)).toEqual([
      "access-to-automation",
      "access-to-people",
      "access-to-production-report",
      "access-to-reports",
      "access-to-supervision-report",
      "access-to-user-performance-data-in-reports",
      WEBSITE_KPIS,
    ]);
  });

  it("passes the structural checks: known references, no cycles, conventional selectors", () => {
    expect(systemFileProblems(data)).toEqual([]);
  });

  it("makes the Supervision and Production reports require access to reports, nothing else", () => {
    expect(byKey(data, "access-to-supervision-report").requires).toBe("access-to-reports");
    expect(byKey(data, "access-to-production-report").requires).toBe("access-to-reports");
    expect(data.permissions.filter((p) => p.requires !== null)).toHaveLength(2);
  });

  it("has the Manager role as the template of custom roles", () => {
    expect(data.defaultRoles).toHaveLength(1);
    expect(data.defaultRoles[0]).toMatchObject({ id: "manager", name: "Manager", template: true });
    expect(data.defaultRoles[0]?.grants).toHaveLength(7);
    // Manager holds all seven permissions, so none may give an admin action: owners only.
    expect(data.adminRights).toEqual([]);
  });

  it("models the tabs, reports and custom role page the article names", () => {
    expect(data.surfaces.map((s) => s.id).sort()).toEqual([
      "automation-tab",
      "custom-role-page",
      "people-tab",
      "production-report",
      "reports-tab",
      "sales-activity-report",
      "supervision-report",
      "website-sales-indicators",
    ]);
    expect(surface(data, "custom-role-page")).toMatchObject({
      kind: "page",
      location: "People > Management > Custom Role",
      requires: "access-to-people",
      selector: '[data-rolecall-surface="iadvize/custom-role-page"]',
    });
    expect(surface(data, "reports-tab")).toMatchObject({ kind: "tab", requires: "access-to-reports" });
    expect(surface(data, "website-sales-indicators")?.requires).toEqual({
      all: ["access-to-reports", WEBSITE_KPIS],
    });
  });
});
