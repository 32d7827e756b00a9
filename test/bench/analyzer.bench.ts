/**
 * Access analyzer benchmark (a script, not a vitest test):
 *
 *   NODE_OPTIONS=--expose-gc npx tsx test/bench/analyzer.bench.ts [--rounds N] [--no-export]
 *
 * On the scale fixture (test/fixtures/scale.ts: 20 tenants, 100,000 users, 1,000 roles), built
 * into a temporary file:
 * 1. `SimulateChanges` of one grant on a role held by all 5,000 users of one tenant (the real
 *    admin operation inside a transaction rolled back): p50/p99 time, heap and RSS growth.
 * 2. `CompareUsers` vs one `ListEffectivePermissions` (as served: through the engine's cache, and
 *    computed afresh), p50 over random pairs of one tenant, in the same run.
 * 3. The review export (`rolecall review`, the real CLI in a child process) of one tenant of
 *    100,000 users (a second fixture file): rows/s, output size and peak RSS, against the peak
 *    RSS of `rolecall check` on the same file (the same store loaded and compiled, no export).
 * Prints a markdown table; progress goes to stderr.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadCatalog } from "../../catalog/loader.js";
import { createPolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import type { Principal } from "../../sidecar/src/admin/principal.js";
import { simulateChanges } from "../../sidecar/src/admin/simulate.js";
import { compareUsers } from "../../sidecar/src/policy/compare-users.js";
import { compileSnapshot } from "../../sidecar/src/policy/compiler.js";
import { listEffective } from "../../sidecar/src/policy/evaluator.js";
import { createPolicyEngine } from "../../sidecar/src/policy/policy-engine.js";
import { type Db, openDatabase } from "../../sidecar/src/store/database.js";
import { readPolicySource, readPolicySourceForTenants } from "../../sidecar/src/store/read-policy.js";
import { appendChange, bumpRevision } from "../../sidecar/src/store/revision.js";
import { sqliteStore } from "../../sidecar/src/store/sqlite-policy-store.js";
import { generateScale } from "../fixtures/scale.js";
import { seededRandom } from "../support/seeded-random.js";

const ROOT = join(import.meta.dirname, "..", "..");
const BOOTSTRAP: Principal = { kind: "bootstrap" };
const TENANT = "tenant-01";
const ROLE = "bench-everyone";
const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 30;

const progress = (step: string) => process.stderr.write(`[bench] ${step}\n`);
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

/** The q-quantile (nearest rank) of samples. */
function quantile(samples: readonly number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

/** A role held by every user of the tenant, written straight into the tables like the fixture. */
function addRoleHeldByAll(db: Db): number {
  const users = db.prepare("SELECT id FROM users WHERE tenant_id = ?").pluck().all(TENANT) as string[];
  db.transaction(() => {
    db.prepare(
      "INSERT INTO roles (tenant_id, id, name, kind, created_at) VALUES (?, ?, 'Bench Everyone', 'custom', ?)",
    ).run(TENANT, ROLE, new Date().toISOString());
    db.prepare("INSERT INTO role_grants (tenant_id, role_id, permission_key) VALUES (?, ?, ?)").run(
      TENANT,
      ROLE,
      "cxengage/CONTACTS_READ",
    );
    const assign = db.prepare("INSERT INTO user_roles (tenant_id, user_id, role_id) VALUES (?, ?, ?)");
    for (const u of users) assign.run(TENANT, u, ROLE);
    appendChange(db, bumpRevision(db), TENANT, "bench", { role: ROLE });
  })();
  return users.length;
}

async function simulation(db: Db): Promise<string[]> {
  const catalog = loadCatalog();
  const holders = addRoleHeldByAll(db);
  const admin = createPolicyAdmin(sqliteStore(db), catalog);
  const request = {
    tenantId: TENANT,
    changes: [
      {
        operation: "grantPermissions" as const,
        request: { tenantId: TENANT, roleId: ROLE, permissions: ["cxengage/CONTACTS_UPDATE"] },
      },
    ],
  };
  // A sidecar starts from the snapshot it serves; the CLI (`rolecall what-if`) reads the tenant.
  const serving = compileSnapshot(readPolicySource(db, catalog));
  const served = { current: () => serving };
  const first = await simulateChanges(admin.context, BOOTSTRAP, request, served); // warm-up
  await simulateChanges(admin.context, BOOTSTRAP, request);
  progress(`simulation: ${holders} holders, ${first.changes[0]!.usersGaining} would gain`);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  let heapPeak = 0;
  const times: number[] = [];
  const cli: number[] = [];
  const reload: number[] = [];
  const firstOnSnapshot: number[] = [];
  // CPU time (user + system): what the machine's load does not inflate (GC threads included).
  let cpuMs = 0;
  for (let i = 0; i < rounds; i++) {
    // Interleaved, so both meet the same machine.
    let t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await simulateChanges(admin.context, BOOTSTRAP, request, served);
    times.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    cpuMs += (cpu.user + cpu.system) / 1000;
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - heapBefore);
    t0 = performance.now();
    await simulateChanges(admin.context, BOOTSTRAP, request);
    cli.push(performance.now() - t0);
    // Baseline: reading and compiling the tenant once, as a sidecar does when it reloads it.
    t0 = performance.now();
    const reloaded = compileSnapshot(readPolicySourceForTenants(db, catalog, [TENANT]));
    reload.push(performance.now() - t0);
    // The first simulation on a snapshot just served (after a policy change): nothing kept yet.
    t0 = performance.now();
    await simulateChanges(admin.context, BOOTSTRAP, request, { current: () => reloaded });
    firstOnSnapshot.push(performance.now() - t0);
  }
  const rssGrowth = process.resourceUsage().maxRSS * 1024 - rssBefore;
  const gain = first.changes[0]!.usersGaining.toLocaleString("en-US");
  return [
    `| \`SimulateChanges\` (sidecar), grant on a role held by ${holders.toLocaleString("en-US")} users (${gain} gain), ${rounds} runs | p50 ${quantile(times, 0.5).toFixed(1)} ms, p99 ${quantile(times, 0.99).toFixed(1)} ms; CPU ${(cpuMs / rounds).toFixed(1)} ms per run | p99 < 200 ms |`,
    `| the same, the first simulation on a newly served snapshot (after a policy change) | p50 ${quantile(firstOnSnapshot, 0.5).toFixed(1)} ms, p99 ${quantile(firstOnSnapshot, 0.99).toFixed(1)} ms | (explains) |`,
    `| the same vs reading and compiling that tenant once (same run), p50 | ${(quantile(times, 0.5) / quantile(reload, 0.5)).toFixed(2)}x (${quantile(reload, 0.5).toFixed(1)} ms) | (explains) |`,
    `| the same from the store file (\`rolecall what-if\`: the tenant read first) | p50 ${quantile(cli, 0.5).toFixed(1)} ms, p99 ${quantile(cli, 0.99).toFixed(1)} ms | (explains) |`,
    `| its memory: heap growth over the runs (garbage not yet collected) / process peak RSS growth | ${mb(heapPeak)} / ${mb(Math.max(0, rssGrowth))} | (explains) |`,
  ];
}

