import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { checkCatalog } from "./check.js";
import {
  buildCatalog,
  CatalogError,
  type CatalogIssue,
  defaultCatalogDir,
  formatCatalogIssue,
  loadCatalog,
} from "./loader.js";

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const good = join(fixtures, "good");
const readFixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(good, `${name}.json`), "utf8")) as Record<string, unknown>;

/** The good fixtures as sources, with `edit` applied to a fresh copy of alpha. */
function sources(edit: (alpha: Record<string, unknown>) => void = () => {}) {
  const alpha = readFixture("alpha");
  edit(alpha);
  return [
    { file: "data/alpha.json", data: alpha },
    { file: "data/beta.json", data: readFixture("beta") },
  ];
}

/** The issues `fn` throws as a CatalogError; fails the test when it does not throw one. */
function issuesOf(fn: () => unknown): readonly CatalogIssue[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogError);
    expect((err as Error).name).toBe("CatalogError");
    return (err as CatalogError).issues;
  }
  throw new Error("expected a CatalogError, but the catalog loaded");
}

type Json = Record<string, unknown> & { permissions: Record<string, unknown>[] };
/** A valid admin right of alpha, with `changes` applied. */
const adminRight = (changes: Record<string, unknown> = {}): Record<string, unknown> => ({
  action: "edit-roles",
  permissions: ["manage-roles"],
  document: "alpha-guide.txt",
  section: "Roles",
  reason: "The guide lets role managers edit roles.",
  ...changes,
});
/** Moves alpha from the legacy roleAdministration to one adminRights entry with `changes`. */
const useAdminRights = (alpha: Record<string, unknown>, changes: Record<string, unknown>): void => {
  delete alpha.roleAdministration;
  alpha.adminRights = [adminRight(changes)];
};
const permission = (alpha: Record<string, unknown>, key: string): Record<string, unknown> =>
  (alpha as Json).permissions.find((p) => p.key === key)!;
const list = (alpha: Record<string, unknown>, field: string): Record<string, unknown>[] =>
  alpha[field] as Record<string, unknown>[];

