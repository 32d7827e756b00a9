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
    expect(fixture.categories.map((c) => c.name)).toEqual(["Page Level Admin", "Tag Group", "Web API"]);
    expect(byKey(fixture, "assign-tags").category).toBe("tag-group");
  });

  it("slugs names into keys and keeps the vendor's name", () => {
    expect(byKey(fixture, "access-audit-page").name).toBe("Access Audit Page");
    expect(byKey(fixture, "dnc-bulk-removal").name).toBe("DNC Bulk Removal");
  });

  it("turns written 'Requires' clauses into requirements, any-of where they say 'or'", () => {
    expect(byKey(fixture, "dnc-bulk-removal").requires).toBe("import-dnc-access");
    expect(byKey(fixture, "assign-tags").requires).toBe("view-assigned-tags");
    expect(byKey(fixture, "can-update-lead").requires).toEqual({
      any: ["can-get-lead", "lead-management-api-access"],
    });
    expect(byKey(fixture, "view-assigned-tags").requires).toBeNull();
  });

  it("summarizes without the vendor's preamble or the requirement clause", () => {
    expect(byKey(fixture, "access-audit-page").summary).toBe("Open the Auditing Page");
    expect(byKey(fixture, "dnc-bulk-removal").summary).toBe("Bulk remove DNCs");
    expect(byKey(fixture, "enable-time-zones").summary).toBe("Enable Time Zones");
  });

  it("derives page surfaces, including pages named without the word 'page', and a tab inside a page", () => {
    expect(surface(fixture, "auditing-page")).toMatchObject({
      kind: "page",
      requires: "access-audit-page",
      urlPattern: "/maxcontact/auditing*",
      selector: '[data-rolecall-surface="maxcontact/auditing-page"]',
    });
    expect(surface(fixture, "system-info-page")?.requires).toBe("can-access-system-info");
    expect(surface(fixture, "manager-portal-page")?.requires).toBe("portal-access");
    expect(surface(fixture, "list-manager-page")?.requires).toBe("list-manager-admin-access");
    expect(surface(fixture, "customreports-tab")).toMatchObject({
      kind: "tab",
      requires: { all: ["report-viewer-access", "custom-report-viewer-access"] },
      urlPattern: "/maxcontact/report-viewer*",
    });
    expect(byKey(fixture, "report-viewer-access").pages).toEqual([
      "Report Viewer page",
      "Report Viewer page > CustomReports tab",
    ]);
  });

  it("rejects a requirement naming a permission that does not exist", () => {
    const text = "Agent\nCan Redial: Allows the user to Redial Calls (Requires Can Dial)\n";
    expect(() => maxcontactImporter.parse(text)).toThrow(
      /line 2: 'Can Redial' requires unknown permission 'Can Dial'/,
    );
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

  it("administers roles with Permission Admin Access and has no licenses or default roles", () => {
    expect(data.roleAdministration).toEqual(["permission-admin-access"]);
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
