/**
 * What-if (issue 15): proposed writes run through the real admin rules on a copy of the policy,
 * commit nothing, and report exactly what committing them would do.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../catalog/loader.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { compileSnapshot } from "../policy/compiler.js";
import { effectiveKeysByUser } from "../policy/effective-keys.js";
import { resolveSurfaces } from "../policy/evaluator.js";
import type { Snapshot } from "../policy/snapshot.js";
import { readPolicySource } from "../store/read-policy.js";
import { readRevision } from "../store/revision.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { StoreError } from "../store/store-error.js";
import { DEMO_TENANT_ID, seedDemo } from "./demo-seed.js";
import { ADMIN_OPERATIONS } from "./operations/index.js";
import { createPolicyAdmin, type PolicyAdmin } from "./policy-admin.js";
import type { Principal } from "./principal.js";
import { type ProposedChange, simulateChanges } from "./simulate.js";

const catalog = loadCatalog();
const tenantId = DEMO_TENANT_ID;
const carol: Principal = { kind: "user", tenantId, userId: "carol" };
const bob: Principal = { kind: "user", tenantId, userId: "bob" };

let temp: TempDatabase;
let admin: PolicyAdmin;
beforeEach(async () => {
  temp = createTempDatabase(catalog);
  admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
  await seedDemo(admin, catalog);
});
afterEach(() => temp.cleanup());

const access = () => effectiveKeysByUser(compileSnapshot(readPolicySource(temp.db, catalog)), tenantId);

const GIVE_DAVE_UPDATE: ProposedChange = {
  operation: "grantPermissions",
  request: {
    tenantId,
    roleId: "custom-agent",
    permissions: ["cxengage/CONTACTS_UPDATE"],
  } as ProposedChange["request"],
};

describe("SimulateChanges", () => {
  it("answers 'what if we give dave's role CONTACTS_UPDATE?' without committing anything", async () => {
    const revision = readRevision(temp.db);
    const out = await simulateChanges(admin.context, carol, { tenantId, changes: [GIVE_DAVE_UPDATE] });
    expect(out.revision).toBe(revision);
    expect(readRevision(temp.db)).toBe(revision);
    expect(out.changes).toEqual([
      {
        operation: "GrantPermissions",
        applied: true,
        refusalCode: "",
        refusal: "",
        usersGaining: 1,
        usersLosing: 0,
      },
    ]);
    expect(out.users).toEqual([
      {
        userId: "dave",
        permissionsGained: ["cxengage/CONTACTS_UPDATE"],
        permissionsLost: [],
        surfacesGained: ["cxengage/contact-management-panel"],
        surfacesLost: [],
      },
    ]);
    expect(access().get("dave")!.has("cxengage/CONTACTS_UPDATE")).toBe(false);
  });

  it("equals what committing the same writes does", async () => {
    const changes: ProposedChange[] = [
      GIVE_DAVE_UPDATE,
      {
        operation: "unassignRoles",
        request: { tenantId, userId: "alice", roleIds: ["cxengage.agent"] } as ProposedChange["request"],
      },
      {
        operation: "setUserActive",
        request: { tenantId, userId: "bob", active: false } as ProposedChange["request"],
      },
    ];
    const simulated = await simulateChanges(admin.context, carol, { tenantId, changes });
    const before = access();
    await admin.grantPermissions(carol, {
      tenantId,
      roleId: "custom-agent",
      permissions: ["cxengage/CONTACTS_UPDATE"],
    });
    await admin.unassignRoles(carol, { tenantId, userId: "alice", roleIds: ["cxengage.agent"] });
    await admin.setUserActive(carol, { tenantId, userId: "bob", active: false });
    const after = access();
    const committed = [...after.keys()]
      .map((userId) => ({
        userId,
        permissionsGained: [...after.get(userId)!].filter((k) => !before.get(userId)!.has(k)).sort(),
        permissionsLost: [...before.get(userId)!].filter((k) => !after.get(userId)!.has(k)).sort(),
      }))
      .filter((u) => u.permissionsGained.length + u.permissionsLost.length > 0)
      .sort((a, b) => a.userId.localeCompare(b.userId));
    expect(
      simulated.users.map(({ userId, permissionsGained, permissionsLost }) => ({
        userId,
        permissionsGained,
        permissionsLost,
      })),
    ).toEqual(committed);
    expect(simulated.changes.map((c) => c.applied)).toEqual([true, true, true]);
  });

  it("equals committing writes of every kind, surfaces and seats included, from the serving snapshot too", async () => {
    const change = (operation: ProposedChange["operation"], request: object): ProposedChange => ({
      operation,
      request: { tenantId, ...request } as ProposedChange["request"],
    });
    const changes: ProposedChange[] = [
      change("createRole", { name: "Bench Role" }),
      change("grantPermissions", { roleId: "bench-role", permissions: ["cxengage/CONTACTS_UPDATE"] }),
      change("assignRoles", { userId: "dave", roleIds: ["bench-role"] }),
      change("assignRoles", { userId: "zoe", roleIds: ["cxengage.agent"] }),
      change("setRoleLicenses", { roleId: "analytics-viewer", licenseIds: ["calabrio-one/analytics"] }),
      change("setLicenseSeats", { licenseId: "calabrio-one/analytics", seats: 30 }),
      change("revokePermissions", {
        roleId: "cxengage.agent",
        permissions: ["cxengage/CONTACTS_READ"],
        cascade: true,
      }),
      change("unassignRoles", { userId: "dave", roleIds: ["bench-role"] }),
      change("deleteRole", { roleId: "bench-role" }),
      change("setUserActive", { userId: "max", active: false }),
    ];
    const serving = compileSnapshot(readPolicySource(temp.db, catalog));
    const fromStore = await simulateChanges(admin.context, carol, { tenantId, changes });
    const fromServing = await simulateChanges(
      admin.context,
      carol,
      { tenantId, changes },
      { current: () => serving },
    );
    expect(fromServing).toEqual(fromStore);
    expect(fromStore.changes.every((c) => c.applied)).toBe(true);

    const surfaces = [...catalog.surfaces.keys()];
    const shown = (snapshot: Snapshot, user: string) =>
      new Set(
        resolveSurfaces(snapshot, tenantId, user, surfaces)
          .filter((d) => d.allowed)
          .map((d) => d.surface),
      );
    const before = serving;
    for (const c of changes) {
      const run = ADMIN_OPERATIONS[c.operation] as (
        ctx: unknown,
        actor: Principal,
        req: unknown,
      ) => Promise<unknown>;
      await run(admin.context, carol, c.request);
    }
    const after = compileSnapshot(readPolicySource(temp.db, catalog));
    const had = effectiveKeysByUser(before, tenantId);
    const has = effectiveKeysByUser(after, tenantId);
    const only = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].filter((k) => !b.has(k)).sort();
    const committed = [...has.keys()]
      .sort()
      .map((userId) => ({
        userId,
        permissionsGained: only(has.get(userId)!, had.get(userId)!),
        permissionsLost: only(had.get(userId)!, has.get(userId)!),
        surfacesGained: only(shown(after, userId), shown(before, userId)),
        surfacesLost: only(shown(before, userId), shown(after, userId)),
      }))
      .filter((u) => u.permissionsGained.length + u.permissionsLost.length > 0);
    expect(fromStore.users).toEqual(committed);
    expect(committed.map((u) => u.userId)).toEqual(expect.arrayContaining(["alice", "max", "zoe", "lena"]));
    // Seats after the writes: what the store counts once they are committed.
    for (const seat of fromStore.seats) {
      expect(seat).toEqual(await admin.getLicenseUsage(carol, { tenantId, licenseId: seat.licenseId }));
    }
    expect(fromStore.seats.find((s) => s.licenseId === "calabrio-one/analytics")?.seats).toBe(30);
  });

  it("reports the refusals the writes would meet, and carries on without them", async () => {
    const out = await simulateChanges(admin.context, carol, {
      tenantId,
      changes: [
        {
          operation: "deleteRole",
          request: { tenantId, roleId: "cxengage.agent" } as ProposedChange["request"],
        },
        GIVE_DAVE_UPDATE,
      ],
    });
    expect(out.changes[0]).toMatchObject({ applied: false, refusalCode: "FAILED_PRECONDITION" });
    expect(out.changes[1]).toMatchObject({ applied: true, usersGaining: 1 });
  });

  it("takes the rights of the writes: bob, a supervisor, may simulate nothing", async () => {
    const err = await simulateChanges(admin.context, bob, { tenantId, changes: [GIVE_DAVE_UPDATE] }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("PERMISSION_DENIED");
  });

  it("outcomes only: says whether each write would be applied, with the same rights, and works nothing else out", async () => {
    const revision = readRevision(temp.db);
    const ask = (actor: Principal, tenant = tenantId) =>
      simulateChanges(admin.context, actor, {
        tenantId: tenant,
        changes: [{ ...GIVE_DAVE_UPDATE, request: { ...GIVE_DAVE_UPDATE.request, tenantId: tenant } }],
        outcomesOnly: true,
      });
    expect(await ask(carol)).toEqual({
      changes: [
        {
          operation: "GrantPermissions",
          applied: true,
          refusalCode: "",
          refusal: "",
          usersGaining: 0,
          usersLosing: 0,
        },
      ],
      users: [],
      seats: [],
      revision,
    });
    await expect(ask(bob)).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(ask({ kind: "bootstrap" }, "no-such-tenant")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(readRevision(temp.db)).toBe(revision);
    expect(access().get("dave")!.has("cxengage/CONTACTS_UPDATE")).toBe(false);
  });
});