describe("loadCatalog on valid files", () => {
  const catalog = loadCatalog(good);

  it("loads every system in a stable order with qualified keys", () => {
    expect(catalog.systems.map((s) => s.id)).toEqual(["alpha", "beta"]);
    expect([...catalog.permissions.keys()]).toEqual([
      "alpha/edit-contacts",
      "alpha/legacy-export",
      "alpha/manage-roles",
      "alpha/monitor",
      "alpha/notes-read-all",
      "alpha/notes-read-self",
      "alpha/view-contacts",
      "alpha/view-scored-contacts",
      "beta/access-reports",
      "beta/view-reports",
    ]);
    expect([...catalog.licenses.keys()]).toEqual(["alpha/basic", "alpha/pro"]);
    expect([...catalog.surfaces.keys()]).toEqual([
      "alpha/contacts-panel",
      "alpha/roles-page",
      "beta/reports-page",
    ]);
  });

  it("qualifies every reference of a permission", () => {
    expect(catalog.permissions.get("alpha/edit-contacts")).toEqual({
      key: "alpha/edit-contacts",
      system: "alpha",
      localKey: "edit-contacts",
      name: "Edit Contacts",
      category: "contacts",
      categoryName: "Contacts",
      summary: "Change contact records.",
      pages: ["Contacts > Edit"],
      licenses: ["alpha/pro"],
      requires: { any: ["alpha/view-contacts", "alpha/view-scored-contacts"] },
      implies: [],
      status: "active",
      mutual: false,
      scope: null,
    });
    expect(catalog.permissions.get("alpha/manage-roles")?.requires).toEqual({
      all: ["alpha/view-contacts", "beta/access-reports"],
    });
    expect(catalog.permissions.get("alpha/notes-read-all")?.implies).toEqual(["alpha/notes-read-self"]);
    expect(catalog.permissions.get("alpha/notes-read-all")?.scope).toBe("all");
    expect(catalog.permissions.get("alpha/legacy-export")?.status).toBe("unused");
    expect(catalog.permissions.get("alpha/monitor")?.mutual).toBe(true);
  });

  it("qualifies surfaces (normalizing their requirement), roles and role administration", () => {
    expect(catalog.surfaces.get("alpha/contacts-panel")?.requires).toEqual({
      all: ["alpha/view-contacts", "alpha/edit-contacts"],
    });
    expect(catalog.surfaces.get("beta/reports-page")?.requires).toEqual({
      any: ["beta/view-reports", "alpha/manage-roles"],
    });
    const alpha = catalog.systems[0]!;
    // alpha still writes the legacy roleAdministration list: read as editing and assigning roles.
    expect(alpha.adminRights).toEqual(
      ["edit-roles", "assign-roles"].map((action) => ({
        action,
        permissions: ["alpha/manage-roles"],
        document: "alpha.json",
        section: "roleAdministration",
        reason: "legacy roleAdministration list: read as the right to edit and assign roles",
        assumed: true,
      })),
    );
    expect(alpha.defaultRoles.find((r) => r.id === "agent")).toEqual({
      id: "agent",
      system: "alpha",
      name: "Agent",
      grants: ["alpha/view-contacts", "alpha/notes-read-self"],
      required: ["alpha/view-contacts"],
      licenses: ["alpha/basic"],
      template: true,
    });
    expect(alpha.licenses).toEqual([
      { id: "alpha/basic", system: "alpha", name: "Basic" },
      { id: "alpha/pro", system: "alpha", name: "Pro" },
    ]);
  });

  it("reads adminRights as written, qualified, with assumed false unless given", () => {
    expect(catalog.systems[1]!.adminRights).toEqual([
      {
        action: "edit-roles",
        permissions: ["beta/access-reports"],
        document: "beta-guide.txt",
        section: "Managing roles",
        reason: "The guide lets report administrators edit roles.",
        assumed: false,
      },
      {
        action: "read-decisions",
        permissions: ["beta/access-reports", "beta/view-reports"],
        document: "beta-guide.txt",
        section: "Reports",
        reason: "Reports show who may do what.",
        assumed: false,
      },
    ]);
  });

  it("gives no admin right to a system whose file names none (only tenant owners administer it)", () => {
    const without = buildCatalog(sources((a) => delete a.roleAdministration));
    expect(without.systems[0]!.adminRights).toEqual([]);
    const empty = buildCatalog(sources((a) => Object.assign(a, { roleAdministration: [] })));
    expect(empty.systems[0]!.adminRights).toEqual([]);
  });

  it("loads files without the optional fields as before: none of them appears", () => {
    for (const p of catalog.permissions.values()) {
      expect(p.actorRequires, p.key).toBeUndefined();
      expect(p.tenantLicenses, p.key).toBeUndefined();
      expect(p.assumptions, p.key).toBeUndefined();
    }
    for (const l of catalog.licenses.values())
      expect(Object.keys(l).sort(), l.id).toEqual(["id", "name", "system"]);
  });

  // The Calabrio document's rules the model gained: a requirement of the acting user only (live
  // monitoring), a license the tenant itself must have (View [Product] Data), licenses held by the
  // tenant (Interaction Summary), not for sale and granting by default (Performance Coaching).
  it("reads the optional fields, qualified, and the assumptions as written", () => {
    const files = sources((a) => {
      Object.assign(permission(a, "monitor"), {
        actorRequires: { any: ["manage-roles", "beta/view-reports"] },
        tenantLicenses: ["pro"],
        assumptions: [{ field: "actorRequires", reason: "ours" }, { reason: "all of it" }],
      });
      Object.assign(list(a, "licenses")[0]!, {
        heldBy: "tenant",
        purchasable: false,
        defaultGrants: ["monitor"],
      });
      Object.assign(list(a, "defaultRoles")[0]!, { assumptions: [{ field: "grants", reason: "invented" }] });
    });
    const built = buildCatalog(files);
    const monitor = built.permissions.get("alpha/monitor")!;
    expect(monitor.actorRequires).toEqual({ any: ["alpha/manage-roles", "beta/view-reports"] });
    expect(monitor.tenantLicenses).toEqual(["alpha/pro"]);
    expect(monitor.assumptions).toEqual([
      { field: "actorRequires", reason: "ours" },
      { reason: "all of it" },
    ]);
    expect(built.licenses.get("alpha/basic")).toEqual({
      id: "alpha/basic",
      system: "alpha",
      name: "Basic",
      heldBy: "tenant",
      purchasable: false,
      defaultGrants: ["alpha/monitor"],
    });
    expect(built.systems[0]!.defaultRoles[0]!.assumptions).toEqual([{ field: "grants", reason: "invented" }]);
    // The explicit defaults read like absent fields.
    const plain = buildCatalog(
      sources((a) =>
        Object.assign(list(a, "licenses")[0]!, { heldBy: "role", purchasable: true, defaultGrants: [] }),
      ),
    );
    expect(plain.licenses.get("alpha/basic")).toEqual({ id: "alpha/basic", system: "alpha", name: "Basic" });
  });

  it("gives the same catalog whatever order the files come in", () => {
    const forward = buildCatalog(sources());
    const backward = buildCatalog([...sources()].reverse());
    expect(backward.systems).toEqual(forward.systems);
    expect([...backward.permissions.keys()]).toEqual([...forward.permissions.keys()]);
  });
});

