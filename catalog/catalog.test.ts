/**
 * The real catalog (`catalog/data/`): all five systems load together with zero errors, and the
 * facts every consumer relies on hold across them. Per-system facts live in each importer's tests.
 */
import { describe, expect, it } from "vitest";
import { ADMIN_ACTIONS, type AdminAction, type Catalog, type CatalogSystem } from "./catalog.js";
import { IMPORTERS } from "./import/importers.js";
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

/** The local keys that give `action` over a system, in the order the catalog lists them. */
function givers(id: string, action: AdminAction): string[] {
  return system(id)
    .adminRights.filter((r) => r.action === action)
    .flatMap((r) => r.permissions.map((k) => k.slice(id.length + 1)));
}

/** The admin actions a permission (local key) gives over its system. */
function actionsOf(id: string, localKey: string): AdminAction[] {
  return system(id)
    .adminRights.filter((r) => r.permissions.includes(`${id}/${localKey}`))
    .map((r) => r.action);
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
      for (const r of s.adminRights) {
        for (const k of r.permissions) need(`${s.id} adminRights ${r.action}`, k, c.permissions);
      }
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

  it("gives editing and assigning roles only to the permissions the documents name (issue 13)", () => {
    expect(givers("calabrio-one", "edit-roles")).toEqual(["administer-roles"]);
    expect(givers("calabrio-one", "assign-roles")).toEqual(["assign-user-roles"]);
    // "Assign User Roles": assigning roles to users and nothing more.
    expect(actionsOf("calabrio-one", "assign-user-roles")).toEqual(["assign-roles"]);
    // Zoom: the account owner (a tenant owner) or the role management privilege.
    expect(givers("zoom-contact-center", "edit-roles")).toEqual(["RoleManagement:Edit"]);
    expect(givers("zoom-contact-center", "assign-roles")).toEqual(["RoleManagement:Edit"]);
    expect(actionsOf("zoom-contact-center", "UserManagement:Edit")).toEqual(["manage-users"]);
    expect(givers("maxcontact", "edit-roles")).toEqual(["permission-admin-access"]);
    expect(givers("maxcontact", "assign-roles")).toEqual(["permission-admin-access"]);
    // Neither document names a permission over roles: only tenant owners administer them.
    expect(system("cxengage").adminRights).toEqual([]);
    expect(system("iadvize").adminRights).toEqual([]);
  });

  it("cites, for every admin right, the system's own document and a section, with a reason", async () => {
    for (const s of catalog().systems) {
      const seedFile = (await IMPORTERS[s.id as (typeof SYSTEM_IDS)[number]]()).seedFile;
      for (const r of s.adminRights) {
        const what = `${s.id} ${r.action}`;
        expect(ADMIN_ACTIONS, what).toContain(r.action);
        expect(r.document, what).toBe(seedFile);
        expect(r.section.trim(), what).not.toBe("");
        expect(r.reason.trim(), what).not.toBe("");
        expect(r.permissions.length, what).toBeGreaterThan(0);
        for (const k of r.permissions) expect(k.startsWith(`${s.id}/`), `${what}: ${k}`).toBe(true);
      }
    }
  });

  it("never gives an admin action to a permission a default non-administrator role holds", () => {
    // An administrator role is a default role with the id `administrator` (Calabrio ONE's and
    // CxEngage's Administrator); every other default role (Calabrio's Agent and Supervisor,
    // CxEngage's Agent and Supervisor, iAdvize's Manager, the template of custom roles) is not.
    // Held means granted, or implied by a grant (transitively). Otherwise every holder of that
    // role, a supervisor for instance, could administer the tenant.
    const c = catalog();
    const implied = (keys: readonly string[]): Set<string> => {
      const held = new Set<string>();
      const queue = [...keys];
      for (let key = queue.pop(); key !== undefined; key = queue.pop()) {
        if (held.has(key)) continue;
        held.add(key);
        queue.push(...(c.permissions.get(key)?.implies ?? []));
      }
      return held;
    };
    const violations: string[] = [];
    for (const s of c.systems) {
      for (const role of s.defaultRoles.filter((r) => r.id !== "administrator")) {
        const held = implied(role.grants);
        for (const right of s.adminRights) {
          for (const k of right.permissions) {
            if (held.has(k))
              violations.push(`${s.id}: default role '${role.id}' holds ${k} (${right.action})`);
          }
        }
      }
    }
    expect(violations).toEqual([]);
    // The rule has teeth: the systems with default non-administrator roles are checked.
    expect(
      c.systems.filter((s) => s.defaultRoles.some((r) => r.id !== "administrator")).map((s) => s.id),
    ).toEqual(["calabrio-one", "cxengage", "iadvize"]);
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
