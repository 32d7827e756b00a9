/**
 * PutSystem, DeleteSystem and ListSystems (issue 16) over every store backend, on the real
 * catalog: who may, what is validated, what a non-owner cannot slip in, and what blocks a delete.
 */
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { withCustomDefaults } from "../../../catalog/load/custom-defaults.js";
import { buildCatalog, defaultCatalogDir, loadCatalog } from "../../../catalog/loader.js";
import { STORE_BACKENDS, storeBackend, type TestStore } from "../../../test/support/store/backends.js";
import { StoreError } from "../store/store-error.js";
import { createPolicyAdmin, type PolicyAdmin } from "./policy-admin.js";
import type { Principal } from "./principal.js";
import { type ProposedChange, simulateChanges } from "./simulate.js";

const catalog = loadCatalog();
const boot: Principal = { kind: "bootstrap" };
const owner: Principal = { kind: "user", tenantId: "acme", userId: "olga" };
const sup: Principal = { kind: "user", tenantId: "acme", userId: "sam" };
const ops: Principal = { kind: "user", tenantId: "acme", userId: "opal" };
const desktopText = readFileSync("examples/systems/agent-desktop.json", "utf8");
const desktop = JSON.parse(desktopText) as Record<string, unknown>;
/** An owner's system whose one permission gives `manage-systems`: how a non-owner is given it. */
const platform = {
  id: "platform",
  name: "Platform",
  permissions: [{ key: "systems.manage", name: "Manage our own systems" }],
  adminRights: [
    {
      action: "manage-systems",
      permissions: ["systems.manage"],
      document: "runbook.md",
      section: "Systems",
      reason: "Platform engineers maintain the apps' permission lists.",
    },
  ],
};

