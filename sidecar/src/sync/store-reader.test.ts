import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import { createTempDatabase } from "../../../test/support/store/test-database.js";
import { createPolicyAdmin, type PolicyAdmin } from "../admin/policy-admin.js";
import type { Principal } from "../admin/principal.js";
import type { TenantPolicy } from "../policy/policy-source.js";
import { userColumnsOf, userRecordsOf } from "../policy/user-columns.js";
import { readPolicySource } from "../store/read-policy.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { StoreError } from "../store/store-error.js";
import { type KnownState, StoreReader } from "./store-reader.js";
import { withFreshUsers } from "./tenant-cache.js";

const catalog = testCatalog();
const boot: Principal = { kind: "bootstrap" };
// Ids whose UTF-16 and UTF-8 orders differ too (the store sorts users by bytes).
const USERS = ["u1", "u2", "Z", "a", "ü", "\u{1F600}", "\uFF21"];
const TENANTS = ["acme", "beta"];
const PERMISSIONS = [
  "calabrio-one/view-contacts",
  "calabrio-one/quality-management",
  "maxcontact/access-chat",
];

type Op =
  | { kind: "createUser" | "activate" | "deactivate"; tenant: string; user: string }
  | { kind: "assign" | "unassign"; tenant: string; user: string; role: number }
  | { kind: "createRole"; tenant: string; name: string }
  | { kind: "grant" | "revoke" | "deleteRole" | "rename"; tenant: string; role: number; permission: string }
  | { kind: "seats"; tenant: string; seats: number }
  | { kind: "createTenant"; tenant: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("createUser", "activate", "deactivate"),
    tenant: fc.constantFrom(...TENANTS),
    user: fc.constantFrom(...USERS),
  }),
  fc.record({
    kind: fc.constantFrom("assign", "unassign"),
    tenant: fc.constantFrom(...TENANTS),
    user: fc.constantFrom(...USERS),
    role: fc.nat(20),
  }),
  fc.record({
    kind: fc.constant("createRole"),
    tenant: fc.constantFrom(...TENANTS),
    name: fc.string({ minLength: 1, maxLength: 6 }),
  }),
  fc.record({
    kind: fc.constantFrom("grant", "revoke", "deleteRole", "rename"),
    tenant: fc.constantFrom(...TENANTS),
    role: fc.nat(20),
    permission: fc.constantFrom(...PERMISSIONS),
  }),
  fc.record({ kind: fc.constant("seats"), tenant: fc.constantFrom(...TENANTS), seats: fc.nat(5) }),
  fc.record({ kind: fc.constant("createTenant"), tenant: fc.constantFrom("gamma", "delta") }),
);

async function apply(admin: PolicyAdmin, o: Op): Promise<void> {
  const roleAt = async (tenant: string, i: number) => {
    const roles = await admin.listRoles(boot, { tenantId: tenant });
    return roles[i % roles.length]!.id;
  };
  switch (o.kind) {
    case "createUser":
      return void (await admin.createUser(boot, { tenantId: o.tenant, userId: o.user, displayName: o.user }));
    case "activate":
    case "deactivate":
      return void (await admin.setUserActive(boot, {
        tenantId: o.tenant,
        userId: o.user,
        active: o.kind === "activate",
      }));
    case "assign":
      return void (await admin.assignRoles(boot, {
        tenantId: o.tenant,
        userId: o.user,
        roleIds: [await roleAt(o.tenant, o.role)],
      }));
    case "unassign":
      return void (await admin.unassignRoles(boot, {
        tenantId: o.tenant,
        userId: o.user,
        roleIds: [await roleAt(o.tenant, o.role)],
      }));
    case "createRole":
      return void (await admin.createRole(boot, {
        tenantId: o.tenant,
        name: o.name,
        licenseIds: ["calabrio-one/quality-management"],
      }));
    case "grant":
      return void (await admin.grantPermissions(boot, {
        tenantId: o.tenant,
        roleId: await roleAt(o.tenant, o.role),
        permissions: [o.permission],
      }));
    case "revoke":
      return void (await admin.revokePermissions(boot, {
        tenantId: o.tenant,
        roleId: await roleAt(o.tenant, o.role),
        permissions: [o.permission],
        cascade: true,
      }));
    case "deleteRole":
      return void (await admin.deleteRole(boot, {
        tenantId: o.tenant,
        roleId: await roleAt(o.tenant, o.role),
      }));
    case "rename":
      return void (await admin.renameRole(boot, {
        tenantId: o.tenant,
        roleId: await roleAt(o.tenant, o.role),
        name: `r${o.permission.length}${o.role}`,
      }));
    case "seats":
      return void (await admin.setLicenseSeats(boot, {
        tenantId: o.tenant,
        licenseId: "calabrio-one/quality-management",
        seats: o.seats,
      }));
    case "createTenant":
      return void (await admin.createTenant(boot, {
        tenantId: o.tenant,
        name: o.tenant,
        systems: ["calabrio-one", "maxcontact"],
      }));
  }
}

/** A tenant with its users as records, whichever form it was read in. */
function asRecords(tenant: TenantPolicy): TenantPolicy {
  const { userColumns, ...rest } = tenant;
  return userColumns === undefined ? tenant : { ...rest, users: userRecordsOf(userColumns) };
}

