import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { PermissionEntry, SystemFile } from "../schema.js";
import { ALL_IMPLIES_SELF, CONTACT_MANAGEMENT_PANEL, cxengageImporter } from "./cxengage.js";
import { systemFileProblems } from "./invariants.js";

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");
const fixture = cxengageImporter.parse(read("./fixtures/cxengage-skylight-permissions.txt"));
const data = JSON.parse(read("../data/cxengage.json")) as SystemFile;
const byKey = (file: SystemFile, key: string): PermissionEntry => {
  const found = file.permissions.find((p) => p.key === key);
  if (!found) throw new Error(`no permission ${key}`);
  return found;
};

const PANEL_PERMISSIONS = [
  "CONTACTS_CREATE",
  "CONTACTS_UPDATE",
  "CONTACTS_READ",
  "CONTACTS_MERGE_UNMERGE",
  "CONTACTS_DELETE",
  "CONTACTS_ATTRIBUTES_READ",
  "CONTACTS_LAYOUTS_READ",
  "CONTACTS_ASSIGN_INTERACTION",
  "CONTACTS_INTERACTION_HISTORY_READ",
  "ARTIFACTS_CREATE_ALL",
];

describe("cxengage importer on a fixture", () => {
  it("reads each table under its heading, skipping the lead-in line", () => {
    expect(fixture.categories).toEqual([
      { id: "contact-records", name: "Contact Records" },
      { id: "memos", name: "Memos" },
      { id: "record-layouts", name: "Record Layouts" },
      { id: "attachments", name: "Attachments" },
      { id: "dashboards", name: "Dashboards" },
    ]);
    expect(byKey(fixture, "MEMOS_VIEW_SELF").category).toBe("memos");
    expect(fixture.permissions).toHaveLength(8);
  });

  it("makes _ALL imply _SELF and scopes only the pairs", () => {
    expect(byKey(fixture, "MEMOS_VIEW_ALL")).toMatchObject({ implies: ["MEMOS_VIEW_SELF"], scope: "all" });
    expect(byKey(fixture, "MEMOS_VIEW_SELF")).toMatchObject({ implies: [], scope: "self" });
    // A lone _SELF or _ALL has no twin to be scoped against; overrides decide those.
    expect(byKey(fixture, "ARTIFACTS_READ_SELF").scope).toBeNull();
    expect(byKey(fixture, "MEMOS_WRITE_ALL")).toMatchObject({ implies: [], scope: null });
  });

  it("builds the Contact Management panel from the bulleted list", () => {
    const panel = fixture.surfaces.find((s) => s.id === CONTACT_MANAGEMENT_PANEL);
    expect(panel).toMatchObject({
      kind: "panel",
      requires: { all: ["CONTACTS_READ", "LAYOUTS_VIEW", "ARTIFACTS_WRITE_ALL"] },
      selector: '[data-rolecall-surface="cxengage/contact-management-panel"]',
    });
    expect(fixture.surfaces.find((s) => s.id === "contact-history-tab")?.requires).toBe(
      "ARTIFACTS_READ_SELF",
    );
  });

  it("uses our summary where written and falls back to a trimmed description otherwise", () => {
    expect(byKey(fixture, "CONTACTS_READ").summary).toBe("See contact records and their custom attributes");
    expect(byKey(fixture, "SOMETHING_NEW").summary).toBe("try a permission this importer has no summary for");
  });

  it("rejects a panel list naming a permission no table defines", () => {
    const text = read("./fixtures/cxengage-skylight-permissions.txt").replace(
      "- CONTACTS_READ",
      "- CONTACTS_READX",
    );
    expect(() => cxengageImporter.parse(text)).toThrow(/CONTACTS_READX/);
  });
});

