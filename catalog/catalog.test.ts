/**
 * The real catalog (`catalog/data/`): all five systems load together with zero errors, and the
 * facts every consumer relies on hold across them. Per-system facts live in each importer's tests.
 */
import { describe, expect, it } from "vitest";
import type { Catalog, CatalogSystem } from "./catalog.js";
import { CatalogError, formatCatalogIssue, loadCatalog } from "./loader.js";
import { evaluateRequirement, formatRequirement, parseRequirement, requirementKeys } from "./requirement.js";
import { SYSTEM_IDS } from "./schema.js";

/** Loads once; a CatalogError becomes a readable failure listing every problem. */
const load = (() => {
  let result: { catalog: Catalog } | { problems: string } | undefined;
  return (): { catalog: Catalog } | { problems: string } => {
    if (result !== undefined) return result;
    try {
      result = { catalog: loadCatalog() };
    } catch (err) {
      if (!(err instanceof CatalogError)) throw err;
      result = { problems: err.issues.map(formatCatalogIssue).join("\n") };
    }
    return result;
  };
})();

function catalog(): Catalog {
  const result = load();
  if ("problems" in result) throw new Error(`the catalog does not load:\n${result.problems}`);
  return result.catalog;
}

function system(id: string): CatalogSystem {
  const found = catalog().systems.find((s) => s.id === id);
  if (found === undefined) throw new Error(`system '${id}' is not in the catalog`);
  return found;
}

describe("the real catalog", () => {
  it("loads with zero errors", () => {
    const result = load();
    expect("problems" in result ? result.problems : "").toBe("");
  });

  it("holds the five seed systems, in catalog order", () => {
    expect(catalog().systems.map((s) => s.id)).toEqual([...SYSTEM_IDS]);
  });

  it("reaches the documented permission counts", () => {
    const calabrio = system("calabrio-one").permissions.length;
    expect(calabrio).toBeGreaterThanOrEqual(170);
    expect(calabrio).toBeLessThanOrEqual(178);
    expect(system("zoom-contact-center").permissions).toHaveLength(144);
    expect(system("cxengage").permissions).toHaveLength(21);
    expect(system("maxcontact").permissions).toHaveLength(233);
    expect(system("maxcontact").categories).toHaveLength(12);
    expect(new Set(system("maxcontact").permissions.map((p) => p.category)).size).toBe(12);
    expect(system("iadvize").permissions).toHaveLength(7);
  });

  it("gives every permission, license and surface a unique qualified id of the form system/local", () => {
    const c = catalog();
    const all = <T>(pick: (s: CatalogSystem) => readonly T[]) => c.systems.flatMap(pick);
    expect(c.permissions.size).toBe(all((s) => s.permissions).length);
    expect(c.licenses.size).toBe(all((s) => s.licenses).length);
    expect(c.surfaces.size).toBe(all((s) => s.surfaces).length);
    for (const s of c.systems) {
      for (const p of s.permissions) expect(p.key).toBe(`${s.id}/${p.localKey}`);
      for (const l of s.licenses) expect(l.id.startsWith(`${s.id}/`)).toBe(true);
      for (const x of s.surfaces) expect(x.id.startsWith(`${s.id}/`)).toBe(true);
    }
  });

  it("resolves every reference: requirements, implications, licenses, surfaces, roles", () => {
    const c = catalog();
    const unresolved: string[] = [];
    const need = (where: string, key: string, known: ReadonlyMap<string, unknown>) => {
      if (!known.has(key)) unresolved.push(`${where}: ${key}`);
    };
    for (const p of c.permissions.values()) {
      for (const k of p.requires === null ? [] : requirementKeys(p.requires)) need(p.key, k, c.permissions);
      for (const k of p.implies) need(p.key, k, c.permissions);
      for (const l of p.licenses) need(p.key, l, c.licenses);
    }
    for (const s of c.surfaces.values()) {
      const keys = requirementKeys(s.requires);
      expect(keys.length, `${s.id} requires nothing`).toBeGreaterThan(0);
      for (const k of keys) need(s.id, k, c.permissions);
    }
    for (const s of c.systems) {
      for (const k of s.roleAdministration) need(`${s.id} roleAdministration`, k, c.permissions);
      for (const r of s.defaultRoles) {
        for (const k of [...r.grants, ...r.required]) need(`${s.id} role ${r.id}`, k, c.permissions);
        for (const l of r.licenses) need(`${s.id} role ${r.id}`, l, c.licenses);
      }
    }
    expect(unresolved).toEqual([]);
  });

  it("writes every requirement as text the API can show and read back", () => {
    const c = catalog();
    const requirements = [
      ...[...c.permissions.values()].flatMap((p) => (p.requires === null ? [] : [p.requires])),
      ...[...c.surfaces.values()].map((s) => s.requires),
    ];
    for (const r of requirements) expect(parseRequirement(formatRequirement(r))).toEqual(r);
  });

  it("lets every system's roles be administered by some permission", () => {
    for (const s of catalog().systems) expect(s.roleAdministration.length, s.id).toBeGreaterThan(0);
  });

  it("shows the CxEngage Contact Management panel only with all ten Contact Management permissions", () => {
    const panel = catalog().surfaces.get("cxengage/contact-management-panel");
    expect(panel).toBeDefined();
    const ten = [
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
    ].map((k) => `cxengage/${k}`);
    expect([...requirementKeys(panel!.requires)].sort()).toEqual([...ten].sort());
    expect(evaluateRequirement(panel!.requires, (k) => ten.includes(k))).toBe(true);
    for (const left of ten) {
      expect(
        evaluateRequirement(panel!.requires, (k) => k !== left && ten.includes(k)),
        left,
      ).toBe(false);
    }
  });

  it("makes CxEngage _ALL permissions imply their _SELF variants", () => {
    const c = catalog();
    const all = [...c.permissions.values()].filter(
      (p) => p.system === "cxengage" && p.localKey.endsWith("_ALL"),
    );
    const paired = all.filter((p) => c.permissions.has(p.key.replace(/_ALL$/, "_SELF")));
    expect(paired.map((p) => p.localKey)).toContain("NOTES_READ_ALL");
    for (const p of paired) {
      expect(p.implies, p.key).toContain(p.key.replace(/_ALL$/, "_SELF"));
      expect(p.scope, p.key).toBe("all");
      expect(c.permissions.get(p.key.replace(/_ALL$/, "_SELF"))?.scope).toBe("self");
    }
  });

  it("makes every Zoom X:Edit require its X:Read", () => {
    const c = catalog();
    const edits = [...c.permissions.values()].filter(
      (p) => p.system === "zoom-contact-center" && p.localKey.endsWith(":Edit"),
    );
    expect(edits.length).toBeGreaterThan(40);
    for (const edit of edits) {
      const read = edit.key.replace(/:Edit$/, ":Read");
      if (!c.permissions.has(read)) continue;
      expect(edit.requires === null ? [] : requirementKeys(edit.requires), edit.key).toContain(read);
    }
  });

  it("names Calabrio ONE's licenses and default roles as documented", () => {
    const licenses = system("calabrio-one").licenses.map((l) => l.id);
    for (const id of [
      "calabrio-one-access",
      "quality-management",
      "compliance-recording",
      "analytics",
      "monitoring",
      "insights-author",
      "bot-analytics",
      "system-administrator",
    ]) {
      expect(licenses).toContain(`calabrio-one/${id}`);
    }
    expect(system("calabrio-one").defaultRoles.map((r) => r.id)).toEqual(
      expect.arrayContaining(["administrator", "agent", "supervisor"]),
    );
  });
});
