import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { PermissionEntry, SystemFile } from "../schema.js";
import { systemFileProblems } from "./invariants.js";
import { maxcontactImporter } from "./maxcontact.js";

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");
const fixture = maxcontactImporter.parse(read("./fixtures/maxcontact-permission-definitions.txt"));
const data = JSON.parse(read("../data/maxcontact.json")) as SystemFile;
const byKey = (file: SystemFile, key: string): PermissionEntry => {
  const found = file.permissions.find((p) => p.key === key);
  if (!found) throw new Error(`no permission ${key}`);
  return found;
};
const surface = (file: SystemFile, id: string) => file.surfaces.find((s) => s.id === id);

describe("maxcontact importer on a fixture", () => {
  it("reads categories from heading lines and skips the introduction", () => {
    expect(fixture.categories.map((c) => c.name)).toEqual(["Floor Admin", "Label Group", "Web API"]);
    expect(byKey(fixture, "attach-labels").category).toBe("label-group");
    expect(byKey(fixture, "upload-csv-access").category).toBe("floor-admin");
  });

  it("slugs names into keys and keeps the vendor's name", () => {
    expect(byKey(fixture, "open-call-log").name).toBe("Open Call Log");
    expect(byKey(fixture, "csv-bulk-purge").name).toBe("CSV Bulk Purge");
  });

  it("turns written 'Requires' clauses into requirements, any-of where they say 'or'", () => {
    expect(byKey(fixture, "csv-bulk-purge").requires).toBe("upload-csv-access");
    expect(byKey(fixture, "attach-labels").requires).toBe("see-own-labels");
    expect(byKey(fixture, "can-change-record").requires).toEqual({
      any: ["can-fetch-record", "record-api-access"],
    });
    expect(byKey(fixture, "see-own-labels").requires).toBeNull();
  });

  it("summarizes without the vendor's preamble or the requirement clause", () => {
    expect(byKey(fixture, "open-call-log").summary).toBe("Open the Call Log Page");
    expect(byKey(fixture, "csv-bulk-purge").summary).toBe("Purge uploaded records in bulk");
    expect(byKey(fixture, "enable-quiet-hours").summary).toBe("Enable Quiet Hours");
  });

  it("derives page surfaces, including pages named without the word 'page', and a tab inside a page", () => {
    expect(surface(fixture, "call-log-page")).toMatchObject({
      kind: "page",
      requires: "open-call-log",
      urlPattern: "/maxcontact/call-log*",
      selector: '[data-rolecall-surface="maxcontact/call-log-page"]',
    });
    expect(surface(fixture, "health-check-page")?.requires).toBe("can-open-health-check");
    expect(surface(fixture, "manager-portal-page")?.requires).toBe("portal-access");
    expect(surface(fixture, "list-manager-page")?.requires).toBe("list-manager-admin-access");
    expect(surface(fixture, "scorecards-tab")).toMatchObject({
      kind: "tab",
      requires: { all: ["wallboard-designer-access", "scorecard-tab-access"] },
      urlPattern: "/maxcontact/wallboard-designer*",
    });
    expect(byKey(fixture, "wallboard-designer-access").pages).toEqual([
      "Wallboard Designer page",
      "Wallboard Designer page > Scorecards tab",
    ]);
  });

  it("rejects a requirement naming a permission that does not exist", () => {
    const text =
      "Dialler\nCan Call Back: Allows the user to return a missed call (Requires Can Place Calls)\n";
    expect(() => maxcontactImporter.parse(text)).toThrow(
      /line 2: 'Can Call Back' requires unknown permission 'Can Place Calls'/,
    );
  });

  it("rejects a permission above the first heading, and two names with one key", () => {
    expect(() => maxcontactImporter.parse("Can Call Back: Allows the user to return a call\n")).toThrow(
      /line 1: a permission before any category/,
    );
    const twice = "Dialler\nCan Call Back: Allows a call back\nCan Call-Back: Allows a call back\n";
    expect(() => maxcontactImporter.parse(twice)).toThrow(/line 3: duplicate key 'can-call-back'/);
  });
});

