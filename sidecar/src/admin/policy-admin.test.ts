import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { STORE_BACKENDS, storeBackend, type TestStore } from "../../../test/support/store/backends.js";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import { StoreError } from "../store/store-error.js";
import type { HoldsFn } from "./authorize.js";
import { createPolicyAdmin, type PolicyAdmin } from "./policy-admin.js";
import type { Principal } from "./principal.js";

const catalog = testCatalog();
const boot: Principal = { kind: "bootstrap" };
const QM = "calabrio-one/quality-management";
const ANALYTICS = "calabrio-one/analytics";
const C = (k: string): string => `calabrio-one/${k}`;
const SYSTEMS = ["calabrio-one", "zoom-contact-center", "cxengage", "maxcontact", "iadvize"];

// The admin rules have one implementation over every store backend: run them all over each.
describe.each(STORE_BACKENDS)("over %s", (kind) => {
  const backend = storeBackend(kind);
  afterAll(() => backend.close());

  let temp: TestStore;
  let admin: PolicyAdmin;

  async function setUp(options: { holds?: HoldsFn } = {}): Promise<void> {
    temp = await backend.create(catalog);
    admin = createPolicyAdmin(temp.store, catalog, {
      clock: () => new Date("2026-01-02T03:04:05Z"),
      ...options,
    });
    await admin.createTenant(boot, {
      tenantId: "acme",
      name: "Acme",
      systems: SYSTEMS,
      licenseSeats: { [QM]: 2, [ANALYTICS]: 1, "calabrio-one/data-management": 5 },
    });
  }

  /** Runs `fn`, expecting a StoreError; returns it. */
  async function failure(fn: () => Promise<unknown>): Promise<StoreError> {
    try {
      await fn();
    } catch (e) {
      if (e instanceof StoreError) return e;
      throw e;
    }
    throw new Error("expected a StoreError");
  }

  /** Expects `fn` to fail with `code` and a message matching `message`, leaving the database exactly as it was. */
  async function refused(
    fn: () => Promise<unknown>,
    code: StoreError["code"],
    message: RegExp,
  ): Promise<StoreError> {
    const before = await temp.dump();
    const err = await failure(fn);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(await temp.dump()).toBe(before);
    return err;
  }

  async function grantsOf(roleId: string, tenantId = "acme"): Promise<string[]> {
    return (await admin.listRoles(boot, { tenantId }))
      .find((r) => r.id === roleId)!
      .grants.slice()
      .sort();
  }

  afterEach(() => temp.cleanup());

  describe("tenants and default roles", () => {
    beforeEach(() => setUp());

    it("gives a new tenant each enabled system's default roles with the catalog's grants and licenses", async () => {
      const roles = await admin.listRoles(boot, { tenantId: "acme" });
      expect(roles.map((r) => r.id)).toEqual([
        "calabrio-one.administrator",
        "calabrio-one.agent",
        "calabrio-one.supervisor",
        "iadvize.manager",
      ]);
      const supervisor = roles.find((r) => r.id === "calabrio-one.supervisor")!;
      expect(supervisor).toMatchObject({ kind: "default", name: "Supervisor", holderCount: 0 });
      expect(supervisor.grants).toEqual([C("view-contacts"), C("play-recordings"), C("monitor-agents")]);
      expect(supervisor.licenseIds).toEqual([QM, ANALYTICS]);
      expect(roles.find((r) => r.id === "iadvize.manager")!.grants).toContain("iadvize/access-to-reports");
    });

    it("enables only the systems asked for", async () => {
      const { roleIds } = await admin.createTenant(boot, { name: "Small Shop", systems: ["iadvize"] });
      expect(roleIds).toEqual(["iadvize.manager"]);
      expect((await admin.listTenants(boot)).map((t) => t.id)).toEqual(["acme", "small-shop"]);
    });

    it("bumps the revision exactly once per write and records change log and audit rows", async () => {
      const rev = await temp.revision();
      const { revision } = await admin.createUser(boot, {
        tenantId: "acme",
        userId: "u1",
        displayName: "User One",
      });
      expect(revision).toBe(rev + 1);
      expect(await temp.revision()).toBe(rev + 1);
      const changes = await temp.changes(revision);
      expect(changes).toEqual([{ tenant_id: "acme", kind: "CreateUser" }]);
      const { events } = await admin.listAuditEvents(boot, { tenantId: "acme", pageSize: 1 });
      expect(events[0]).toMatchObject({
        actor: "bootstrap",
        operation: "CreateUser",
        revision,
        before: null,
        after: { id: "u1", displayName: "User One", active: true, roleIds: [] },
        time: "2026-01-02T03:04:05.000Z",
      });
    });

    it("commits nothing for a write that changes nothing: same revision, no change-log or audit row", async () => {
      const { roleId } = await admin.createRole(boot, { tenantId: "acme", name: "QA", licenseIds: [QM] });
      const granted = await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId,
        permissions: [C("view-contacts")],
      });
      await admin.createUser(boot, { tenantId: "acme", userId: "u1", displayName: "User One" });
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: [roleId] });
      const before = await temp.dump();
      const rev = await temp.revision();
      const again = await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId,
        permissions: [C("view-contacts")],
      });
      expect(again).toEqual({ granted: [], autoGranted: [], revision: rev });
      expect(
        (await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: [roleId] })).revision,
      ).toBe(rev);
      expect(
        (await admin.setUserActive(boot, { tenantId: "acme", userId: "u1", active: true })).revision,
      ).toBe(rev);
      expect((await admin.renameRole(boot, { tenantId: "acme", roleId, name: "QA" })).revision).toBe(rev);
      expect(
        (await admin.setRoleLicenses(boot, { tenantId: "acme", roleId, licenseIds: [QM] })).revision,
      ).toBe(rev);
      expect(await temp.dump()).toBe(before);
      // 0 seats of a license not in the pool is a change: the tenant now has the license.
      const beta = await admin.createTenant(boot, {
        tenantId: "beta",
        name: "Beta",
        systems: ["calabrio-one"],
      });
      const zero = { tenantId: "beta", licenseId: ANALYTICS, seats: 0 };
      expect((await admin.setLicenseSeats(boot, zero)).revision).toBe(beta.revision + 1);
      expect((await admin.setLicenseSeats(boot, zero)).revision).toBe(beta.revision + 1);
      // A write that does change something still commits, once.
      const revoked = await admin.revokePermissions(boot, {
        tenantId: "acme",
        roleId,
        permissions: [C("view-contacts")],
      });
      expect(revoked.revision).toBe(beta.revision + 2);
      expect(granted.granted).toContain(C("view-contacts"));
    });
  });

  describe("granting and revoking", () => {
    beforeEach(() => setUp());

    async function qaRole(): Promise<string> {
      return (await admin.createRole(boot, { tenantId: "acme", name: "QA Analyst", licenseIds: [QM] }))
        .roleId;
    }

    it("grants the first alternative of an unmet any-of requirement and reports it", async () => {
      const role = await qaRole();
      const out = await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("play-recordings")],
      });
      expect(out.autoGranted).toEqual([C("view-contacts")]);
      expect(await grantsOf(role)).toEqual([C("play-recordings"), C("view-contacts")]);
    });

    it("adds nothing for an any-of group one of whose alternatives is already held", async () => {
      const role = await qaRole();
      await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("view-scored-contacts")],
      });
      const out = await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("play-recordings")],
      });
      expect(out.autoGranted).toEqual([]);
    });

    it("grants requirements and implications transitively", async () => {
      const role = await qaRole();
      const out = await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("edit-evaluations"), C("create-content")],
      });
      expect(out.autoGranted.slice().sort()).toEqual([
        C("play-recordings"),
        C("view-contacts"),
        C("view-content"),
      ]);
      const notes = await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: ["cxengage/NOTES_READ_ALL"],
      });
      expect(notes.autoGranted).toEqual(["cxengage/NOTES_READ_SELF"]);
    });

    it("refuses to revoke what another grant requires, naming the dependents", async () => {
      const role = await qaRole();
      await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("edit-evaluations")],
      });
      const err = await refused(
        () =>
          admin.revokePermissions(boot, {
            tenantId: "acme",
            roleId: role,
            permissions: [C("view-contacts")],
          }),
        "FAILED_PRECONDITION",
        /still required by calabrio-one\/play-recordings \(needs calabrio-one\/view-contacts\).*set cascade/,
      );
      expect(err.field).toBe("permissions");
    });

    it("refuses to revoke what a held grant implies", async () => {
      const role = await qaRole();
      await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("create-content")],
      });
      await refused(
        () =>
          admin.revokePermissions(boot, { tenantId: "acme", roleId: role, permissions: [C("view-content")] }),
        "FAILED_PRECONDITION",
        /create-content/,
      );
    });

    it("with cascade, revokes the dependents too, transitively", async () => {
      const role = await qaRole();
      await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("edit-evaluations"), C("create-content")],
      });
      const out = await admin.revokePermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("view-contacts")],
        cascade: true,
      });
      expect(out.revoked.slice().sort()).toEqual([
        C("edit-evaluations"),
        C("play-recordings"),
        C("view-contacts"),
      ]);
      expect(await grantsOf(role)).toEqual([C("create-content"), C("view-content")]);
    });

    it("keeps a grant whose any-of requirement another alternative still meets", async () => {
      const role = await qaRole();
      await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("view-scored-contacts"), C("view-contacts")],
      });
      await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("play-recordings")],
      });
      const out = await admin.revokePermissions(boot, {
        tenantId: "acme",
        roleId: role,
        permissions: [C("view-contacts")],
      });
      expect(out.revoked).toEqual([C("view-contacts")]);
    });

    it("keeps a default role's required permissions, even under cascade, but revokes the others", async () => {
      await refused(
        () =>
          admin.revokePermissions(boot, {
            tenantId: "acme",
            roleId: "calabrio-one.supervisor",
            permissions: [C("view-contacts")],
            cascade: true,
          }),
        "FAILED_PRECONDITION",
        /default role 'calabrio-one.supervisor' must keep calabrio-one\/view-contacts/,
      );
      const out = await admin.revokePermissions(boot, {
        tenantId: "acme",
        roleId: "calabrio-one.supervisor",
        permissions: [C("monitor-agents")],
      });
      expect(out.revoked).toEqual([C("monitor-agents")]);
    });
  });

  describe("roles", () => {
    beforeEach(() => setUp());

    it("refuses to delete a default role but renames it", async () => {
      await refused(
        () => admin.deleteRole(boot, { tenantId: "acme", roleId: "calabrio-one.agent" }),
        "FAILED_PRECONDITION",
        /default role of calabrio-one and cannot be deleted/,
      );
      await admin.renameRole(boot, {
        tenantId: "acme",
        roleId: "calabrio-one.agent",
        name: "Frontline Agent",
      });
      expect(
        (await admin.listRoles(boot, { tenantId: "acme" })).find((r) => r.id === "calabrio-one.agent")!.name,
      ).toBe("Frontline Agent");
    });

    it("refuses to delete a role users hold, saying how many, and deletes it once nobody does", async () => {
      const { roleId } = await admin.createRole(boot, { tenantId: "acme", name: "Night Shift" });
      for (const u of ["u1", "u2"]) {
        await admin.createUser(boot, { tenantId: "acme", userId: u, displayName: u });
        await admin.assignRoles(boot, { tenantId: "acme", userId: u, roleIds: [roleId] });
      }
      await refused(
        () => admin.deleteRole(boot, { tenantId: "acme", roleId }),
        "FAILED_PRECONDITION",
        /held by 2 users/,
      );
      for (const u of ["u1", "u2"])
        await admin.unassignRoles(boot, { tenantId: "acme", userId: u, roleIds: [roleId] });
      await admin.deleteRole(boot, { tenantId: "acme", roleId });
      expect((await admin.listRoles(boot, { tenantId: "acme" })).map((r) => r.id)).not.toContain(roleId);
    });

    it("creates a role based on another as a copy of its grants and licenses", async () => {
      const { roleId } = await admin.createRole(boot, {
        tenantId: "acme",
        name: "Senior Supervisor",
        basedOnRoleId: "calabrio-one.supervisor",
      });
      const role = (await admin.listRoles(boot, { tenantId: "acme" })).find((r) => r.id === roleId)!;
      expect(role).toMatchObject({
        kind: "custom",
        basedOn: "calabrio-one.supervisor",
        licenseIds: [QM, ANALYTICS],
      });
      expect(role.grants.slice().sort()).toEqual(await grantsOf("calabrio-one.supervisor"));
      const iadvize = await admin.createRole(boot, {
        tenantId: "acme",
        name: "Chat Lead",
        basedOnRoleId: "iadvize.manager",
      });
      expect(await grantsOf(iadvize.roleId)).toEqual(await grantsOf("iadvize.manager"));
    });

    it("derives distinct role ids from names", async () => {
      const a = await admin.createRole(boot, { tenantId: "acme", name: "Team Lead" });
      await admin.renameRole(boot, { tenantId: "acme", roleId: a.roleId, name: "Old Team Lead" });
      const b = await admin.createRole(boot, { tenantId: "acme", name: "Team Lead" });
      expect([a.roleId, b.roleId]).toEqual(["team-lead", "team-lead-2"]);
    });
  });

  describe("license seats", () => {
    beforeEach(async () => {
      await setUp();
      for (const u of ["u1", "u2", "u3"])
        await admin.createUser(boot, { tenantId: "acme", userId: u, displayName: u });
    });

    it("refuses to give a license with no free seat to one more active user, naming license and used/seats", async () => {
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["calabrio-one.agent"] });
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u2", roleIds: ["calabrio-one.agent"] });
      // A second role with the same license does not take a second seat.
      await admin.assignRoles(boot, {
        tenantId: "acme",
        userId: "u2",
        roleIds: ["calabrio-one.administrator"],
      });
      expect(await admin.getLicenseUsage(boot, { tenantId: "acme", licenseId: QM })).toEqual({
        licenseId: QM,
        used: 2,
        seats: 2,
      });
      await refused(
        () => admin.assignRoles(boot, { tenantId: "acme", userId: "u3", roleIds: ["calabrio-one.agent"] }),
        "FAILED_PRECONDITION",
        /license 'calabrio-one\/quality-management' has no free seat \(2\/2 used\)/,
      );
    });

    it("counts only active users, and checks again when a user is activated", async () => {
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["calabrio-one.agent"] });
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u2", roleIds: ["calabrio-one.agent"] });
      await admin.setUserActive(boot, { tenantId: "acme", userId: "u1", active: false });
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u3", roleIds: ["calabrio-one.agent"] });
      await refused(
        () => admin.setUserActive(boot, { tenantId: "acme", userId: "u1", active: true }),
        "FAILED_PRECONDITION",
        /quality-management.*2\/2/,
      );
    });

    it("checks seats when a role held by users is associated with a license", async () => {
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["calabrio-one.agent"] });
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u2", roleIds: ["calabrio-one.agent"] });
      await refused(
        () =>
          admin.setRoleLicenses(boot, {
            tenantId: "acme",
            roleId: "calabrio-one.agent",
            licenseIds: [QM, ANALYTICS],
          }),
        "FAILED_PRECONDITION",
        /license 'calabrio-one\/analytics' has no free seat \(0\/1 used\)/,
      );
      await admin.setLicenseSeats(boot, { tenantId: "acme", licenseId: ANALYTICS, seats: 2 });
      await admin.setRoleLicenses(boot, {
        tenantId: "acme",
        roleId: "calabrio-one.agent",
        licenseIds: [QM, ANALYTICS],
      });
    });

    it("refuses to lower seats below the active users holding the license", async () => {
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["calabrio-one.agent"] });
      await refused(
        () => admin.setLicenseSeats(boot, { tenantId: "acme", licenseId: QM, seats: 0 }),
        "FAILED_PRECONDITION",
        /used by 1 active user; cannot lower its seats to 0/,
      );
    });
  });

  describe("Calabrio ONE permissions need a Calabrio ONE license on the role", () => {
    beforeEach(() => setUp());

    it("refuses a grant to a role with no Calabrio ONE license", async () => {
      const { roleId } = await admin.createRole(boot, { tenantId: "acme", name: "Bare" });
      await refused(
        () => admin.grantPermissions(boot, { tenantId: "acme", roleId, permissions: [C("view-dashboards")] }),
        "FAILED_PRECONDITION",
        /grants calabrio-one permissions \(calabrio-one\/view-dashboards\) so it must be associated with a calabrio-one license/,
      );
      // Other systems' permissions need no license.
      await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId,
        permissions: ["zoom-contact-center/RptWallboard:Read"],
      });
    });

    it("refuses to remove the last Calabrio ONE license while Calabrio ONE permissions are granted", async () => {
      await refused(
        () =>
          admin.setRoleLicenses(boot, {
            tenantId: "acme",
            roleId: "calabrio-one.supervisor",
            licenseIds: [],
          }),
        "FAILED_PRECONDITION",
        /must be associated with a calabrio-one license/,
      );
      await admin.setRoleLicenses(boot, {
        tenantId: "acme",
        roleId: "calabrio-one.supervisor",
        licenseIds: [ANALYTICS],
      });
    });
  });

  describe("authorization", () => {
    const carol: Principal = { kind: "user", tenantId: "acme", userId: "carol" };
    const dave: Principal = { kind: "user", tenantId: "acme", userId: "dave" };

    beforeEach(async () => {
      await setUp();
      await admin.createUser(boot, { tenantId: "acme", userId: "carol", displayName: "Carol" });
      await admin.createUser(boot, { tenantId: "acme", userId: "dave", displayName: "Dave" });
      await admin.assignRoles(boot, {
        tenantId: "acme",
        userId: "carol",
        roleIds: ["calabrio-one.administrator"],
      });
      await admin.assignRoles(boot, { tenantId: "acme", userId: "dave", roleIds: ["calabrio-one.agent"] });
    });

    it("lets a holder of a system's role-administration permission administer that system in their tenant", async () => {
      // No escalation (issue 13): carol may hand out only what she holds herself.
      await refused(
        () =>
          admin.grantPermissions(carol, {
            tenantId: "acme",
            roleId: "calabrio-one.agent",
            permissions: [C("view-scored-contacts")],
          }),
        "PERMISSION_DENIED",
        /view-scored-contacts', which carol does not hold/,
      );
      await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: "calabrio-one.administrator",
        permissions: [C("view-scored-contacts")],
      });
      const out = await admin.grantPermissions(carol, {
        tenantId: "acme",
        roleId: "calabrio-one.agent",
        permissions: [C("view-scored-contacts")],
      });
      expect(out.granted).toEqual([C("view-scored-contacts")]);
      expect((await admin.listAuditEvents(boot, { tenantId: "acme", pageSize: 1 })).events[0]!.actor).toBe(
        "user:acme/carol",
      );
    });

    it("refuses a user without it, and a user acting on another system or tenant", async () => {
      await refused(
        () => admin.createRole(dave, { tenantId: "acme", name: "Mine" }),
        "PERMISSION_DENIED",
        /user:acme\/dave holds no role-administration permission/,
      );
      await refused(
        () =>
          admin.grantPermissions(carol, {
            tenantId: "acme",
            roleId: "calabrio-one.agent",
            permissions: ["zoom-contact-center/RptWallboard:Read"],
          }),
        "PERMISSION_DENIED",
        /may not administer zoom-contact-center.*RoleManagement:Edit/,
      );
      await admin.createTenant(boot, { tenantId: "other", name: "Other", systems: ["iadvize"] });
      await refused(
        () => admin.listRoles(carol, { tenantId: "other" }),
        "PERMISSION_DENIED",
        /only its own tenant/,
      );
      await refused(
        () => admin.createTenant(carol, { name: "Mine", systems: ["iadvize"] }),
        "PERMISSION_DENIED",
        /bootstrap only/,
      );
      expect((await admin.listTenants(carol)).map((t) => t.id)).toEqual(["acme"]);
      await refused(() => admin.listTenants(dave), "PERMISSION_DENIED", /holds no role-administration/);
    });

    it("asks the pluggable holds function", async () => {
      await temp.cleanup();
      const asked: string[] = [];
      await setUp({
        holds: (tenantId, userId, key) => {
          asked.push(`${tenantId}/${userId}/${key}`);
          // erin holds the admin right and what she grants (no one may give what they do not have).
          return key === "iadvize/access-to-people" || key === "iadvize/export-reports";
        },
      });
      await admin.createUser(boot, { tenantId: "acme", userId: "erin", displayName: "Erin" });
      const erin: Principal = { kind: "user", tenantId: "acme", userId: "erin" };
      await admin.grantPermissions(erin, {
        tenantId: "acme",
        roleId: "iadvize.manager",
        permissions: ["iadvize/export-reports"],
      });
      expect(asked).toContain("acme/erin/iadvize/access-to-people");
    });
  });

  describe("bad input is refused with the field named, writing nothing", () => {
    beforeEach(async () => {
      await setUp();
      await admin.createUser(boot, { tenantId: "acme", userId: "u1", displayName: "User One" });
    });

    it("unknown ids", async () => {
      const t = await refused(
        () => admin.createUser(boot, { tenantId: "acm", userId: "x", displayName: "X" }),
        "NOT_FOUND",
        /unknown tenant 'acm' \(did you mean 'acme'\?\)/,
      );
      expect(t.field).toBe("tenant_id");
      await refused(
        () => admin.setUserActive(boot, { tenantId: "acme", userId: "u9", active: false }),
        "NOT_FOUND",
        /unknown user 'u9'/,
      );
      await refused(
        () => admin.deleteRole(boot, { tenantId: "acme", roleId: "nope" }),
        "NOT_FOUND",
        /unknown role 'nope'/,
      );
      const p = await refused(
        () =>
          admin.grantPermissions(boot, {
            tenantId: "acme",
            roleId: "calabrio-one.agent",
            permissions: [C("view-contact")],
          }),
        "NOT_FOUND",
        /unknown permission 'calabrio-one\/view-contact' \(did you mean 'calabrio-one\/view-contacts'\?\)/,
      );
      expect(p.field).toBe("permissions[0]");
      await refused(
        () => admin.setLicenseSeats(boot, { tenantId: "acme", licenseId: "calabrio-one/analytic", seats: 3 }),
        "NOT_FOUND",
        /unknown license 'calabrio-one\/analytic' \(did you mean 'calabrio-one\/analytics'\?\)/,
      );
      await refused(
        () =>
          admin.assignRoles(boot, {
            tenantId: "acme",
            userId: "u1",
            roleIds: ["calabrio-one.agent", "ghost"],
          }),
        "NOT_FOUND",
        /unknown role 'ghost'/,
      );
      await refused(
        () => admin.createTenant(boot, { name: "X", systems: ["zoom"] }),
        "NOT_FOUND",
        /unknown system 'zoom'/,
      );
    });

    it("empty, duplicate and over-long names", async () => {
      const e = await refused(
        () => admin.createRole(boot, { tenantId: "acme", name: "  " }),
        "INVALID_ARGUMENT",
        /name must not be empty/,
      );
      expect(e.field).toBe("name");
      await refused(
        () => admin.createRole(boot, { tenantId: "acme", name: "agent" }),
        "ALREADY_EXISTS",
        /'calabrio-one.agent' is already named 'agent'/,
      );
      await refused(
        () => admin.createTenant(boot, { tenantId: "acme2", name: "ACME", systems: ["iadvize"] }),
        "ALREADY_EXISTS",
        /already named/,
      );
      await refused(
        () => admin.createTenant(boot, { tenantId: "acme", name: "New", systems: ["iadvize"] }),
        "ALREADY_EXISTS",
        /tenant 'acme' already exists/,
      );
      await refused(
        () => admin.createUser(boot, { tenantId: "acme", userId: "u1", displayName: "Again" }),
        "ALREADY_EXISTS",
        /user 'u1' already exists/,
      );
      await refused(
        () =>
          admin.renameRole(boot, { tenantId: "acme", roleId: "calabrio-one.agent", name: "x".repeat(201) }),
        "INVALID_ARGUMENT",
        /name is 201 characters long; at most 200/,
      );
      await refused(
        () => admin.createUser(boot, { tenantId: "acme", userId: "a b", displayName: "A" }),
        "INVALID_ARGUMENT",
        /user_id 'a b' contains whitespace/,
      );
      await refused(
        () => admin.createUser(boot, { tenantId: "acme", userId: "u".repeat(201), displayName: "A" }),
        "INVALID_ARGUMENT",
        /user_id is 201/,
      );
      await refused(
        () =>
          admin.grantPermissions(boot, { tenantId: "acme", roleId: "calabrio-one.agent", permissions: [] }),
        "INVALID_ARGUMENT",
        /permissions must name at least one/,
      );
    });

    it("negative or fractional seats", async () => {
      const e = await refused(
        () => admin.setLicenseSeats(boot, { tenantId: "acme", licenseId: QM, seats: -1 }),
        "INVALID_ARGUMENT",
        /seats must be a non-negative integer, got -1/,
      );
      expect(e.field).toBe("seats");
      await refused(
        () => admin.setLicenseSeats(boot, { tenantId: "acme", licenseId: QM, seats: 2.5 }),
        "INVALID_ARGUMENT",
        /got 2.5/,
      );
      await refused(
        () =>
          admin.createTenant(boot, { name: "Neg", systems: ["calabrio-one"], licenseSeats: { [QM]: -3 } }),
        "INVALID_ARGUMENT",
        /license_seats\[calabrio-one\/quality-management\]/,
      );
    });

    it("a permission or license of a system the tenant has not enabled", async () => {
      await admin.createTenant(boot, { tenantId: "chat", name: "Chat Only", systems: ["iadvize"] });
      await refused(
        () =>
          admin.grantPermissions(boot, {
            tenantId: "chat",
            roleId: "iadvize.manager",
            permissions: ["cxengage/CONTACTS_READ"],
          }),
        "FAILED_PRECONDITION",
        /cxengage, which the tenant has not enabled/,
      );
    });
  });

  describe("reads", () => {
    beforeEach(() => setUp());

    it("pages audit events newest first", async () => {
      for (const u of ["a", "b", "c"])
        await admin.createUser(boot, { tenantId: "acme", userId: u, displayName: u });
      const first = await admin.listAuditEvents(boot, { tenantId: "acme", pageSize: 2 });
      expect(first.events.map((e) => (e.after as { id: string }).id)).toEqual(["c", "b"]);
      const second = await admin.listAuditEvents(boot, {
        tenantId: "acme",
        pageSize: 2,
        pageToken: first.nextPageToken,
      });
      expect(second.events.map((e) => e.operation)).toEqual(["CreateUser", "CreateTenant"]);
      expect(second.nextPageToken).toBe("");
      await expect(admin.listAuditEvents(boot, { pageToken: "x" })).rejects.toThrow(/page_token/);
    });

    it("lists users with their roles and tenants with seats and counts", async () => {
      await admin.createUser(boot, { tenantId: "acme", userId: "u1", displayName: "One", active: false });
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["iadvize.manager"] });
      expect(await admin.listUsers(boot, { tenantId: "acme" })).toEqual([
        { id: "u1", displayName: "One", active: false, roleIds: ["iadvize.manager"] },
      ]);
      expect((await admin.listTenants(boot))[0]).toMatchObject({
        id: "acme",
        userCount: 1,
        roleCount: 4,
        systems: SYSTEMS,
      });
    });
  });
});
