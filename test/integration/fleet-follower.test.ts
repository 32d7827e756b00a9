/**
 * The follower's incremental copy (issue 14), in process against a real PostgreSQL 15: after
 * random admin writes of every kind, one to four at a time, the copy holds exactly what the
 * primary holds — every row of every table, roles and assignments in the same order — though
 * each read copied only the roles, users and tenant rows the change log says were touched.
 * And the copy records when it last read the primary, so a restart with the primary down counts
 * staleness from then.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Catalog } from "../../catalog/catalog.js";
import { loadCatalog } from "../../catalog/loader.js";
import { seedDemo } from "../../sidecar/src/admin/demo-seed.js";
import { createPolicyAdmin, type PolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import type { Principal } from "../../sidecar/src/admin/principal.js";
import { PrimaryFollower, type SyncedEvent } from "../../sidecar/src/fleet/follower.js";
import {
  CATALOG_TABLES,
  LOG_TABLES,
  readPgRows,
  sqliteColumns,
  TENANT_TABLES,
} from "../../sidecar/src/fleet/store-tables.js";
import type { Db } from "../../sidecar/src/store/database.js";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { importCatalogPg } from "../../sidecar/src/store/pg/pg-catalog-import.js";
import {
  createPgPool,
  openPgStore,
  PgPolicyStore,
  type PgQuery,
} from "../../sidecar/src/store/pg/pg-policy-store.js";
import { readPolicySource } from "../../sidecar/src/store/read-policy.js";
import { StoreError } from "../../sidecar/src/store/store-error.js";
import { seededRandom } from "../support/seeded-random.js";
import { usePostgres } from "../support/use-postgres.js";

const postgres = usePostgres();
const BOOT: Principal = { kind: "bootstrap" };
const TENANT = "demo";

describe("a follower copying only what each revision touched", () => {
  let catalog: Catalog;
  let url: string;
  let primary: PgPolicyStore;
  let admin: PolicyAdmin;
  let dir: string;
  let copy: Db;
  let follower: PrimaryFollower;
  /** The copy `expectSameAsPrimary` compares by default. */
  const copyOfTest = (): Db => copy;
  const events: SyncedEvent[] = [];

  beforeAll(async () => {
    catalog = loadCatalog();
    url = await postgres().createDatabase("follower");
    primary = await openPgStore(url);
    await importCatalogPg(primary, catalog);
    admin = createPolicyAdmin(primary, catalog);
    await seedDemo(admin, catalog);
    dir = mkdtempSync(join(tmpdir(), "rolecall-follower-"));
    copy = openStore(join(dir, "copy.db"));
    follower = new PrimaryFollower({
      primary,
      primaryUrl: url,
      copy,
      listen: false,
      recordReadEveryMs: 1,
      onSynced: (e) => events.push(e),
    });
  });
  afterAll(async () => {
    await follower?.stop();
    copy?.close();
    await primary?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Every table of the copy equals the primary's, and the compiled policy in the same order. */
  async function expectSameAsPrimary(of: PgPolicyStore = primary, copy: Db = copyOfTest()): Promise<void> {
    const primary = of;
    const tables = [...CATALOG_TABLES, ...TENANT_TABLES, ...Object.values(LOG_TABLES)];
    const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
    await primary.readSql(async (query) => {
      for (const t of tables) {
        const columns = sqliteColumns(copy, t.name);
        const list = columns.map((c) => `"${c}"`).join(", ");
        const local = copy.prepare(`SELECT ${list} FROM ${t.name}`).all();
        const remote = await readPgRows(query, t, columns);
        expect(sorted(local), t.name).toEqual(sorted(remote));
      }
    });
    const remote = await primary.read(async (tx) => tx.policySource(catalog, await tx.tenantIds()));
    const local = readPolicySource(copy, catalog);
    expect(local.revision).toBe(remote.revision);
    expect(local.databaseId).toBe(remote.databaseId);
    expect(local.tenants).toEqual(remote.tenants);
  }

  it("starts with a whole copy", async () => {
    await follower.syncOnce();
    expect(events.at(-1)).toMatchObject({ applied: true, full: true });
    await expectSameAsPrimary();
  });

  it("stays equal to the primary through random writes of every kind, copying only what they touched", async () => {
    const seed = Number(process.env.ROLECALL_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const keys = [...catalog.permissions.values()].map((p) => p.key);
    const licenses = [...catalog.licenses.keys()];
    let n = 0;
    const write = async () => {
      const source = await primary.read(async (tx) => tx.policySource(catalog, [TENANT]));
      const t = source.tenants[0]!;
      const role = pick(t.roles);
      const user = pick(t.users);
      const op = Math.floor(random() * 14);
      n++;
      switch (op) {
        case 0:
          return admin.grantPermissions(BOOT, {
            tenantId: TENANT,
            roleId: role.id,
            permissions: [pick(keys)],
          });
        case 1:
          return admin.revokePermissions(BOOT, {
            tenantId: TENANT,
            roleId: role.id,
            permissions: [pick(role.grants.length > 0 ? role.grants : keys)],
            cascade: true,
          });
        case 2:
          return admin.setRoleLicenses(BOOT, {
            tenantId: TENANT,
            roleId: role.id,
            licenseIds: [pick(licenses)],
          });
        case 3:
          return admin.createRole(BOOT, {
            tenantId: TENANT,
            name: `role ${seed}-${n}`,
            basedOnRoleId: role.id,
          });
        case 4:
          return admin.renameRole(BOOT, { tenantId: TENANT, roleId: role.id, name: `renamed ${seed}-${n}` });
        case 5:
          return admin.deleteRole(BOOT, {
            tenantId: TENANT,
            roleId: pick(t.roles.filter((r) => r.kind === "custom")).id,
          });
        case 6:
          return admin.createUser(BOOT, {
            tenantId: TENANT,
            userId: `u${seed}-${n}`,
            displayName: `User ${n}`,
          });
        case 7:
          return admin.assignRoles(BOOT, { tenantId: TENANT, userId: user.id, roleIds: [role.id] });
        case 8:
          return admin.unassignRoles(BOOT, {
            tenantId: TENANT,
            userId: user.id,
            roleIds: [pick(user.roleIds.length > 0 ? user.roleIds : [role.id])],
          });
        case 9:
          return admin.setUserActive(BOOT, { tenantId: TENANT, userId: user.id, active: !user.active });
        case 10:
          return admin.setLicenseSeats(BOOT, { tenantId: TENANT, licenseId: pick(licenses), seats: 500 + n });
        case 11:
          return admin.setTenantOwners(BOOT, { tenantId: TENANT, ownerUserIds: [user.id] });
        case 12:
          return admin.createTenant(BOOT, {
            tenantId: `t${seed}-${n}`,
            name: `Tenant ${seed}-${n}`,
            systems: [pick(t.systems)],
          });
        default:
          return admin.createRole(BOOT, { tenantId: TENANT, name: `fresh ${seed}-${n}` });
      }
    };
    let incremental = 0;
    for (let round = 0; round < 25; round++) {
      const batch = 1 + Math.floor(random() * 4);
      for (let i = 0; i < batch; i++) {
        try {
          await write();
        } catch (err) {
          if (!(err instanceof StoreError)) throw err; // a refused write commits nothing
        }
      }
      await follower.syncOnce();
      const last = events.at(-1)!;
      if (last.applied && !last.full) incremental++;
      try {
        await expectSameAsPrimary();
      } catch (err) {
        throw new Error(`seed ${seed}, round ${round}: ${(err as Error).message}`);
      }
    }
    expect(incremental).toBeGreaterThan(10);
  });

  it("reads outside a transaction, and reads again inside one when a commit lands between its two statements: never half", async () => {
    const userId = "between-statements";
    await follower.syncOnce();
    const created = await admin.createUser(BOOT, { tenantId: TENANT, userId, displayName: "Between" });
    const statementsSql = primary.statementsSql.bind(primary);
    const readSql = primary.readSql.bind(primary);
    let intruded: number | undefined; // the intruding commit's revision
    let transactions = 0;
    const countingReads = ((body) => {
      transactions++;
      return readSql(body);
    }) as typeof primary.readSql;
    // A commit lands after the follower's first statement (the head, at the user's creation).
    primary.statementsSql = ((body) =>
      statementsSql((query) =>
        body((async (text: string, values?: readonly unknown[]) => {
          const result = await query(text, values);
          intruded ??= (await admin.setUserActive(BOOT, { tenantId: TENANT, userId, active: false }))
            .revision;
          return result;
        }) as PgQuery),
      )) as typeof primary.statementsSql;
    primary.readSql = countingReads;
    try {
      await follower.syncOnce();
    } finally {
      primary.statementsSql = statementsSql;
      primary.readSql = readSql;
    }
    expect(intruded).toBe(created.revision + 1);
    expect(transactions).toBe(1);
    expect(events.at(-1)).toMatchObject({ revision: intruded, applied: true, full: false });
    await expectSameAsPrimary();
    // Without an intruding commit, one read outside any transaction.
    await admin.setUserActive(BOOT, { tenantId: TENANT, userId, active: true });
    primary.readSql = countingReads;
    try {
      await follower.syncOnce();
    } finally {
      primary.readSql = readSql;
    }
    expect(transactions).toBe(1);
    await expectSameAsPrimary();
  });

  it("copies a commit in one statement when the notifications carried its change, and reads the log when they could not", async () => {
    // A second follower, listening, over a copy of its own; its statements counted.
    const reads = await openPgStore(url);
    const heardCopy = openStore(join(dir, "heard.db"));
    let statements = 0;
    const statementsSql = reads.statementsSql.bind(reads);
    reads.statementsSql = ((body) =>
      statementsSql((query) =>
        body(((text: string, values?: readonly unknown[], options?: object) => {
          statements++;
          return query(text, values, options);
        }) as PgQuery),
      )) as typeof reads.statementsSql;
    let notified = 0;
    const listening = new PrimaryFollower({
      primary: reads,
      primaryUrl: url,
      copy: heardCopy,
      pollIntervalMs: 600_000, // no poll between the counted reads
      onNotified: () => notified++,
    });
    const caughtUp = async (revision: number) => {
      for (let waited = 0; listening.revision < revision; waited += 20) {
        if (waited > 10_000) throw new Error(`the follower did not reach revision ${revision}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await listening.start();
      // LISTEN is issued after the first read: commit until a notification arrives.
      for (let i = 0; notified === 0; i++) {
        if (i > 100) throw new Error("the follower heard no notification");
        const { revision } = await admin.createUser(BOOT, {
          tenantId: TENANT,
          userId: `listening-${i}`,
          displayName: "Listening",
        });
        await new Promise((r) => setTimeout(r, 100));
        if (notified > 0) await caughtUp(revision);
      }
      await new Promise((r) => setTimeout(r, 100)); // the read LISTEN starts with is done
      // Commits one at a time: each notification carries its change-log row, one statement each.
      for (let i = 0; i < 6; i++) {
        const before = statements;
        const { revision } = await admin.createUser(BOOT, {
          tenantId: TENANT,
          userId: `heard-one-${i}`,
          displayName: "Heard",
        });
        await caughtUp(revision);
        await new Promise((r) => setTimeout(r, 50)); // a second read would come now
        expect(statements - before, `commit ${i}`).toBe(1);
      }
      await expectSameAsPrimary(primary, heardCopy);
      // A change too long for a notification (pg_notify takes under 8,000 bytes) still commits;
      // its notification is the revision alone, and the follower reads the log: two statements.
      const before = statements;
      const long = await primary.write(async (tx) => {
        await tx.setUserActive(TENANT, "heard-one-0", false);
        return tx.commit({
          tenantId: TENANT,
          operation: "SetUserActive",
          detail: { users: ["heard-one-0"], note: "x".repeat(9_000) },
          time: new Date().toISOString(),
          actor: "test",
          before: null,
          after: null,
        });
      });
      await caughtUp(long);
      await new Promise((r) => setTimeout(r, 50));
      expect(statements - before).toBe(2);
      await expectSameAsPrimary(primary, heardCopy);
      // Many commits at once: what was heard may end before the primary's revision; the copy
      // still lands on the primary whole.
      const burst = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          admin.createUser(BOOT, { tenantId: TENANT, userId: `heard-${i}`, displayName: `Heard ${i}` }),
        ),
      );
      await caughtUp(Math.max(...burst.map((w) => w.revision)));
      await expectSameAsPrimary(primary, heardCopy);
    } finally {
      await listening.stop();
      heardCopy.close();
      await reads.close();
    }
  });

  it("checkpoints its copy once writes pause, not inside the commits that copy revisions", async () => {
    const walFrames = () => (copy.pragma("wal_checkpoint(PASSIVE)") as { log: number }[])[0]!.log;
    const oneCommit = async (i: number) => {
      await admin.createUser(BOOT, { tenantId: TENANT, userId: `wal-${i}`, displayName: `Wal ${i}` });
      await follower.syncOnce();
    };
    await oneCommit(0);
    walFrames(); // checkpointed: the next commit starts the WAL afresh
    await oneCommit(1);
    const perCommit = walFrames();
    // A burst: SQLite's own checkpoint is off on the copy, so its frames pile up meanwhile...
    for (let i = 2; i < 30; i++) await oneCommit(i);
    // ...and once writes pause the follower checkpoints: the next commit finds the WAL reset.
    await new Promise((r) => setTimeout(r, 500));
    await oneCommit(30);
    expect(walFrames()).toBeLessThanOrEqual(perCommit * 2);
  });

  it("replaces a copy of another primary whole: nothing of the old copy is left", async () => {
    // Another database (another database id): the copy is streamed afresh over what it held.
    const otherUrl = await postgres().createDatabase("follower_other");
    const other = await openPgStore(otherUrl);
    const replaced: SyncedEvent[] = [];
    const second = new PrimaryFollower({
      primary: other,
      primaryUrl: otherUrl,
      copy,
      listen: false,
      onSynced: (e) => replaced.push(e),
    });
    try {
      await importCatalogPg(other, catalog);
      const otherAdmin = createPolicyAdmin(other, catalog);
      await otherAdmin.createTenant(BOOT, { tenantId: "solo", name: "Solo", systems: ["cxengage"] });
      await otherAdmin.createUser(BOOT, {
        tenantId: "solo",
        userId: "only\\slash",
        displayName: "Ünïcödé \\ 😀",
      });
      expect((copy.prepare("SELECT count(*) FROM tenants").pluck().get() as number) > 1).toBe(true);
      await second.syncOnce();
      expect(replaced.at(-1)).toMatchObject({ applied: true, full: true });
      await expectSameAsPrimary(other);
      expect(copy.prepare("SELECT id FROM tenants").pluck().all()).toEqual(["solo"]);
    } finally {
      await second.stop();
      await other.close();
    }
    // Back to the first primary: whole again, and equal to it.
    await follower.syncOnce();
    await expectSameAsPrimary();
  });

  it("records when it last read the primary; a follower restarted with the primary down reports it", async () => {
    await follower.syncOnce();
    const recorded = copy.prepare("SELECT primary_read_at FROM meta WHERE id = 1").pluck().get() as number;
    expect(recorded).toBe(follower.lastSuccessAt);
    expect(Date.now() - recorded).toBeLessThan(10_000);
    // A new process over the same copy, its primary unreachable (nothing listens on port 1).
    const down = "postgresql://rolecall@127.0.0.1:1/none";
    const unreachable = new PgPolicyStore(createPgPool(down, { timeoutMs: 500, maxConnections: 1 }), {
      address: "127.0.0.1:1",
      timeoutMs: 500,
    });
    const restarted = new PrimaryFollower({ primary: unreachable, primaryUrl: down, copy, listen: false });
    try {
      await expect(restarted.syncOnce()).rejects.toThrow();
      expect(restarted.lastSuccessAt).toBe(recorded);
    } finally {
      await restarted.stop();
      await unreachable.close();
    }
  });
});