describe("maxcontact data file", () => {
  it("holds 233 permissions in the 12 documented categories", () => {
    expect(data.permissions).toHaveLength(233);
    expect(data.categories).toHaveLength(12);
    const count = (name: string) => {
      const id = data.categories.find((c) => c.name === name)?.id;
      return data.permissions.filter((p) => p.category === id).length;
    };
    expect(count("Page Level Admin")).toBe(78);
    expect(count("Tag Group")).toBe(5);
    expect(count("QA")).toBe(12);
    expect(count("Dashboard")).toBe(3);
    expect(count("Agent")).toBe(50);
    expect(count("Telephony")).toBe(9);
    expect(count("Web API")).toBe(35);
    expect(count("Lead Management")).toBe(7);
    expect(count("CTU")).toBe(9);
    expect(count("Email Templating")).toBe(4);
    expect(count("Scripting")).toBe(3);
    expect(count("Omni Channel")).toBe(18);
  });

  it("passes the structural checks: known references, no cycles, conventional selectors", () => {
    expect(systemFileProblems(data)).toEqual([]);
  });

  it("keeps the documented dependencies and the two decided in the overrides", () => {
    const withRequirement = Object.fromEntries(
      data.permissions.filter((p) => p.requires !== null).map((p) => [p.key, p.requires]),
    );
    expect(withRequirement).toEqual({
      "assign-tags": "view-assigned-tags",
      "dnc-bulk-removal": "import-dnc-access",
      "lead-management-reset-attempts-access": "lead-management-reset-access",
      "lead-management-reset-final-access": "lead-management-reset-access",
      "view-all-tags": "view-assigned-tags",
    });
  });

  it("keeps near-identical names apart as distinct keys", () => {
    const keys = new Set(data.permissions.map((p) => p.key));
    for (const key of [
      "can-access-pre-chat-questions",
      "can-access-pre-chat-questions-history",
      "agent-access-pre-chat-questions",
      "can-hang-up",
      "can-hang-up-call",
      "can-delete-callback",
      "can-delete-callbacks",
      "allows-access-to-script-manager",
      "settings-outbound-skills-groups",
      "inbound-numbers-number-reservation-override",
    ]) {
      expect(keys).toContain(key);
    }
  });

  it("edits and assigns roles with Permission Admin Access and has no licenses or default roles", () => {
    const givers = (action: string) =>
      data.adminRights?.filter((r) => r.action === action).flatMap((r) => r.permissions);
    expect(givers("edit-roles")).toEqual(["permission-admin-access"]);
    expect(givers("assign-roles")).toEqual(["permission-admin-access"]);
    expect(givers("manage-users")).toEqual(["user-admin-access"]);
    expect(surface(data, "permissions-page")?.requires).toBe("permission-admin-access");
    expect(data.licenses).toEqual([]);
    expect(data.defaultRoles).toEqual([]);
  });

  it("models the pages the descriptions name", () => {
    expect(data.surfaces).toHaveLength(51);
    expect(data.surfaces.every((s) => s.kind === "page" || s.id === "customreports-tab")).toBe(true);
    expect(surface(data, "campaign-management-page")?.requires).toBe("campaign-and-list-management");
    expect(surface(data, "script-manager-page")?.requires).toBe("allows-access-to-script-manager");
    expect(surface(data, "web-agent-contact-hub-page")?.requires).toBe("web-agent-access");
    expect(surface(data, "marketplace-page")?.requires).toBe("view-manage-marketplace");
    expect(surface(data, "list-manager-history-page")?.urlPattern).toBe("/maxcontact/list-manager/history*");
    expect(byKey(data, "access-audit-page").pages).toEqual(["Auditing page"]);
  });

  it("corrects summaries the vendor text gets wrong, with the reason kept in the overrides", () => {
    expect(byKey(data, "lead-management-reset-attempts-access").summary).toBe(
      "Reset lead attempts within the reset lead task",
    );
    expect(byKey(data, "can-create-users").summary).toBe("Create users in CTU");
  });
});