describe("cxengage data file", () => {
  it("holds the 21 documented permissions in six categories", () => {
    expect(data.permissions).toHaveLength(21);
    expect(data.categories.map((c) => c.name).sort()).toEqual([
      "Artifacts",
      "Contact Attributes",
      "Contact Layouts",
      "Contact Management",
      "Notes",
      "Reporting",
    ]);
    expect(byKey(data, "CONTACTS_READ").category).toBe("contact-management");
    expect(byKey(data, "AGENT_EXPERIENCE_METRICS_VIEW").category).toBe("reporting");
  });

  it("passes the structural checks: known references, no cycles, conventional selectors", () => {
    expect(systemFileProblems(data)).toEqual([]);
  });

  it("shows the Contact Management panel only with all ten listed permissions", () => {
    const panel = data.surfaces.find((s) => s.id === "contact-management-panel");
    expect(panel).toMatchObject({
      label: "Contact Management panel",
      kind: "panel",
      urlPattern: "/cxengage/agent-desktop*",
      selector: '[data-rolecall-surface="cxengage/contact-management-panel"]',
    });
    expect(panel?.requires).toEqual({ all: PANEL_PERMISSIONS });
  });

  // CxEngage document, Notes and Artifacts tables: the _ALL and _SELF variants are described
  // apart; that _ALL includes _SELF is ours, and the data says so.
  it("scopes tenant-wide and own-interaction reads, with _ALL implying _SELF, marked assumed", () => {
    expect(byKey(data, "NOTES_READ_ALL")).toMatchObject({ scope: "all", implies: ["NOTES_READ_SELF"] });
    for (const key of ["NOTES_READ_ALL", "ARTIFACTS_READ_ALL"])
      expect(byKey(data, key).assumptions, key).toEqual([ALL_IMPLIES_SELF]);
    // The lone tenant-wide create permissions get their scope from an assumed override.
    expect(byKey(data, "NOTES_CREATE_ALL").assumptions?.map((a) => a.field)).toEqual(["scope"]);
    // The default roles' contents are invented: the whole entry is marked.
    for (const role of data.defaultRoles)
      expect(role.assumptions, role.id).toEqual([{ reason: expect.any(String) }]);
    expect(byKey(data, "ARTIFACTS_READ_ALL")).toMatchObject({
      scope: "all",
      implies: ["ARTIFACTS_READ_SELF"],
    });
    expect(byKey(data, "NOTES_READ_SELF").scope).toBe("self");
    expect(byKey(data, "ARTIFACTS_READ_SELF").scope).toBe("self");
    // Decided in the overrides: the create permissions are tenant-wide though they have no twin.
    expect(byKey(data, "NOTES_CREATE_ALL").scope).toBe("all");
    expect(byKey(data, "ARTIFACTS_CREATE_ALL").scope).toBe("all");
    expect(byKey(data, "CONTACTS_READ").scope).toBeNull();
    expect(data.permissions.filter((p) => p.implies.length > 0)).toHaveLength(2);
  });

  it("gives the default Agent role the panel but not tenant-wide reads or configuration", () => {
    const role = (id: string) => data.defaultRoles.find((r) => r.id === id);
    const agent = role("agent");
    expect(agent?.grants).toEqual(expect.arrayContaining(PANEL_PERMISSIONS));
    expect(agent?.grants).toEqual(
      expect.arrayContaining(["NOTES_READ_SELF", "AGENT_EXPERIENCE_METRICS_VIEW"]),
    );
    expect(agent?.grants).not.toContain("NOTES_READ_ALL");
    expect(agent?.grants).not.toContain("CONTACTS_LAYOUTS_UPDATE");
    expect(role("supervisor")?.grants).toHaveLength(21);
    expect(role("administrator")?.grants).toHaveLength(21);
    expect(role("administrator")?.required).toEqual([]);
  });

  it("gives no permission an admin action (only tenant owners administer it), needs no license", () => {
    expect(data.adminRights).toEqual([]);
    expect(data.licenses).toEqual([]);
  });

  it("models the configuration pages and the artifacts History tab", () => {
    const surface = (id: string) => data.surfaces.find((s) => s.id === id);
    expect(surface("contact-layouts-page")).toMatchObject({
      kind: "page",
      requires: "CONTACTS_LAYOUTS_READ",
    });
    expect(surface("contact-attributes-page")?.requires).toBe("CONTACTS_ATTRIBUTES_READ");
    expect(surface("contact-history-tab")?.requires).toEqual({
      any: ["ARTIFACTS_READ_ALL", "ARTIFACTS_READ_SELF"],
    });
    expect(byKey(data, "CONTACTS_LAYOUTS_READ").pages).toContain("Configuration interface > Contact Layouts");
  });
});