describe("loadCatalog on corrupt files names the file and the entry", () => {
  const shown = (dir: string) =>
    issuesOf(() => loadCatalog(join(fixtures, "bad", dir))).map(formatCatalogIssue);

  it("a requirement naming an unknown permission, with a suggestion", () => {
    expect(shown("dangling")).toEqual([
      "catalog/fixtures/bad/dangling/cxengage.json: permission 'CONTACTS_UPDATE': requires unknown permission 'CONTACT_READ' (did you mean 'CONTACTS_READ'?)",
    ]);
  });

  it("an implication cycle, with its path", () => {
    expect(shown("cycle")).toEqual([
      "catalog/fixtures/bad/cycle/calabrio-one.json: permission 'create-content': implication cycle (it ends up implying itself): create-content → edit-content → create-content",
    ]);
  });

  it("a duplicate permission key", () => {
    expect(shown("duplicate")).toEqual([
      "catalog/fixtures/bad/duplicate/maxcontact.json: permission 'view-agents': duplicate key (entries #1 and #2)",
    ]);
  });

  it("a surface with an invalid selector", () => {
    const [message, ...rest] = shown("selector");
    expect(rest).toEqual([]);
    expect(message).toMatch(
      /^catalog\/fixtures\/bad\/selector\/zoom-contact-center\.json: surface 'wallboard-page': invalid selector "?'?div\[data-tab='wallboard'/,
    );
  });

  describe("a file that is not JSON", () => {
    let dir = "";
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("is reported with the parse error and its line, along with the other files' problems", () => {
      dir = mkdtempSync(join(tmpdir(), "rolecall-catalog-"));
      cpSync(good, dir, { recursive: true });
      writeFileSync(
        join(dir, "iadvize.json"),
        '{\n  "id": "iadvize",\n  "name": "iAdvize"\n  "permissions": []\n}\n',
      );
      const alpha = readFixture("alpha");
      permission(alpha, "edit-contacts").requires = "view-contact";
      writeFileSync(join(dir, "alpha.json"), JSON.stringify(alpha));
      const issues = issuesOf(() => loadCatalog(dir));
      expect(issues).toHaveLength(2);
      expect(issues[0]).toMatchObject({
        file: join(dir, "alpha.json"),
        id: "edit-contacts",
        message:
          "permission 'edit-contacts': requires unknown permission 'view-contact' (did you mean 'view-contacts'?)",
      });
      expect(issues[1]!.file).toBe(join(dir, "iadvize.json"));
      expect(issues[1]!.message).toMatch(/^not valid JSON: .*position \d+.*\(line 4, column 3\)$/);
    });

    it("does not make references into it look unknown", () => {
      dir = mkdtempSync(join(tmpdir(), "rolecall-catalog-"));
      cpSync(good, dir, { recursive: true });
      writeFileSync(join(dir, "beta.json"), "{ truncated");
      const issues = issuesOf(() => loadCatalog(dir));
      // alpha requires beta/access-reports; only beta's own problem is reported.
      expect(issues.map((i) => i.file)).toEqual([join(dir, "beta.json")]);
    });
  });

  it("a missing or empty directory", () => {
    expect(issuesOf(() => loadCatalog(join(fixtures, "no-such-dir")))[0]!.message).toMatch(
      /cannot read the catalog directory/,
    );
    const empty = mkdtempSync(join(tmpdir(), "rolecall-catalog-"));
    try {
      expect(issuesOf(() => loadCatalog(empty))[0]!.message).toMatch(/no system files/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("buildCatalog validation", () => {
  const cases: [string, (alpha: Record<string, unknown>) => void, string | undefined, RegExp][] = [
    [
      "top level not an object",
      (a) => Object.assign(a, { id: 3 }),
      undefined,
      /system: 'id' must be a non-empty string, got number 3/,
    ],
    [
      "system id differs from the file name",
      (a) => Object.assign(a, { id: "alfa" }),
      undefined,
      /system: id 'alfa' does not match the file name; expected 'alpha'/,
    ],
    [
      "system id not a slug",
      (a) => Object.assign(a, { id: "Alpha One" }),
      undefined,
      /lowercase letters and digits/,
    ],
    [
      "a list that is not an array",
      (a) => Object.assign(a, { surfaces: {} }),
      undefined,
      /system: 'surfaces' must be an array, got an object/,
    ],
    [
      "an unknown field, with a suggestion",
      (a) => {
        const p = permission(a, "monitor");
        p.require = p.requires;
        delete p.requires;
      },
      "monitor",
      /permission 'monitor': unknown field 'require' \(did you mean 'requires'\?\)/,
    ],
    [
      "an empty name",
      (a) => Object.assign(permission(a, "monitor"), { name: " " }),
      "monitor",
      /permission 'monitor': 'name' must be a non-empty string, got ' '/,
    ],
    [
      "a missing summary",
      (a) => delete permission(a, "monitor").summary,
      "monitor",
      /'summary' must be a non-empty string, got nothing \(the field is missing\)/,
    ],
    [
      "pages not an array",
      (a) => Object.assign(permission(a, "monitor"), { pages: "Contacts" }),
      "monitor",
      /'pages' must be an array of strings, got 'Contacts'/,
    ],
    [
      "a bad status",
      (a) => Object.assign(permission(a, "monitor"), { status: "enabled" }),
      "monitor",
      /'status' must be one of 'active', 'unused', got 'enabled'/,
    ],
    [
      "a bad scope",
      (a) => Object.assign(permission(a, "monitor"), { scope: "team" }),
      "monitor",
      /'scope' must be one of 'all', 'self' or null, got 'team'/,
    ],
    [
      "mutual not a boolean",
      (a) => Object.assign(permission(a, "monitor"), { mutual: "yes" }),
      "monitor",
      /'mutual' must be true or false/,
    ],
    [
      "a key with a slash",
      (a) => Object.assign(permission(a, "monitor"), { key: "x/monitor" }),
      "x/monitor",
      /key 'x\/monitor' may only hold/,
    ],
    [
      "a key with spaces",
      (a) => Object.assign(permission(a, "monitor"), { key: "Monitor Calls" }),
      "Monitor Calls",
      /may only hold letters/,
    ],
    [
      "a missing requires",
      (a) => delete permission(a, "monitor").requires,
      "monitor",
      /'requires' is missing; use null/,
    ],
    [
      "an empty requirement group",
      (a) => Object.assign(permission(a, "monitor"), { requires: { any: [] } }),
      "monitor",
      /permission 'monitor': requires: empty 'any' group/,
    ],
    [
      "a malformed requirement",
      (a) => Object.assign(permission(a, "monitor"), { requires: { all: ["a"], any: ["b"] } }),
      "monitor",
      /requires: expected a permission key, \{"all": \[...\]\} or \{"any": \[...\]\}, got an object/,
    ],
    [
      "a malformed nested requirement",
      (a) => Object.assign(permission(a, "monitor"), { requires: { all: ["view-contacts", 7] } }),
      "monitor",
      /requires\.all\[1\]: expected a permission key/,
    ],
    [
      "a duplicate permission key",
      (a) => (a as Json).permissions.push({ ...permission(a, "monitor") }),
      "monitor",
      /permission 'monitor': duplicate key \(entries #4 and #9\)/,
    ],
    [
      "a duplicate license id",
      (a) => list(a, "licenses").push({ id: "pro", name: "Pro 2" }),
      "pro",
      /license 'pro': duplicate id/,
    ],
    [
      "a duplicate category id",
      (a) => list(a, "categories").push({ id: "admin", name: "Admin" }),
      "admin",
      /category 'admin': duplicate id/,
    ],
    [
      "a duplicate role id",
      (a) => list(a, "defaultRoles").push({ ...list(a, "defaultRoles")[1] }),
      "agent",
      /default role 'agent': duplicate id/,
    ],
    [
      "a duplicate surface id",
      (a) => list(a, "surfaces").push({ ...list(a, "surfaces")[1] }),
      "roles-page",
      /surface 'roles-page': duplicate id/,
    ],
    [
      "an unknown category",
      (a) => Object.assign(permission(a, "monitor"), { category: "contact" }),
      "monitor",
      /permission 'monitor': unknown category 'contact' \(did you mean 'contacts'\?\)/,
    ],
    [
      "an unknown license",
      (a) => Object.assign(permission(a, "monitor"), { licenses: ["prof"] }),
      "monitor",
      /permission 'monitor': needs unknown license 'prof' \(did you mean 'pro'\?\)/,
    ],
    [
      "a license listed twice",
      (a) => Object.assign(permission(a, "monitor"), { licenses: ["pro", "pro"] }),
      "monitor",
      /'licenses' lists 'pro' more than once/,
    ],
    [
      "an unknown cross-system requirement",
      (a) => Object.assign(permission(a, "monitor"), { requires: "beta/acess-reports" }),
      "monitor",
      /permission 'monitor': requires unknown permission 'beta\/acess-reports' \(did you mean 'beta\/access-reports'\?\)/,
    ],
    [
      "a requirement on a system that does not exist",
      (a) => Object.assign(permission(a, "monitor"), { requires: "gamma/x" }),
      "monitor",
      /requires unknown permission 'gamma\/x'$/,
    ],
    [
      "an unknown implication",
      (a) => Object.assign(permission(a, "monitor"), { implies: ["notes-read-selfs"] }),
      "monitor",
      /permission 'monitor': implies unknown permission 'notes-read-selfs' \(did you mean 'notes-read-self'\?\)/,
    ],
    [
      "an acting-user requirement on a permission that is not mutual",
      (a) => Object.assign(permission(a, "legacy-export"), { actorRequires: "view-contacts" }),
      "legacy-export",
      /permission 'legacy-export': 'actorRequires' is for the acting side of a mutual permission, and this one is not mutual; use 'requires'/,
    ],
    [
      "an acting-user requirement naming an unknown permission",
      (a) => Object.assign(permission(a, "monitor"), { actorRequires: { any: ["view-contact"] } }),
      "monitor",
      /permission 'monitor': actorRequires unknown permission 'view-contact' \(did you mean 'view-contacts'\?\)/,
    ],
    [
      "a tenant license that is not a license",
      (a) => Object.assign(permission(a, "monitor"), { tenantLicenses: ["prof"] }),
      "monitor",
      /permission 'monitor': tenantLicenses names unknown license 'prof' \(did you mean 'pro'\?\)/,
    ],
    [
      "tenant licenses that are not a list",
      (a) => Object.assign(permission(a, "monitor"), { tenantLicenses: "pro" }),
      "monitor",
      /permission 'monitor': 'tenantLicenses' must be an array of strings/,
    ],
    [
      "a license held by neither a role nor the tenant",
      (a) => Object.assign(list(a, "licenses")[0]!, { heldBy: "user" }),
      "basic",
      /license 'basic': 'heldBy' must be one of 'role', 'tenant', got 'user'/,
    ],
    [
      "a license whose purchasable is not a boolean",
      (a) => Object.assign(list(a, "licenses")[0]!, { purchasable: "no" }),
      "basic",
      /license 'basic': 'purchasable' must be true or false, got 'no'/,
    ],
    [
      "a default grant naming an unknown permission",
      (a) => Object.assign(list(a, "licenses")[0]!, { defaultGrants: ["monitr"] }),
      "basic",
      /license 'basic': defaultGrants names unknown permission 'monitr' \(did you mean 'monitor'\?\)/,
    ],
    [
      "an assumption about a field the entry does not have",
      (a) => Object.assign(permission(a, "monitor"), { assumptions: [{ field: "require", reason: "ours" }] }),
      "monitor",
      /permission 'monitor': assumptions #1: 'field' must name a field of the entry .* \(did you mean 'requires'\?\)/,
    ],
    [
      "an assumption without a reason",
      (a) => Object.assign(list(a, "defaultRoles")[0]!, { assumptions: [{ field: "grants" }] }),
      "administrator",
      /default role 'administrator': assumptions #1: 'reason' must be a non-empty string/,
    ],
    [
      "assumptions that are not a list",
      (a) => Object.assign(list(a, "surfaces")[0]!, { assumptions: { reason: "ours" } }),
      "contacts-panel",
      /surface 'contacts-panel': 'assumptions' must be an array, got an object/,
    ],
    [
      "a permission implying itself through another",
      (a) => Object.assign(permission(a, "notes-read-self"), { implies: ["notes-read-all"] }),
      "notes-read-all",
      /permission 'notes-read-all': implication cycle \(it ends up implying itself\): notes-read-all → notes-read-self → notes-read-all/,
    ],
    [
      "an unparsable selector",
      (a) => Object.assign(list(a, "surfaces")[0]!, { selector: "#contacts-panel >> ." }),
      "contacts-panel",
      /surface 'contacts-panel': invalid selector/,
    ],
    [
      "a selector ending in a combinator",
      (a) => Object.assign(list(a, "surfaces")[0]!, { selector: "main >" }),
      "contacts-panel",
      /invalid selector 'main >': it ends with a combinator/,
    ],
    [
      "an empty selector",
      (a) => Object.assign(list(a, "surfaces")[0]!, { selector: "" }),
      "contacts-panel",
      /'selector' must be a non-empty string/,
    ],
    [
      "a url pattern that is not a path",
      (a) => Object.assign(list(a, "surfaces")[0]!, { urlPattern: "alpha/contacts" }),
      "contacts-panel",
      /urlPattern 'alpha\/contacts' must be a path starting with '\/'/,
    ],
    [
      "a bad surface kind",
      (a) => Object.assign(list(a, "surfaces")[0]!, { kind: "modal" }),
      "contacts-panel",
      /'kind' must be one of 'page', 'panel', 'tab', 'button', 'menu-item', 'widget', got 'modal'/,
    ],
    [
      "an empty surface requirement",
      (a) => Object.assign(list(a, "surfaces")[0]!, { requires: { all: [] } }),
      "contacts-panel",
      /surface 'contacts-panel': requires: empty 'all' group/,
    ],
    [
      "a surface without a requirement",
      (a) => Object.assign(list(a, "surfaces")[0]!, { requires: null }),
      "contacts-panel",
      /surface 'contacts-panel': 'requires' is missing/,
    ],
    [
      "a dangling surface requirement",
      (a) => Object.assign(list(a, "surfaces")[0]!, { requires: { all: ["view-contacts", "edit-contact"] } }),
      "contacts-panel",
      /surface 'contacts-panel': requires unknown permission 'edit-contact' \(did you mean 'edit-contacts'\?\)/,
    ],
    [
      "a default role granting an unknown permission",
      (a) => (list(a, "defaultRoles")[1]!.grants as string[]).push("view-contact"),
      "agent",
      /default role 'agent': grants unknown permission 'view-contact' \(did you mean 'view-contacts'\?\)/,
    ],
    [
      "a default role requiring what it does not grant",
      (a) => Object.assign(list(a, "defaultRoles")[1]!, { required: ["view-contacts", "monitor"] }),
      "agent",
      /default role 'agent': required permission 'monitor' is not in its grants/,
    ],
    [
      "a default role requiring an unknown permission",
      (a) => Object.assign(list(a, "defaultRoles")[1]!, { required: ["nope-nope-nope"] }),
      "agent",
      /default role 'agent': required names unknown permission 'nope-nope-nope'$/,
    ],
    [
      "a default role with an unknown license",
      (a) => Object.assign(list(a, "defaultRoles")[1]!, { licenses: ["basics"] }),
      "agent",
      /default role 'agent': is associated with unknown license 'basics' \(did you mean 'basic'\?\)/,
    ],
    [
      "a default role without template",
      (a) => delete list(a, "defaultRoles")[1]!.template,
      "agent",
      /'template' must be true or false/,
    ],
    [
      "role administration naming an unknown permission",
      (a) => Object.assign(a, { roleAdministration: ["manage-role"] }),
      undefined,
      /system: roleAdministration names unknown permission 'manage-role' \(did you mean 'manage-roles'\?\)/,
    ],
    [
      "an admin right with an unknown action",
      (a) => useAdminRights(a, { action: "edit-role" }),
      undefined,
      /system: adminRights #1: unknown action 'edit-role' \(did you mean 'edit-roles'\?\)/,
    ],
    [
      "an admin right with an action far from any",
      (a) => useAdminRights(a, { action: "promote-self" }),
      undefined,
      /system: adminRights #1: unknown action 'promote-self'; expected one of edit-roles, assign-roles, /,
    ],
    [
      "an admin right naming an unknown permission",
      (a) => useAdminRights(a, { permissions: ["manage-role"] }),
      undefined,
      /system: adminRights #1 \(edit-roles\): permissions names unknown permission 'manage-role' \(did you mean 'manage-roles'\?\)/,
    ],
    [
      "an admin right naming another system's permission",
      (a) => useAdminRights(a, { permissions: ["beta/access-reports"] }),
      undefined,
      /system: adminRights #1 \(edit-roles\): permission 'beta\/access-reports' is of system 'beta'; a right over 'alpha' must be one of its own permissions/,
    ],
    [
      "an admin right naming no permission",
      (a) => useAdminRights(a, { permissions: [] }),
      undefined,
      /system: adminRights #1 \(edit-roles\): 'permissions' is empty/,
    ],
    [
      "an admin right without a section",
      (a) => useAdminRights(a, { section: " " }),
      undefined,
      /system: adminRights #1 \(edit-roles\): 'section' must be a non-empty string, got ' '/,
    ],
    [
      "an admin right with a misspelt field",
      (a) => useAdminRights(a, { reasons: "typo" }),
      undefined,
      /system: adminRights #1 \(edit-roles\): unknown field 'reasons' \(did you mean 'reason'\?\)/,
    ],
    [
      "an admin right whose assumed is not a boolean",
      (a) => useAdminRights(a, { assumed: "yes" }),
      undefined,
      /system: adminRights #1 \(edit-roles\): 'assumed' must be true or false, got 'yes'/,
    ],
    [
      "adminRights that is not a list",
      (a) => Object.assign(a, { adminRights: { action: "edit-roles" }, roleAdministration: undefined }),
      undefined,
      /system: 'adminRights' must be an array, got an object/,
    ],
    [
      "both adminRights and the legacy roleAdministration",
      (a) => Object.assign(a, { adminRights: [adminRight()] }),
      undefined,
      /^system: roleAdministration is replaced by adminRights; remove it$/,
    ],
  ];

  it.each(cases)("rejects %s", (_name, edit, id, message) => {
    const issues = issuesOf(() => buildCatalog(sources(edit)));
    expect(issues.map(formatCatalogIssue)).toContainEqual(expect.stringMatching(/^data\/alpha\.json: /));
    const hit = issues.find((i) => message.test(i.message));
    expect(
      hit,
      `no issue matches ${message}; got:\n${issues.map(formatCatalogIssue).join("\n")}`,
    ).toBeDefined();
    expect(hit!.file).toBe("data/alpha.json");
    expect(hit!.id).toBe(id);
  });

  it("reports an implication cycle across systems with qualified keys", () => {
    const files = sources((a) =>
      Object.assign(permission(a, "manage-roles"), { implies: ["beta/access-reports"] }),
    );
    (files[1]!.data as Json).permissions[0]!.implies = ["alpha/manage-roles"];
    const issues = issuesOf(() => buildCatalog(files));
    expect(issues.map(formatCatalogIssue)).toEqual([
      "data/alpha.json: permission 'manage-roles': implication cycle (it ends up implying itself): alpha/manage-roles → beta/access-reports → alpha/manage-roles",
    ]);
  });

  // Calabrio document: Capture Desktop Events and Capture Desktop Analytics require each other.
  it("accepts requirement cycles, across systems and onto a permission itself", () => {
    const files = sources((a) => {
      Object.assign(permission(a, "monitor"), { requires: { any: ["monitor", "view-contacts"] } });
    });
    (files[1]!.data as Json).permissions[0]!.requires = "alpha/manage-roles";
    const catalog = buildCatalog(files);
    expect(catalog.permissions.get("beta/access-reports")?.requires).toBe("alpha/manage-roles");
    expect(catalog.permissions.get("alpha/manage-roles")?.requires).toEqual({
      all: ["alpha/view-contacts", "beta/access-reports"],
    });
  });

  it("reports a file that is not a system object", () => {
    const issues = issuesOf(() => buildCatalog([{ file: "data/alpha.json", data: [1, 2] }]));
    expect(issues.map(formatCatalogIssue)).toEqual([
      "data/alpha.json: expected a JSON object describing one system, got an array",
    ]);
  });

  it("reports two files claiming the same system", () => {
    const issues = issuesOf(() =>
      buildCatalog([...sources(), { file: "more/alpha.json", data: readFixture("alpha") }]),
    );
    expect(issues.map(formatCatalogIssue)).toEqual([
      "more/alpha.json: system id 'alpha' is already used by data/alpha.json",
    ]);
  });

  it("lists every problem of every file in one error, and nothing twice", () => {
    const files = sources((a) => {
      Object.assign(permission(a, "monitor"), { status: "gone" });
      Object.assign(permission(a, "edit-contacts"), { requires: "view-contact" });
      Object.assign(list(a, "surfaces")[1]!, { selector: "main[" });
    });
    const beta = files[1]!.data as Json;
    beta.permissions[0]!.requires = "alpha/manage-role";
    const error = (() => {
      try {
        buildCatalog(files);
      } catch (err) {
        return err as CatalogError;
      }
      throw new Error("expected a CatalogError");
    })();
    expect(error.issues.map((i) => `${i.file} ${i.id}`)).toEqual([
      "data/alpha.json monitor",
      "data/alpha.json roles-page",
      "data/alpha.json edit-contacts",
      "data/beta.json access-reports",
    ]);
    expect(error.message).toMatch(
      /^invalid catalog: 4 problems\n {2}data\/alpha\.json: permission 'monitor': /,
    );
  });

  it("does not report references to an entry already reported as malformed", () => {
    // manage-roles is malformed; the role, the surface and roleAdministration naming it say nothing more.
    const issues = issuesOf(() =>
      buildCatalog(sources((a) => Object.assign(permission(a, "manage-roles"), { mutual: 1 }))),
    );
    expect(issues.map((i) => i.message)).toEqual([
      "permission 'manage-roles': 'mutual' must be true or false, got number 1",
    ]);
    const viaAdminRights = issuesOf(() =>
      buildCatalog(
        sources((a) => {
          useAdminRights(a, {});
          Object.assign(permission(a, "manage-roles"), { mutual: 1 });
        }),
      ),
    );
    expect(viaAdminRights.map((i) => i.message)).toEqual([
      "permission 'manage-roles': 'mutual' must be true or false, got number 1",
    ]);
  });
});

describe("defaultCatalogDir", () => {
  it("finds the project's catalog/data", () => {
    expect(defaultCatalogDir()).toBe(fileURLToPath(new URL("./data", import.meta.url)));
  });
});

describe("check.ts", () => {
  it("prints a summary for a valid catalog", () => {
    const out: string[] = [];
    expect(checkCatalog(good, (l) => out.push(l))).toBe(0);
    expect(out).toEqual(["catalog OK: 2 systems, 10 permissions, 3 surfaces"]);
  });

  it("prints every problem and exits with 1 when run on a corrupt catalog", async () => {
    const run = promisify(execFile);
    const result = await run("npx", ["tsx", "catalog/check.ts", "catalog/fixtures/bad/dangling"], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
    }).then(
      () => ({ code: 0, stderr: "" }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "catalog/fixtures/bad/dangling/cxengage.json: permission 'CONTACTS_UPDATE': requires unknown permission 'CONTACT_READ' (did you mean 'CONTACTS_READ'?)",
    );
  });
});
