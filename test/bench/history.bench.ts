/**
 * History benchmark (a script, not a vitest test): `npx tsx test/bench/history.bench.ts`
 * (`ROLECALL_BENCH_USERS=N` sets the second tenant's size, default 2,000). On a real SQLite store
 * built through the admin operations — the demo tenant, and a tenant of N users holding 3 of 40
 * roles — 1,000 random admin writes are committed per tenant; then:
 *
 * 1. at_revision 1,000 writes back, first ask: a fresh reader each time, so the tenant is
 *    rebuilt by walking the audit log back from now and compiled; p50/p99 of that + one check —
 *    starting from the snapshot a sidecar serves, and (as the CLI does) from the store file;
 * 1b. new revisions near the last asked (an investigation): one reader, each ask a revision not
 *    asked before, walked back from the nearest state already rebuilt;
 * 2. warm: one revision asked again (a cached past engine);
 * 3. ListAccessChanges over those 1,000 writes for one user (every page);
 * 4. baseline: a check on the live engine (compiled snapshot of the store now).
 *
 * Prints a markdown table. Target (issue 15): at_revision 1,000 writes back, p99 < 50 ms.
 */
import { loadCatalog } from "../../catalog/loader.js";
import { DEMO_TENANT_ID, seedDemo } from "../../sidecar/src/admin/demo-seed.js";
import { createPolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import type { Principal } from "../../sidecar/src/admin/principal.js";
import { PastSnapshots } from "../../sidecar/src/history/past-snapshots.js";
import { compileSnapshot } from "../../sidecar/src/policy/compiler.js";
import { createPolicyEngine } from "../../sidecar/src/policy/policy-engine.js";
import { readPolicySource } from "../../sidecar/src/store/read-policy.js";
import { readRevision } from "../../sidecar/src/store/revision.js";
import { sqliteStore } from "../../sidecar/src/store/sqlite-policy-store.js";
import { applyChange, randomChange } from "../support/policy/random-admin-change.js";
import { seededRandom } from "../support/seeded-random.js";
import { createTempDatabase } from "../support/store/test-database.js";

const WRITES_BACK = 1_000;
const COLD_ASKS = 60;
const WARM_ASKS = 500;
const USERS = Number(process.env.ROLECALL_BENCH_USERS ?? 2_000);
const BOOTSTRAP: Principal = { kind: "bootstrap" };

const catalog = loadCatalog();
const temp = createTempDatabase(catalog);
const store = sqliteStore(temp.db);
const admin = createPolicyAdmin(store, catalog);
const random = seededRandom(15);

function quantile(samples: readonly number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function buildLargeTenant(tenantId: string): Promise<void> {
  await admin.createTenant(BOOTSTRAP, { tenantId, name: "Bench", systems: ["cxengage"] });
  const keys = [...catalog.permissions.values()].filter((p) => p.system === "cxengage").map((p) => p.key);
  const roleIds: string[] = [];
  await admin.atomically(async () => {
    for (let r = 0; r < 40; r++) {
      const { roleId } = await admin.createRole(BOOTSTRAP, { tenantId, name: `Role ${r}` });
      await admin.grantPermissions(BOOTSTRAP, {
        tenantId,
        roleId,
        permissions: [keys[r % keys.length]!, ...keys.filter(() => random() < 0.1)],
      });
      roleIds.push(roleId);
    }
  });
  await admin.atomically(async () => {
    for (let u = 0; u < USERS; u++) {
      const userId = `u${String(u).padStart(6, "0")}`;
      await admin.createUser(BOOTSTRAP, { tenantId, userId, displayName: userId });
      await admin.assignRoles(BOOTSTRAP, {
        tenantId,
        userId,
        roleIds: [...new Set([0, 1, 2].map(() => roleIds[Math.floor(random() * roleIds.length)]!))],
      });
    }
  });
}

async function randomWrites(tenantId: string, count: number): Promise<void> {
  let done = 0;
  await admin.atomically(async () => {
    while (done < count) {
      const tenant = readPolicySource(temp.db, catalog).tenants.find((t) => t.id === tenantId)!;
      const space = {
        keys: [...catalog.permissions.values()]
          .filter((p) => tenant.systems.includes(p.system))
          .map((p) => p.key),
        licenseIds: [...catalog.licenses.keys()],
      };
      // Several writes per read of the tenant: a stale pick is just a refused or no-op write.
      for (let i = 0; i < 20 && done < count; i++) {
        const before = readRevision(temp.db);
        try {
          if ((await applyChange(admin, BOOTSTRAP, randomChange(random, tenant, space))).revision > before)
            done++;
        } catch (err) {
          if ((err as Error).name !== "StoreError") throw err;
        }
      }
    }
  });
}

interface Row {
  readonly tenant: string;
  readonly what: string;
  readonly p50: number;
  readonly p99: number;
  /** Mean CPU time (user + system) per ask, ms: what the box's load does not inflate. */
  readonly cpu: number;
}

/** CPU ms since `from` (process.cpuUsage()), per `n` asks. */
const cpuPer = (from: NodeJS.CpuUsage, n: number) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000 / n;
};

async function measure(tenantId: string, userId: string): Promise<Row[]> {
  const current = readRevision(temp.db);
  const key = [...catalog.permissions.values()].find((p) => p.system === "cxengage")!.key;
  const rows: Row[] = [];

  // The snapshot a sidecar serves (the store now): a walk back starts from its tenant.
  const served = compileSnapshot(readPolicySource(temp.db, catalog));
  // First asks: each from a fresh reader, so the tenant is walked back from now every time; as a
  // sidecar asks (from the snapshot it serves), and as the CLI does (the tenant read from the file).
  for (const [how, current_] of [
    ["as served", () => served],
    ["from the store file (CLI)", () => undefined],
  ] as const) {
    const cpu0 = process.cpuUsage();
    const cold: number[] = [];
    for (let i = 0; i < COLD_ASKS; i++) {
      const fresh = new PastSnapshots({ store, catalog, current: current_ });
      const t0 = process.hrtime.bigint();
      const at = (await fresh.engineAt(tenantId, { atRevision: current - WRITES_BACK - i }))!;
      at.engine.check(tenantId, userId, { permission: key });
      cold.push(ms(t0));
    }
    rows.push({
      tenant: tenantId,
      what: `at_revision ${WRITES_BACK} writes back, first ask (walked back from now), ${how}`,
      p50: quantile(cold, 0.5),
      p99: quantile(cold, 0.99),
      cpu: cpuPer(cpu0, COLD_ASKS),
    });
  }

  // An investigation: one reader, each ask a revision not asked before, near the last one.
  const past = new PastSnapshots({ store, catalog, current: () => served });
  let cpu0 = process.cpuUsage();
  const nearby: number[] = [];
  for (let i = 0; i < COLD_ASKS; i++) {
    const t0 = process.hrtime.bigint();
    const at = (await past.engineAt(tenantId, { atRevision: current - WRITES_BACK - i }))!;
    at.engine.check(tenantId, userId, { permission: key });
    nearby.push(ms(t0));
  }
  rows.push({
    tenant: tenantId,
    what: `at_revision ${WRITES_BACK} writes back, new revisions near the last asked`,
    p50: quantile(nearby, 0.5),
    p99: quantile(nearby, 0.99),
    cpu: cpuPer(cpu0, COLD_ASKS),
  });

  cpu0 = process.cpuUsage();
  const warm: number[] = [];
  for (let i = 0; i < WARM_ASKS; i++) {
    const t0 = process.hrtime.bigint();
    const at = (await past.engineAt(tenantId, { atRevision: current - WRITES_BACK }))!;
    at.engine.check(tenantId, userId, { permission: key });
    warm.push(ms(t0));
  }
  rows.push({
    tenant: tenantId,
    what: `at_revision ${WRITES_BACK} writes back, warm (cached)`,
    p50: quantile(warm, 0.5),
    p99: quantile(warm, 0.99),
    cpu: cpuPer(cpu0, WARM_ASKS),
  });

  cpu0 = process.cpuUsage();
  const listed: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = process.hrtime.bigint();
    await past.accessChanges({ tenantId, userId, limit: 1_000 });
    listed.push(ms(t0));
  }
  rows.push({
    tenant: tenantId,
    what: `ListAccessChanges over ≥ ${WRITES_BACK} writes`,
    p50: quantile(listed, 0.5),
    p99: quantile(listed, 0.99),
    cpu: cpuPer(cpu0, 10),
  });

  const live = createPolicyEngine({ snapshot: served });
  cpu0 = process.cpuUsage();
  const checks: number[] = [];
  for (let i = 0; i < WARM_ASKS; i++) {
    const t0 = process.hrtime.bigint();
    live.check(tenantId, userId, { permission: key });
    checks.push(ms(t0));
  }
  rows.push({
    tenant: tenantId,
    what: "baseline: check on the live engine",
    p50: quantile(checks, 0.5),
    p99: quantile(checks, 0.99),
    cpu: cpuPer(cpu0, WARM_ASKS),
  });
  return rows;
}

async function main(): Promise<void> {
  const t0 = process.hrtime.bigint();
  await seedDemo(admin, catalog);
  await randomWrites(DEMO_TENANT_ID, WRITES_BACK + COLD_ASKS);
  await buildLargeTenant("bench");
  await randomWrites("bench", WRITES_BACK + COLD_ASKS);
  console.error(`store built in ${(ms(t0) / 1000).toFixed(1)} s (revision ${readRevision(temp.db)})`);
  const rows = [...(await measure(DEMO_TENANT_ID, "lena")), ...(await measure("bench", "u000007"))];
  const f = (x: number) => (x < 0.1 ? x.toFixed(4) : x.toFixed(1));
  console.log(`| tenant | measure | p50 ms | p99 ms | CPU ms/ask |\n|---|---|---|---|---|`);
  for (const r of rows)
    console.log(
      `| ${r.tenant === "bench" ? `${USERS.toLocaleString("en")} users` : "demo (8 users)"} | ${r.what} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.cpu)} |`,
    );
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => temp.cleanup());