describe.each(STORE_BACKENDS)("custom systems over %s", (kind) => {
  const backend = storeBackend(kind);
  afterAll(() => backend.close());
  let temp: TestStore;
  let admin: PolicyAdmin;

  beforeEach(async () => {
    temp = await backend.create(catalog);
    admin = createPolicyAdmin(temp.store, catalog, { clock: () => new Date("2026-03-04T05:06:07Z") });
    await admin.createTenant(boot, {
      tenantId: "acme",
      name: "Acme",
      systems: ["cxengage"],
      ownerUserIds: ["olga"],
    });
    for (const u of ["olga", "sam", "opal"])
      await admin.createUser(boot, { tenantId: "acme", userId: u, displayName: u });
    await admin.assignRoles(boot, { tenantId: "acme", userId: "sam", roleIds: ["cxengage.supervisor"] });
  });
  afterEach(() => temp.cleanup());

  async function refused(
    fn: () => Promise<unknown>,
    code: StoreError["code"],
    message: RegExp,
  ): Promise<void> {
    const before = await temp.dump();
    const err = await fn().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe(code);
    expect((err as StoreError).message).toMatch(message);
    expect(await temp.dump()).toBe(before);
  }

  it("an owner puts a system: a new revision, audited, its default roles created, listed for the tenant", async () => {
    const before = await temp.revision();
    const out = await admin.putSystem(owner, { tenantId: "acme", system: { json: desktop } });
    expect(out.revision).toBe(before + 1);
    expect(out.createdRoleIds).toEqual(["agent-desktop.agent", "agent-desktop.team-lead"]);
    expect(await temp.changes(out.revision)).toEqual([{ tenant_id: "acme", kind: "PutSystem" }]);
    const audit = (await admin.listAuditEvents(boot, { tenantId: "acme", pageSize: 1 })).events[0]!;
    expect(audit).toMatchObject({ operation: "PutSystem", actor: "user:acme/olga", before: null });
    const systems = await admin.listSystems(owner, { tenantId: "acme" });
    expect(systems.map((s) => [s.id, s.custom, s.permissionCount])).toEqual([
      ["cxengage", false, 21],
      ["agent-desktop", true, 6],
    ]);
    const lead = (await admin.listRoles(owner, { tenantId: "acme" })).find(
      (r) => r.id === "agent-desktop.team-lead",
    );
    // Closed under requirements and implications, as every role the admin writes produce.
    expect([...lead!.grants].sort()).toEqual([
      "agent-desktop/desktop.use",
      "agent-desktop/dialer.override",
      "agent-desktop/notes.edit",
      "agent-desktop/notes.edit-any",
      "agent-desktop/recordings.play",
      "agent-desktop/recordings.play-any",
    ]);
    // Its permissions can now be granted like a vendor system's.
    const role = await admin.createRole(owner, { tenantId: "acme", name: "Night shift", licenseIds: [] });
    await admin.grantPermissions(owner, {
      tenantId: "acme",
      roleId: role.roleId,
      permissions: ["agent-desktop/notes.edit"],
    });
    // Putting the same document again changes nothing and commits nothing.
    const current = await temp.revision();
    const again = await admin.putSystem(owner, { tenantId: "acme", system: { text: desktopText } });
    expect(again).toMatchObject({ createdRoleIds: [], revision: current });
    expect(await temp.revision()).toBe(current);
  });

  it("validates with the loader's messages, naming the file, the field and the key", async () => {
    await refused(
      () =>
        admin.putSystem(owner, {
          tenantId: "acme",
          fileName: "examples/systems/my-app.json",
          system: {
            json: {
              id: "my-app",
              name: "Mine",
              permissions: [{ key: "read" }, { key: "x", name: "X", implies: ["raed"] }],
            },
          },
        }),
      "INVALID_ARGUMENT",
      /invalid system: 2 problems\n {2}examples\/systems\/my-app\.json: permission 'read': 'name' must be a non-empty string[^\n]*\n {2}examples\/systems\/my-app\.json: permission 'x': implies unknown permission 'raed'/,
    );
    await refused(
      () => admin.putSystem(owner, { tenantId: "acme", system: { text: '{"id": "a",\n "name": }' } }),
      "INVALID_ARGUMENT",
      /system_json is not valid JSON/,
    );
    await refused(
      () => admin.putSystem(owner, { tenantId: "acme", system: { json: { id: "cxengage", name: "Mine" } } }),
      "INVALID_ARGUMENT",
      /id 'cxengage' is a vendor system of the catalog/,
    );
    await refused(
      () =>
        admin.putSystem(owner, {
          tenantId: "acme",
          system: {
            json: {
              id: "mine",
              name: "Mine",
              permissions: [{ key: "a", name: "A", implies: ["calabrio-one/view-contacts"] }],
            },
          },
        }),
      "FAILED_PRECONDITION",
      /names permission 'calabrio-one\/view-contacts' of calabrio-one, which tenant 'acme' does not have/,
    );
  });

  it("refuses a plain supervisor, and admits one given manage-systems by an owner's system", async () => {
    await refused(
      () => admin.putSystem(sup, { tenantId: "acme", system: { json: desktop } }),
      "PERMISSION_DENIED",
      /acme\/sam holds no role-administration permission giving the 'manage-systems' right/,
    );
    await admin.putSystem(owner, { tenantId: "acme", system: { json: platform } });
    const role = await admin.createRole(owner, { tenantId: "acme", name: "Platform", licenseIds: [] });
    await admin.grantPermissions(owner, {
      tenantId: "acme",
      roleId: role.roleId,
      permissions: ["platform/systems.manage"],
    });
    await admin.assignRoles(owner, { tenantId: "acme", userId: "opal", roleIds: [role.roleId] });
    const tiny = { id: "tiny", name: "Tiny", permissions: [{ key: "go", name: "Go" }] };
    await admin.putSystem(ops, { tenantId: "acme", system: { json: tiny } });
    expect((await admin.listSystems(ops, { tenantId: "acme" })).map((s) => s.id)).toContain("tiny");
    await admin.deleteSystem(ops, { tenantId: "acme", systemId: "tiny" });
    await refused(
      () => admin.putSystem(sup, { tenantId: "acme", system: { json: tiny } }),
      "PERMISSION_DENIED",
      /manage-systems/,
    );
  });

  it("lets no one with manage-systems escalate through a system: default roles, implications, admin rights", async () => {
    await admin.putSystem(owner, { tenantId: "acme", system: { json: platform } });
    const role = await admin.createRole(owner, { tenantId: "acme", name: "Platform", licenseIds: [] });
    await admin.grantPermissions(owner, {
      tenantId: "acme",
      roleId: role.roleId,
      permissions: ["platform/systems.manage"],
    });
    await admin.assignRoles(owner, { tenantId: "acme", userId: "opal", roleIds: [role.roleId] });
    // A default role granting what opal does not hold.
    await refused(
      () => admin.putSystem(ops, { tenantId: "acme", system: { json: desktop } }),
      "PERMISSION_DENIED",
      /may not create default role 'agent-desktop\.agent': it would hand out 'agent-desktop\/desktop\.use'/,
    );
    // A permission she holds made to imply a vendor permission she lacks.
    const implying = {
      ...platform,
      permissions: [{ key: "systems.manage", name: "Manage", implies: ["cxengage/CONTACTS_DELETE"] }],
    };
    await refused(
      () => admin.putSystem(ops, { tenantId: "acme", system: { json: implying } }),
      "PERMISSION_DENIED",
      /opal would gain 'cxengage\/CONTACTS_DELETE', which opal does not hold/,
    );
    // Admin rights: only owners decide which permissions give admin actions.
    const rights = {
      ...platform,
      adminRights: [...platform.adminRights, { ...platform.adminRights[0], action: "edit-roles" }],
    };
    await refused(
      () => admin.putSystem(ops, { tenantId: "acme", system: { json: rights } }),
      "PERMISSION_DENIED",
      /may not change the adminRights of system 'platform'/,
    );
    // What a check demands beyond holding: a self-only permission made unscoped allows more
    // checks while nobody holds anything new.
    const scoped = {
      ...platform,
      permissions: [...platform.permissions, { key: "calls.listen", name: "Listen to calls", scope: "self" }],
    };
    await admin.putSystem(owner, { tenantId: "acme", system: { json: scoped } });
    const unscoped = {
      ...scoped,
      permissions: [...platform.permissions, { key: "calls.listen", name: "Listen to calls" }],
    };
    await refused(
      () => admin.putSystem(ops, { tenantId: "acme", system: { json: unscoped } }),
      "PERMISSION_DENIED",
      /may not change what a check of 'platform\/calls\.listen' demands/,
    );
    // A new permission, and a name, are theirs to change.
    await admin.putSystem(ops, {
      tenantId: "acme",
      system: { json: { ...scoped, name: "Platform tools" } },
    });
  });

  it("deletes a system only when no role grants it, naming the roles; its unheld default roles go with it", async () => {
    await admin.putSystem(owner, { tenantId: "acme", system: { json: desktop } });
    const role = await admin.createRole(owner, { tenantId: "acme", name: "Night shift", licenseIds: [] });
    await admin.grantPermissions(owner, {
      tenantId: "acme",
      roleId: role.roleId,
      permissions: ["agent-desktop/notes.edit"],
    });
    await admin.assignRoles(owner, { tenantId: "acme", userId: "sam", roleIds: ["agent-desktop.agent"] });
    await refused(
      () => admin.deleteSystem(owner, { tenantId: "acme", systemId: "agent-desktop" }),
      "FAILED_PRECONDITION",
      /still in use by roles 'agent-desktop\.agent' \(its default role, held by 1 user\), 'night-shift' \(grants agent-desktop\/notes\.edit\)/,
    );
    await refused(
      () => admin.deleteSystem(sup, { tenantId: "acme", systemId: "agent-desktop" }),
      "PERMISSION_DENIED",
      /manage-systems/,
    );
    await refused(
      () => admin.deleteSystem(owner, { tenantId: "acme", systemId: "cxengage" }),
      "FAILED_PRECONDITION",
      /vendor system/,
    );
    await refused(
      () => admin.deleteSystem(owner, { tenantId: "acme", systemId: "agent-dekstop" }),
      "NOT_FOUND",
      /no system 'agent-dekstop' of its own \(did you mean 'agent-desktop'\?\)/,
    );
    await admin.unassignRoles(owner, { tenantId: "acme", userId: "sam", roleIds: ["agent-desktop.agent"] });
    await admin.deleteRole(owner, { tenantId: "acme", roleId: role.roleId });
    const out = await admin.deleteSystem(owner, { tenantId: "acme", systemId: "agent-desktop" });
    expect(out.deletedRoleIds).toEqual(["agent-desktop.agent", "agent-desktop.team-lead"]);
    expect((await admin.listSystems(owner, { tenantId: "acme" })).map((s) => s.id)).toEqual(["cxengage"]);
    expect((await admin.listTenants(boot))[0]?.systems).toEqual(["cxengage"]);
  });

  it("registers an app showing a custom surface, which then blocks deleting the system", async () => {
    await admin.putSystem(owner, { tenantId: "acme", system: { json: platform } });
    await admin.putSystem(owner, { tenantId: "acme", system: { json: { ...desktop, defaultRoles: [] } } });
    const app = {
      appId: "desk",
      name: "Desk",
      baseUrl: "https://desk.example.com",
      pages: [{ urlPattern: "/desktop/calls/*", surfaceIds: ["agent-desktop/recording-player"] }],
      selectors: [],
      subject: { kind: "meta" as const },
    };
    await admin.putApp(owner, { tenantId: "acme", app });
    await refused(
      () => admin.deleteSystem(owner, { tenantId: "acme", systemId: "agent-desktop" }),
      "FAILED_PRECONDITION",
      /surfaces on registered apps 'desk'/,
    );
    await admin.deleteApp(owner, { tenantId: "acme", appId: "desk" });
    await admin.deleteSystem(owner, { tenantId: "acme", systemId: "agent-desktop" });
    await refused(
      () => admin.putApp(owner, { tenantId: "acme", app }),
      "NOT_FOUND",
      /agent-desktop\/recording-player/,
    );
  });

  it("SimulateChanges shows who would gain a custom permission and its surface", async () => {
    await admin.putSystem(owner, { tenantId: "acme", system: { json: desktop } });
    const role = await admin.createRole(owner, { tenantId: "acme", name: "Night shift", licenseIds: [] });
    await admin.assignRoles(owner, { tenantId: "acme", userId: "opal", roleIds: [role.roleId] });
    const before = await temp.dump();
    const out = await simulateChanges(admin.context, owner, {
      tenantId: "acme",
      changes: [
        {
          operation: "grantPermissions",
          request: {
            tenantId: "acme",
            roleId: role.roleId,
            permissions: ["agent-desktop/recordings.play"],
          } as ProposedChange["request"],
        },
      ],
    });
    expect(out.users).toEqual([
      expect.objectContaining({
        userId: "opal",
        permissionsGained: ["agent-desktop/desktop.use", "agent-desktop/recordings.play"],
        surfacesGained: ["agent-desktop/recording-player"],
      }),
    ]);
    expect(await temp.dump()).toBe(before);
  });

  it("creates a tenant with no vendor system, holding only its own", async () => {
    await admin.createTenant(boot, { tenantId: "solo", name: "Solo", systems: [], ownerUserIds: ["sue"] });
    const sue: Principal = { kind: "user", tenantId: "solo", userId: "sue" };
    await admin.putSystem(sue, { tenantId: "solo", system: { json: desktop } });
    expect((await admin.listSystems(sue, { tenantId: "solo" })).map((s) => s.id)).toEqual(["agent-desktop"]);
    // Another tenant sees none of it, and cannot touch it.
    expect((await admin.listSystems(owner, { tenantId: "acme" })).map((s) => s.id)).toEqual(["cxengage"]);
    await refused(
      () => admin.deleteSystem(owner, { tenantId: "solo", systemId: "agent-desktop" }),
      "PERMISSION_DENIED",
      /only its own tenant/,
    );
  });

  it("lists a stored system the catalog took over as not in force, saying why", async () => {
    await admin.putSystem(owner, { tenantId: "acme", system: { json: desktop } });
    // A later catalog ships a vendor system with the same id: the tenant's own one is left out.
    const dir = defaultCatalogDir();
    const vendorFiles = readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .map((n) => ({ file: n, data: JSON.parse(readFileSync(`${dir}/${n}`, "utf8")) as unknown }));
    const newer = buildCatalog([
      ...vendorFiles,
      { file: "agent-desktop.json", data: withCustomDefaults({ ...desktop, name: "Vendor desktop" }) },
    ]);
    const upgraded = createPolicyAdmin(temp.store, newer);
    const listed = await upgraded.listSystems(owner, { tenantId: "acme" });
    expect(listed.find((s) => s.custom)).toMatchObject({
      id: "agent-desktop",
      permissionCount: 0,
      problem: expect.stringMatching(/'agent-desktop' is a vendor system of the catalog/),
    });
    // On the catalog it was put against, it is in force and says nothing.
    expect(
      (await admin.listSystems(owner, { tenantId: "acme" })).find((s) => s.custom)?.problem,
    ).toBeUndefined();
  });
});