function comparison(db: Db): string[] {
  const catalog = loadCatalog();
  const snapshot = compileSnapshot(readPolicySource(db, catalog));
  const engine = createPolicyEngine({ snapshot });
  const tenant = snapshot.tenants.get(TENANT)!;
  const rand = seededRandom(7);
  const pick = () => tenant.userIds[Math.floor(rand() * tenant.userIds.length)]!;
  const pairs = Array.from({ length: 400 }, () => [pick(), pick()] as const);
  for (const [a] of pairs) engine.listEffective(TENANT, a); // the cache as a serving sidecar has it
  const compare: number[] = [];
  const served: number[] = [];
  const fresh: number[] = [];
  let sink = 0;
  for (let round = 0; round < 3; round++) {
    for (const [a, b] of pairs) {
      // Interleaved, so both meet the same machine.
      let t0 = performance.now();
      sink += compareUsers(snapshot, TENANT, a, b).permissionDifferences;
      compare.push(performance.now() - t0);
      t0 = performance.now();
      sink += engine.listEffective(TENANT, a).length;
      served.push(performance.now() - t0);
      t0 = performance.now();
      sink += listEffective(snapshot, TENANT, a).length;
      fresh.push(performance.now() - t0);
    }
  }
  if (sink < 0) console.log(sink);
  const c = quantile(compare, 0.5);
  const s = quantile(served, 0.5);
  const f = quantile(fresh, 0.5);
  return [
    `| \`CompareUsers\` p50 vs one \`ListEffectivePermissions\` p50 (cached, as served) | ${c.toFixed(3)} ms vs ${s.toFixed(3)} ms: **${(c / s).toFixed(2)}x** (vs computed afresh, ${f.toFixed(3)} ms: ${(c / f).toFixed(2)}x) | ≤ 3x |`,
  ];
}