describe("StoreReader", () => {
  it("brings a follower to exactly what a full read sees, rereading only the changed users of tenants it holds", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        async (batches) => {
          const temp = createTempDatabase(catalog);
          const reader = new StoreReader(temp.path);
          try {
            const admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
            await admin.createTenant(boot, {
              tenantId: "acme",
              name: "Acme",
              systems: ["calabrio-one", "maxcontact"],
              licenseSeats: { "calabrio-one/quality-management": 3 },
            });
            await admin.createTenant(boot, { tenantId: "beta", name: "Beta", systems: ["calabrio-one"] });
            // The follower: what a sidecar would hold, built from the reader's answers only.
            let known: KnownState | undefined;
            let follower = new Map<string, TenantPolicy>();
            for (const batch of batches) {
              for (const o of batch) {
                try {
                  await apply(admin, o);
                } catch (err) {
                  if (!(err instanceof StoreError)) throw err;
                }
              }
              const read = reader.read(known);
              if (read?.source) {
                if (read.full) follower = new Map();
                for (const t of read.source.tenants) follower.set(t.id, t);
                for (const id of read.source.removedTenantIds ?? []) follower.delete(id);
                known = { revision: read.source.revision, databaseId: read.source.databaseId };
              }
              const truth = readPolicySource(temp.db, catalog);
              expect(known?.revision).toBe(truth.revision);
              const held = [...follower.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(asRecords);
              expect(held).toEqual(truth.tenants);
            }
          } finally {
            reader.close();
            temp.cleanup();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("StoreReader on a one-role change", () => {
  it("rereads that role alone: the other roles and the users come from its cache, and the tenant equals a full read", async () => {
    const temp = createTempDatabase(catalog);
    const reader = new StoreReader(temp.path);
    try {
      const admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
      await admin.createTenant(boot, {
        tenantId: "acme",
        name: "Acme",
        systems: ["calabrio-one"],
        licenseSeats: { "calabrio-one/quality-management": 3 },
      });
      const licenseIds = ["calabrio-one/quality-management"];
      const a = await admin.createRole(boot, { tenantId: "acme", name: "A", licenseIds });
      const b = await admin.createRole(boot, { tenantId: "acme", name: "B", licenseIds });
      await admin.createUser(boot, { tenantId: "acme", userId: "u1", displayName: "U1" });
      await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: [a.roleId, b.roleId] });
      const first = reader.read(undefined)!;
      const before = first.source!.tenants[0]!;
      const known = { revision: first.source!.revision, databaseId: first.source!.databaseId };

      await admin.grantPermissions(boot, {
        tenantId: "acme",
        roleId: b.roleId,
        permissions: ["calabrio-one/view-contacts"],
      });
      const after = reader.read(known)!.source!.tenants[0]!;

      const roleOf = (t: TenantPolicy, id: string) => t.roles.find((r) => r.id === id)!;
      // Not reread: the very objects the reader held (a reread would build new ones).
      expect(roleOf(after, a.roleId)).toBe(roleOf(before, a.roleId));
      expect(after.userColumns).toBe(before.userColumns);
      expect(roleOf(after, b.roleId).grants).toContain("calabrio-one/view-contacts");
      expect(asRecords(after)).toEqual(readPolicySource(temp.db, catalog).tenants[0]);
    } finally {
      reader.close();
      temp.cleanup();
    }
  });
});

describe("withFreshUsers", () => {
  const user = (id: string, roleIds: string[] = []) => ({ id, displayName: id, active: true, roleIds });
  const tenant = (users: ReturnType<typeof user>[], name = "T"): TenantPolicy => ({
    id: "t",
    name,
    systems: [],
    licenseSeats: new Map(),
    users,
    roles: [],
  });

  it("replaces, adds in byte order and drops the named users, keeping the others and the fresh tenant data", () => {
    const cached = tenant([user("a"), user("b"), user("d"), user("\uFF21")]);
    const fresh = tenant([user("b", ["r"]), user("c"), user("\u{1F600}")], "Renamed");
    const merged = withFreshUsers(cached, fresh, ["b", "c", "d", "\u{1F600}"]);
    expect(merged.name).toBe("Renamed");
    // U+FF21 is EF BC A1 in UTF-8 and U+1F600 is F0 9F 98 80: bytes put the emoji last, UTF-16 would not.
    expect(merged.users.map((u) => u.id)).toEqual(["a", "b", "c", "\uFF21", "\u{1F600}"]);
    expect(merged.users[1]!.roleIds).toEqual(["r"]);
  });

  it("merges users held in columns the same way, by UTF-8 bytes", () => {
    const inColumns = (t: TenantPolicy): TenantPolicy => ({
      ...t,
      users: [],
      userColumns: userColumnsOf(t.users, "shared"),
    });
    const cached = inColumns(tenant([user("a", ["x"]), user("b"), user("d"), user("\uFF21", ["y"])]));
    const fresh = inColumns(tenant([user("b", ["r"]), user("c"), user("\u{1F600}")], "Renamed"));
    const merged = withFreshUsers(cached, fresh, ["b", "c", "d", "\u{1F600}"]);
    expect(merged.name).toBe("Renamed");
    expect(merged.users).toEqual([]);
    expect(userRecordsOf(merged.userColumns!)).toEqual([
      user("a", ["x"]),
      user("b", ["r"]),
      user("c"),
      user("\uFF21", ["y"]),
      user("\u{1F600}"),
    ]);
    // A change naming no users keeps the cached columns as they are.
    expect(withFreshUsers(cached, fresh, []).userColumns).toBe(cached.userColumns);
  });
});
