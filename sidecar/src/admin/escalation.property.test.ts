/**
 * No escalation, as a property (issue 13): over random tenants, roles and principals performing
 * random admin writes on the real catalog, no non-owner ever ends holding — or makes any user
 * hold — a permission outside its own effective set as it stood before it acted. Decisions come
 * from the engine compiled from the store, not from the rule under test.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { Catalog } from "../../../catalog/catalog.js";
import { loadCatalog } from "../../../catalog/loader.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { compileSnapshot } from "../policy/compiler.js";
import { effectiveKeysByUser } from "../policy/effective-keys.js";
import { readPolicySource } from "../store/read-policy.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { StoreError } from "../store/store-error.js";
import { createPolicyAdmin, type PolicyAdmin } from "./policy-admin.js";
import type { Principal } from "./principal.js";

const catalog: Catalog = loadCatalog();
const boot: Principal = { kind: "bootstrap" };
const TENANT = "t";
const USERS = ["u0", "u1", "u2", "u3", "u4"];
const SYSTEMS = catalog.systems.map((s) => s.id);
const LICENSES = [...catalog.licenses.keys()].slice(0, 4);

/**
 * Permissions worth shuffling around: the admin-right permissions and a few others of two systems
 * whose rights the documents name (Zoom, MaxContact), so that random writes are often allowed to
 * act at all and then meet the escalation rule, not only the gate.
 */
const SYSTEMS_IN_PLAY = new Set(["zoom-contact-center", "maxcontact"]);
const ADMIN_KEYS = [
  ...new Set(
    catalog.systems
      .filter((s) => SYSTEMS_IN_PLAY.has(s.id))
      .flatMap((s) => s.adminRights.flatMap((r) => r.permissions)),
  ),
];
const POOL = [
  ...new Set([
    ...ADMIN_KEYS,
    ...catalog.systems
      .filter((s) => SYSTEMS_IN_PLAY.has(s.id))
      .flatMap((s) => s.permissions.slice(0, 5).map((p) => p.key)),
  ]),
];

const userOf = fc.constantFrom(...USERS);
const keysOf = fc.uniqueArray(fc.constantFrom(...POOL), { minLength: 1, maxLength: 3 });

/** One admin write a random principal attempts; role indices pick among the tenant's roles. */
const write = fc.oneof(
  fc.record({ kind: fc.constant("grant" as const), role: fc.nat(), keys: keysOf }),
  fc.record({ kind: fc.constant("revoke" as const), role: fc.nat(), keys: keysOf, cascade: fc.boolean() }),
  fc.record({ kind: fc.constant("createRole" as const), role: fc.nat(), copy: fc.boolean() }),
  fc.record({ kind: fc.constant("assign" as const), user: userOf, role: fc.nat() }),
  fc.record({ kind: fc.constant("unassign" as const), user: userOf, role: fc.nat() }),
  fc.record({
    kind: fc.constant("setRoleLicenses" as const),
    role: fc.nat(),
    licenses: fc.subarray(LICENSES),
  }),
  fc.record({ kind: fc.constant("setActive" as const), user: userOf, active: fc.boolean() }),
  fc.record({
    kind: fc.constant("setSeats" as const),
    license: fc.constantFrom(...LICENSES),
    seats: fc.nat(30),
  }),
);
type Write = typeof write extends fc.Arbitrary<infer W> ? W : never;

/** The tenant before the writes: custom roles with random grants, held at random. */
const world = fc.record({
  // Most roles carry an admin right and a license, so that non-owners often may act at all.
  roles: fc.array(
    fc.record({
      keys: keysOf,
      admin: fc.subarray(ADMIN_KEYS, { minLength: 0, maxLength: 3 }),
      license: fc.boolean(),
    }),
    { minLength: 2, maxLength: 4 },
  ),
  holdings: fc.array(fc.tuple(userOf, fc.nat()), { minLength: 3, maxLength: 10 }),
  // Half the writes are made by a user holding some admin right (picked when the world is built).
  writes: fc.array(fc.tuple(userOf, fc.boolean(), write), { minLength: 1, maxLength: 12 }),
});

let temp: TempDatabase | undefined;
afterAll(() => temp?.cleanup());

function effective(t: TempDatabase): Map<string, Set<string>> {
  return effectiveKeysByUser(compileSnapshot(readPolicySource(t.db, catalog)), TENANT);
}

async function roleIds(admin: PolicyAdmin): Promise<string[]> {
  return (await admin.listRoles(boot, { tenantId: TENANT })).map((r) => r.id);
}