/** Runs `rolecall ARGS` under /usr/bin/time: wall time, peak RSS (bytes) and what it printed on stderr. */
function timed(args: readonly string[]): { ms: number; rss: number; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(
    "/usr/bin/time",
    ["-f", "maxrss=%M", process.execPath, join(ROOT, "bin/rolecall.js"), ...args],
    {
      stdio: ["ignore", "ignore", "pipe"],
      encoding: "utf8",
    },
  );
  const ms = performance.now() - t0;
  const rss = /maxrss=(\d+)/.exec(r.stderr);
  // `rolecall check` exits 3 for a denial: still a measurement. Anything else is a failure.
  if (rss === null || (r.status !== 0 && r.status !== 3))
    throw new Error(`rolecall ${args.join(" ")}: ${r.stderr}`);
  return { ms, rss: Number(rss[1]) * 1024, stderr: r.stderr };
}

function exportRows(dir: string): string[] {
  const path = join(dir, "one-tenant.db");
  progress("building a one-tenant, 100,000-user fixture");
  const db = openDatabase(path);
  generateScale(db, loadCatalog(), { tenants: 1, users: 100_000, roles: 60 });
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  const out = join(dir, "review.csv");
  progress("rolecall check on it (baseline: load and compile)");
  const base = timed(["check", TENANT, `user-1@${TENANT}.example`, "cxengage/CONTACTS_READ", "--db", path]);
  progress("rolecall review on it");
  const review = timed(["review", TENANT, "--db", path, "--out", out]);
  const rows = Number(/^(\d+) row/m.exec(review.stderr)?.[1] ?? "0");
  const size = statSync(out).size;
  const exportMs = review.ms - base.ms;
  return [
    `| review export, one tenant of 100,000 users (\`rolecall review\`): ${rows.toLocaleString("en-US")} rows, ${mb(size)} of CSV | ${review.ms.toFixed(0)} ms in all; ${Math.round(rows / (exportMs / 1000)).toLocaleString("en-US")} rows/s beyond the ${base.ms.toFixed(0)} ms a \`check\` takes to load and compile | (explains) |`,
    `| its peak RSS vs \`rolecall check\` on the same file | ${mb(review.rss)} vs ${mb(base.rss)} | bounded: far below the output |`,
  ];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "rolecall-analyzer-bench-"));
  try {
    progress("building the scale fixture (20 tenants, 100,000 users)");
    const db = openDatabase(join(dir, "scale.db"));
    generateScale(db, loadCatalog());
    const rows = [...(await simulation(db)), ...comparison(db)];
    db.close();
    if (!process.argv.includes("--no-export")) rows.push(...exportRows(dir));
    console.log("| measure | result | target |\n|---|---|---|");
    for (const r of rows) console.log(r);
    // Absolute times on a shared machine follow its load: say what it was.
    const load = loadavg().map((l) => l.toFixed(1));
    console.log(`\n(load average at the end: ${load.join(", ")} on ${availableParallelism()} CPUs)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