async function attempt(
  admin: PolicyAdmin,
  actor: Principal,
  w: Write,
  roles: readonly string[],
): Promise<void> {
  const role = roles[("role" in w ? w.role : 0) % roles.length]!;
  const tenantId = TENANT;
  switch (w.kind) {
    case "grant":
      await admin.grantPermissions(actor, { tenantId, roleId: role, permissions: w.keys });
      return;
    case "revoke":
      await admin.revokePermissions(actor, {
        tenantId,
        roleId: role,
        permissions: w.keys,
        cascade: w.cascade,
      });
      return;
    case "createRole":
      await admin.createRole(actor, {
        tenantId,
        name: `R${roles.length}`,
        ...(w.copy ? { basedOnRoleId: role } : {}),
      });
      return;
    case "assign":
      await admin.assignRoles(actor, { tenantId, userId: w.user, roleIds: [role] });
      return;
    case "unassign":
      await admin.unassignRoles(actor, { tenantId, userId: w.user, roleIds: [role] });
      return;
    case "setRoleLicenses":
      await admin.setRoleLicenses(actor, { tenantId, roleId: role, licenseIds: w.licenses });
      return;
    case "setActive":
      await admin.setUserActive(actor, { tenantId, userId: w.user, active: w.active });
      return;
    case "setSeats":
      await admin.setLicenseSeats(actor, { tenantId, licenseId: w.license, seats: w.seats });
      return;
  }
}

describe("no escalation (property)", () => {
  it("no non-owner makes anyone, itself included, hold what it did not hold before acting", async () => {
    let committed = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(world, async ({ roles, holdings, writes }) => {
        temp?.cleanup();
        temp = createTempDatabase(catalog);
        const t = temp;
        const admin = createPolicyAdmin(sqliteStore(t.db), catalog);
        await admin.createTenant(boot, {
          tenantId: TENANT,
          name: "T",
          systems: SYSTEMS,
          ownerUserIds: ["owner"],
          licenseSeats: Object.fromEntries(LICENSES.slice(0, 2).map((l) => [l, 50])),
        });
        for (const u of [...USERS, "owner"])
          await admin.createUser(boot, { tenantId: TENANT, userId: u, displayName: u });
        for (const [i, r] of roles.entries()) {
          const { roleId } = await admin.createRole(boot, {
            tenantId: TENANT,
            name: `Custom ${i}`,
            licenseIds: r.license ? LICENSES.slice(0, 1) : LICENSES.slice(1, 2),
          });
          for (const keys of [r.admin, r.keys]) {
            if (keys.length === 0) continue;
            // Setup may meet other rules (a license-bound grant): what is refused is simply not there.
            await admin
              .grantPermissions(boot, { tenantId: TENANT, roleId, permissions: keys })
              .catch(() => {});
          }
        }
        const listed = await admin.listRoles(boot, { tenantId: TENANT });
        const custom = listed.filter((role) => role.kind === "custom").map((role) => role.id);
        for (const [u, r] of holdings) {
          const roleId = custom[r % custom.length]!;
          await admin.assignRoles(boot, { tenantId: TENANT, userId: u, roleIds: [roleId] }).catch(() => {});
        }
        const eff = effective(t);
        const admins = USERS.filter((u) => ADMIN_KEYS.some((k) => eff.get(u)!.has(k)));
        for (const [picked, byAdmin, w] of writes) {
          const userId =
            byAdmin && admins.length > 0 ? admins[USERS.indexOf(picked) % admins.length]! : picked;
          const actor: Principal = { kind: "user", tenantId: TENANT, userId };
          const before = effective(t);
          const own = before.get(userId)!;
          try {
            await attempt(admin, actor, w, await roleIds(admin));
            committed++;
          } catch (err) {
            if (!(err instanceof StoreError)) throw err;
            refused++;
          }
          for (const [user, keys] of effective(t)) {
            const gained = [...keys].filter((k) => !before.get(user)!.has(k) && !own.has(k));
            expect(gained, `${userId} ${JSON.stringify(w)} gave ${user}`).toEqual([]);
          }
        }
      }),
      { numRuns: 40, seed: 1313 },
    );
    // Not vacuous: non-owners both succeeded and were refused along the way.
    expect(committed).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  }, 120_000);

  it("a service principal commits nothing and reads no admin data, whatever it tries", async () => {
    temp?.cleanup();
    temp = createTempDatabase(catalog);
    const admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
    await admin.createTenant(boot, {
      tenantId: TENANT,
      name: "T",
      systems: SYSTEMS,
      ownerUserIds: ["owner"],
    });
    for (const u of [...USERS, "owner"])
      await admin.createUser(boot, { tenantId: TENANT, userId: u, displayName: u });
    await admin.createRole(boot, { tenantId: TENANT, name: "Custom" });
    const revision = () => temp!.db.prepare("SELECT revision FROM meta WHERE id = 1").pluck().get();
    const before = revision();
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(write, fc.boolean(), async (w, explanations) => {
        const actor: Principal = { kind: "service", tenantId: TENANT, name: "pep", explanations };
        const err = await attempt(admin, actor, w, await roleIds(admin)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(StoreError);
        expect((err as StoreError).code).toBe("PERMISSION_DENIED");
        refused++;
        for (const read of [
          () => admin.listUsers(actor, { tenantId: TENANT }),
          () => admin.listRoles(actor, { tenantId: TENANT }),
          () => admin.listTenants(actor),
        ]) {
          await expect(read()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
        }
      }),
      { numRuns: 40, seed: 1717 },
    );
    expect(refused).toBe(40);
    expect(revision()).toBe(before);
  }, 60_000);
});
