/**
 * Fleet benchmark (issue 14; a script, not a vitest test). `--help` lists the options.
 *
 * 1. One real PostgreSQL 15 (max_connections raised for N) and N `rolecall serve --primary URL
 *    --db <own copy>` processes (default 8), serving `--rate` checks/s in all from a load
 *    generator process. This process commits a one-role change (grant, then revoke, of one
 *    permission on a role dave holds) with PolicyAdmin over PgPolicyStore — as any sidecar's
 *    AdminService would — then asks every sidecar with CheckPermission (min_revision = the commit's
 *    revision; or `--probe poll`: without, every few ms) until each answers the new decision: commit → visible on ALL N, p50/p99 over the commits. Then,
 *    the fleet idle: CPU and resident memory per follower (/proc), and its connections to the
 *    primary.
 * 2. A sidecar started against a primary holding the 100,000-user scale fixture (copied in with
 *    `rolecall copy-store` when the CLI has it, else test/support/copy-sqlite-to-pg.ts): time to
 *    SERVING cold (empty --db), warm with the primary up, and warm with the primary stopped.
 * 3. Admin write latency, PostgreSQL vs SQLite: the same operations through PolicyAdmin.
 *
 * Prints markdown tables. Every child (sidecars, load generator, PostgreSQL) is stopped by its
 * PID at the end, also on error or Ctrl-C.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { Catalog } from "../../catalog/catalog.js";
import { loadCatalog } from "../../catalog/loader.js";
import { seedDemo } from "../../sidecar/src/admin/demo-seed.js";
import { createPolicyAdmin, type PolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import type { Principal } from "../../sidecar/src/admin/principal.js";
import { importCatalog } from "../../sidecar/src/store/catalog-import.js";
import { openDatabase } from "../../sidecar/src/store/database.js";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { importCatalogPg } from "../../sidecar/src/store/pg/pg-catalog-import.js";
import { openPgStore, type PgPolicyStore } from "../../sidecar/src/store/pg/pg-policy-store.js";
import type { PolicyStore } from "../../sidecar/src/store/policy-store.js";
import { sqliteStore } from "../../sidecar/src/store/sqlite-policy-store.js";
import { generateScale } from "../fixtures/scale.js";
import { grpcClients, unary } from "../support/clients.js";
import { copySqliteToPg } from "../support/copy-sqlite-to-pg.js";
import {
  type CheckLoad,
  cpuTimeMs,
  type FleetSidecar,
  type LoadSummary,
  processTreeCpuMs,
  rssMiB,
  startCheckLoad,
  startFleetSidecar,
} from "../support/fleet.js";
import { type PostgresServer, startPostgres } from "../support/postgres.js";
import {
  ADMIN_OPS,
  COMMITS,
  FOLLOWERS,
  IDLE_SECONDS,
  PARTS,
  POLL_GAP_MS,
  PROBE,
  QUIET_MS,
  RATE,
  SCALE,
  SCALE_PATH,
  START_BATCH,
  START_ROUNDS,
  TRACE,
  WARMUP_COMMITS,
} from "./fleet-options.js";
import { type CommitMark, traceTable } from "./fleet-trace.js";

const ROOT = join(import.meta.dirname, "..", "..");
const BOOTSTRAP: Principal = { kind: "bootstrap" };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (v: number) => (Number.isNaN(v) ? "–" : v < 10 ? v.toFixed(2) : v.toFixed(1));
const median = (values: readonly number[]) => percentile(values, 50);

// ---- cleanup: everything started is stopped by PID, whatever happens ------------------------

const sidecars = new Set<FleetSidecar>();
const loads = new Set<CheckLoad>();
let postgres: PostgresServer | undefined;
const tempDirs: string[] = [];

async function cleanup(): Promise<void> {
  for (const load of loads) load.kill();
  loads.clear();
  await Promise.all([...sidecars].map((s) => s.stop("SIGKILL").catch(() => undefined)));
  sidecars.clear();
  await postgres?.destroy().catch(() => undefined);
  postgres = undefined;
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

async function follower(
  primary: string,
  dbPath?: string,
  args: readonly string[] = [],
): Promise<FleetSidecar> {
  const s = await startFleetSidecar({
    primary,
    ...(dbPath === undefined ? {} : { dbPath }),
    args,
    startTimeoutMs: 120_000,
  });
  sidecars.add(s);
  return s;
}

async function stopSidecar(s: FleetSidecar): Promise<void> {
  await s.stop();
  sidecars.delete(s);
}

// ---- 1. propagation to all N -----------------------------------------------------------------

interface FleetResult {
  readonly startMs: number[];
  readonly allMs: number[];
  readonly firstMs: number[];
  readonly medianMs: number[];
  readonly pollGapMs: number;
  readonly load: LoadSummary;
  readonly idleCpuPercent: number[];
  readonly idleRssMiB: number[];
  readonly connections: { total: number; listening: number; pooled: number };
  /** Cores busy during the commits, per part: followers (all), PostgreSQL, load generator, this process. */
  readonly busyCores: { followers: number; postgres: number; load: number; bench: number };
  /** CPU ms a commit costs each follower beyond serving the load (the same load measured without commits). */
  readonly followerCpuPerCommitMs: number;
}

async function fleetPropagation(server: PostgresServer, catalog: Catalog): Promise<FleetResult> {
  const url = await server.createDatabase("fleet");
  const fleet: FleetSidecar[] = [];
  const traceArgs = TRACE ? ["--log-level", "debug"] : [];
  // The first migrates the primary and seeds the demo; the rest start a few at a time.
  fleet.push(await follower(url, undefined, traceArgs));
  while (fleet.length < FOLLOWERS) {
    const n = Math.min(START_BATCH, FOLLOWERS - fleet.length);
    fleet.push(...(await Promise.all(Array.from({ length: n }, () => follower(url, undefined, traceArgs)))));
  }
  const startMs = fleet.map((s) => s.startMs);
  const store = await openPgStore(url, { maxConnections: 2 });
  const clients = fleet.map((s) => grpcClients(s.grpcAddress));
  try {
    const admin = createPolicyAdmin(store, catalog);
    const probe = { tenant_id: "demo", user_id: "dave", permission: "cxengage/CONTACTS_UPDATE" };
    const change = { tenantId: "demo", roleId: "custom-agent", permissions: [probe.permission] };
    const mix = ["alice", "bob", "carol", "dave"].flatMap((u) =>
      ["cxengage/CONTACTS_READ", "cxengage/NOTES_READ_ALL", "calabrio-one/view-contacts"].map((p) => ({
        tenant_id: "demo",
        user_id: u,
        permission: p,
      })),
    );
    const load = await startCheckLoad({
      addresses: fleet.map((s) => s.grpcAddress),
      rate: RATE,
      requests: mix,
    });
    loads.add(load);
    for (const c of clients) for (let k = 0; k < 20; k++) await unary(c.policy, "CheckPermission", probe);
    await sleep(2_000);

    const pollGapMs = POLL_GAP_MS;
    const allMs: number[] = [];
    const firstMs: number[] = [];
    const medianMs: number[] = [];
    const commits: CommitMark[] = [];
    const cpu = () => ({
      followers: fleet.reduce((a, s) => a + cpuTimeMs(s.pid), 0),
      postgres: processTreeCpuMs(server.pid),
      load: cpuTimeMs(load.pid),
      bench: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      at: performance.now(),
    });
    /** Commit number `n` (grant when even, revoke when odd) and wait until every sidecar serves it. */
    const commitAndSee = async (n: number): Promise<{ mark: CommitMark; seen: number[] }> => {
      const granting = n % 2 === 0;
      const sentAt = Date.now();
      const written = granting
        ? await admin.grantPermissions(BOOTSTRAP, change)
        : await admin.revokePermissions(BOOTSTRAP, { ...change, cascade: false });
      const committed = performance.now();
      const mark: CommitMark = { revision: written.revision, sentAt, at: Date.now(), visibleAt: [] };
      const seen = await Promise.all(
        clients.map(async (c, i) => {
          for (;;) {
            const res =
              PROBE === "wait"
                ? await unary<{ allowed: boolean }>(
                    c.policy,
                    "CheckPermission",
                    { ...probe, min_revision: written.revision },
                    { deadlineMs: 10_000 },
                  )
                : await unary<{ allowed: boolean }>(c.policy, "CheckPermission", probe);
            if (res.allowed === granting) {
              mark.visibleAt[i] = Date.now();
              return performance.now() - committed;
            }
            if (performance.now() - committed > 10_000)
              throw new Error(`commit ${n} not visible on sidecar ${i} after 10 s`);
            await sleep(pollGapMs);
          }
        }),
      );
      await sleep(5 + Math.random() * 20); // commits land at random points of each poll cycle
      return { mark, seen };
    };
    // Untimed: a follower's copy, reload and probe paths are cold code until it has run them a few
    // times (one in service has run them thousands of times).
    for (let n = 0; n < WARMUP_COMMITS; n++) await commitAndSee(n);
    // The followers' CPU under the same load without commits, to tell what a commit costs them.
    const quietBefore = cpu();
    await sleep(QUIET_MS);
    const quietAfter = cpu();
    const quietFollowerCores =
      (quietAfter.followers - quietBefore.followers) / (quietAfter.at - quietBefore.at);
    const cpuBefore = cpu();
    for (let n = WARMUP_COMMITS; n < WARMUP_COMMITS + COMMITS; n++) {
      const { mark, seen } = await commitAndSee(n);
      commits.push(mark);
      allMs.push(Math.max(...seen));
      firstMs.push(Math.min(...seen));
      medianMs.push(median(seen));
    }
    const cpuAfter = cpu();
    if (TRACE)
      process.stdout.write(
        traceTable(
          commits,
          fleet.map((s) => s.output()),
        ),
      );
    const wall = cpuAfter.at - cpuBefore.at;
    const busyCores = {
      followers: (cpuAfter.followers - cpuBefore.followers) / wall,
      postgres: (cpuAfter.postgres - cpuBefore.postgres) / wall,
      load: (cpuAfter.load - cpuBefore.load) / wall,
      bench: (cpuAfter.bench - cpuBefore.bench) / wall,
    };
    /** CPU a commit costs each follower beyond serving the load: copying, reloading, the probes. */
    const followerCpuPerCommitMs =
      (cpuAfter.followers - cpuBefore.followers - quietFollowerCores * wall) / COMMITS / FOLLOWERS;
    const loadSummary = await load.stop();
    loads.delete(load);
    if ((WARMUP_COMMITS + COMMITS) % 2 === 1)
      await admin.revokePermissions(BOOTSTRAP, { ...change, cascade: false });

    // Idle: pooled connections close after 10 s unused (node-postgres' default); LISTEN stays.
    await sleep(12_000);
    const connections = await store.readSql(async (query) => {
      const rows = (
        await query<{ app: string; n: number }>(
          "SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity WHERE datname = 'fleet' GROUP BY 1",
        )
      ).rows;
      const of = (app: string) => rows.find((r) => r.app === app)?.n ?? 0;
      return {
        total: rows.reduce((a, r) => a + r.n, 0),
        listening: of("rolecall-follower"),
        pooled: of("rolecall"),
      };
    });
    const before = fleet.map((s) => cpuTimeMs(s.pid));
    await sleep(IDLE_SECONDS * 1_000);
    const idleCpuPercent = fleet.map(
      (s, i) => ((cpuTimeMs(s.pid) - before[i]!) / (IDLE_SECONDS * 1_000)) * 100,
    );
    const idleRssMiB = fleet.map((s) => rssMiB(s.pid));
    return {
      startMs,
      allMs,
      firstMs,
      medianMs,
      pollGapMs,
      load: loadSummary,
      idleCpuPercent,
      idleRssMiB,
      connections,
      busyCores,
      followerCpuPerCommitMs,
    };
  } finally {
    for (const c of clients) c.close();
    await store.close();
    await Promise.all(fleet.map((s) => stopSidecar(s)));
  }
}

// ---- 2. start against the scale fixture --------------------------------------------------------

interface ScaleResult {
  readonly buildMs: number | undefined;
  readonly copyMs: number;
  readonly copiedWith: string;
  readonly revision: number;
  readonly coldMs: number[];
  readonly warmUpMs: number[];
  readonly warmDownMs: number[];
}

/** Whether the CLI has `copy-store` yet. */
function cliHasCopyStore(): boolean {
  try {
    execFileSync(process.execPath, [join(ROOT, "bin/rolecall.js"), "copy-store", "--help"], {
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  }
}

async function scaleStart(server: PostgresServer, catalog: Catalog): Promise<ScaleResult> {
  const dir = mkdtempSync(join(tmpdir(), "rolecall-fleet-scale-"));
  tempDirs.push(dir);
  let fixture = SCALE_PATH;
  let buildMs: number | undefined;
  if (fixture === undefined) {
    fixture = join(dir, "scale.db");
    const started = performance.now();
    const db = openDatabase(fixture);
    generateScale(db, catalog);
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.close();
    buildMs = performance.now() - started;
  } else if (!existsSync(fixture)) throw new Error(`no scale database at ${fixture}`);

  const url = server.urlOf("scale");
  await server.createDatabase("scale");
  const copyStarted = performance.now();
  let copiedWith: string;
  let revision: number;
  if (cliHasCopyStore()) {
    execFileSync(process.execPath, [join(ROOT, "bin/rolecall.js"), "copy-store", fixture, url], {
      stdio: "ignore",
    });
    copiedWith = "`rolecall copy-store`";
    const store = await openPgStore(url, { maxConnections: 1 });
    revision = await store.read(async (tx) => tx.revision());
    await store.close();
  } else {
    revision = (await copySqliteToPg(fixture, url)).revision;
    copiedWith = "test/support/copy-sqlite-to-pg.ts";
  }
  const copyMs = performance.now() - copyStarted;

  const args = ["--no-demo"];
  const coldMs: number[] = [];
  const warmUpMs: number[] = [];
  const warmDownMs: number[] = [];
  const copies: string[] = [];
  for (let round = 0; round < START_ROUNDS; round++) {
    const copy = join(dir, `copy-${round}.db`);
    copies.push(copy);
    const cold = await follower(url, copy, args);
    await checkServes(cold, revision);
    coldMs.push(cold.startMs);
    await stopSidecar(cold);
    const warm = await follower(url, copy, args);
    await checkServes(warm, revision);
    warmUpMs.push(warm.startMs);
    await stopSidecar(warm);
  }
  await server.stop({ mode: "fast" });
  try {
    for (const copy of copies) {
      const warm = await follower(url, copy, args);
      await checkServes(warm, revision);
      warmDownMs.push(warm.startMs);
      await stopSidecar(warm);
    }
  } finally {
    await server.start();
  }
  return { buildMs, copyMs, copiedWith, revision, coldMs, warmUpMs, warmDownMs };
}

/** The sidecar answers at the fixture's revision (what it served is the primary's copy). */
async function checkServes(s: FleetSidecar, revision: number): Promise<void> {
  const clients = grpcClients(s.grpcAddress);
  try {
    const res = await unary<{ revision: string }>(clients.policy, "CheckPermission", {
      tenant_id: "tenant-01",
      user_id: "nobody",
      permission: "cxengage/CONTACTS_READ",
    });
    if (Number(res.revision) !== revision) {
      throw new Error(
        `the scale sidecar answered at revision ${res.revision}, the primary is at ${revision}`,
      );
    }
  } finally {
    clients.close();
  }
}

// ---- 3. admin write latency, PostgreSQL vs SQLite ---------------------------------------------

type OpTimes = Record<"grant/revoke one permission" | "create user" | "assign role", number[]>;

/** The same admin operations on a store with the demo tenant; each call's latency. */
async function adminLatency(admin: PolicyAdmin, catalog: Catalog): Promise<OpTimes> {
  await seedDemo(admin, catalog);
  const times: OpTimes = { "grant/revoke one permission": [], "create user": [], "assign role": [] };
  const timed = async (kind: keyof OpTimes, fn: () => Promise<unknown>) => {
    const started = performance.now();
    await fn();
    times[kind].push(performance.now() - started);
  };
  const change = { tenantId: "demo", roleId: "custom-agent", permissions: ["cxengage/CONTACTS_UPDATE"] };
  // Warm-up: the first calls pay for connections and statement preparation.
  for (let k = 0; k < 10; k++) {
    await admin.grantPermissions(BOOTSTRAP, change);
    await admin.revokePermissions(BOOTSTRAP, { ...change, cascade: false });
  }
  for (let n = 0; n < ADMIN_OPS; n++) {
    await timed("grant/revoke one permission", () =>
      n % 2 === 0
        ? admin.grantPermissions(BOOTSTRAP, change)
        : admin.revokePermissions(BOOTSTRAP, { ...change, cascade: false }),
    );
  }
  for (let n = 0; n < ADMIN_OPS / 2; n++) {
    const userId = `bench-user-${n}`;
    await timed("create user", () =>
      admin.createUser(BOOTSTRAP, { tenantId: "demo", userId, displayName: `Bench ${n}` }),
    );
    await timed("assign role", () =>
      admin.assignRoles(BOOTSTRAP, { tenantId: "demo", userId, roleIds: ["custom-agent"] }),
    );
  }
  return times;
}

async function adminComparison(
  server: PostgresServer,
  catalog: Catalog,
): Promise<{ pg: OpTimes; sqlite: OpTimes }> {
  const dir = mkdtempSync(join(tmpdir(), "rolecall-fleet-admin-"));
  tempDirs.push(dir);
  const db = openStore(join(dir, "rolecall.db"));
  let sqlite: OpTimes;
  try {
    importCatalog(db, catalog);
    sqlite = await adminLatency(createPolicyAdmin(sqliteStore(db), catalog), catalog);
  } finally {
    db.close();
  }
  // A database no sidecar follows: the write alone, as on SQLite.
  const store: PgPolicyStore = await openPgStore(await server.createDatabase("admin"), { maxConnections: 4 });
  try {
    await importCatalogPg(store, catalog);
    const pg = await adminLatency(createPolicyAdmin(store as PolicyStore, catalog), catalog);
    return { pg, sqlite };
  } finally {
    await store.close();
  }
}

// ---- report ------------------------------------------------------------------------------------

function fleetTable(r: FleetResult): string {
  const cpu = r.idleCpuPercent;
  const rss = r.idleRssMiB;
  const errors = Object.values(r.load.errors).reduce((a, b) => a + b, 0);
  return [
    `### ${FOLLOWERS} followers, ${RATE} checks/s in all`,
    "",
    `One PostgreSQL 15 primary; ${FOLLOWERS} \`rolecall serve --primary URL --db <own copy>\` processes (default \`--primary-poll-ms\` 1000; the copy read at once when the follower writes it); ${COMMITS} timed commits (after ${WARMUP_COMMITS} untimed ones) alternating grant/revoke of \`cxengage/CONTACTS_UPDATE\` on \`custom-agent\` (held by dave) through PolicyAdmin over PgPolicyStore; after each, every sidecar asked with CheckPermission ${PROBE === "wait" ? "with min_revision set to the commit's revision (answered once it serves it)" : `without min_revision, ${r.pollGapMs} ms between polls of one sidecar`}.`,
    "",
    "| measure | p50 | p99 | max |",
    "|---|---:|---:|---:|",
    `| commit → visible on **all ${FOLLOWERS}** | ${ms(percentile(r.allMs, 50))} ms | ${ms(percentile(r.allMs, 99))} ms | ${ms(Math.max(...r.allMs))} ms |`,
    `| commit → visible on the median sidecar | ${ms(percentile(r.medianMs, 50))} ms | ${ms(percentile(r.medianMs, 99))} ms | ${ms(Math.max(...r.medianMs))} ms |`,
    `| commit → visible on the first sidecar | ${ms(percentile(r.firstMs, 50))} ms | ${ms(percentile(r.firstMs, 99))} ms | ${ms(Math.max(...r.firstMs))} ms |`,
    `| background check latency (load generator) | ${ms(r.load.p50Ms)} ms | ${ms(r.load.p99Ms)} ms | ${ms(r.load.maxMs)} ms |`,
    `| follower start to SERVING (demo) | ${ms(percentile(r.startMs, 50))} ms | ${ms(percentile(r.startMs, 99))} ms | ${ms(Math.max(...r.startMs))} ms |`,
    "",
    `Background load: ${r.load.ok} checks answered in ${r.load.seconds.toFixed(1)} s (${Math.round(r.load.ok / r.load.seconds)}/s), ${errors} failed, ${r.load.skipped} skipped.`,
    "",
    `CPU during the commits, in cores (of ${cpus().length}): followers ${r.busyCores.followers.toFixed(2)} in all (${(r.busyCores.followers / FOLLOWERS).toFixed(3)} each), PostgreSQL ${r.busyCores.postgres.toFixed(2)}, load generator ${r.busyCores.load.toFixed(2)}, this process (commits and polls) ${r.busyCores.bench.toFixed(2)}. A commit costs each follower ${r.followerCpuPerCommitMs.toFixed(1)} ms of CPU beyond serving the load (its copy, reload and the probes that watch for it; the same load measured ${QUIET_MS / 1000} s without commits).`,
    "",
    "| idle follower (after the run) | median | max |",
    "|---|---:|---:|",
    `| CPU (${IDLE_SECONDS} s, /proc utime+stime) | ${percentile(cpu, 50).toFixed(2)} % | ${Math.max(...cpu).toFixed(2)} % |`,
    `| resident memory (VmRSS) | ${percentile(rss, 50).toFixed(1)} MiB | ${Math.max(...rss).toFixed(1)} MiB |`,
    "",
    `Connections to the primary's database when idle: ${r.connections.total} in all, ${r.connections.listening} listening (one per follower), ${r.connections.pooled} pooled (pool of at most 4 each; idle ones close after 10 s).`,
    "",
  ].join("\n");
}

function scaleTable(r: ScaleResult): string {
  const row = (label: string, v: number[]) =>
    `| ${label} | ${ms(median(v))} ms | ${ms(Math.min(...v))}–${ms(Math.max(...v))} ms |`;
  return [
    "### Start against the 100,000-user scale fixture",
    "",
    `20 tenants, 100,000 users, 1,000 roles, revision ${r.revision}${r.buildMs === undefined ? "" : ` (fixture built in ${(r.buildMs / 1000).toFixed(1)} s)`}; copied into PostgreSQL with ${r.copiedWith} in ${(r.copyMs / 1000).toFixed(1)} s. Spawn to serving (the first snapshot compiled), ${START_ROUNDS} starts each:`,
    "",
    "| start | median | range |",
    "|---|---:|---:|",
    row("cold: empty `--db`, primary up (full copy, then compile)", r.coldMs),
    row("warm: copy present and current, primary up", r.warmUpMs),
    row("warm: copy present, primary stopped", r.warmDownMs),
    "",
  ].join("\n");
}

function adminTable(r: { pg: OpTimes; sqlite: OpTimes }): string {
  const kinds = Object.keys(r.pg) as (keyof OpTimes)[];
  return [
    "### Admin write latency, PostgreSQL vs SQLite",
    "",
    "PolicyAdmin in this process, demo tenant, one write at a time; PostgreSQL on loopback (fsync off, synchronous_commit on), SQLite WAL with synchronous=NORMAL.",
    "",
    "| operation | n | PostgreSQL p50 | PostgreSQL p99 | SQLite p50 | SQLite p99 |",
    "|---|---:|---:|---:|---:|---:|",
    ...kinds.map(
      (k) =>
        `| ${k} | ${r.pg[k].length} | ${ms(percentile(r.pg[k], 50))} ms | ${ms(percentile(r.pg[k], 99))} ms | ${ms(percentile(r.sqlite[k], 50))} ms | ${ms(percentile(r.sqlite[k], 99))} ms |`,
    ),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const catalog = loadCatalog();
  // Each follower: one listening connection and a pool of at most 4; room for this process too.
  const maxConnections = Math.max(100, FOLLOWERS * 5 + 30);
  postgres = await startPostgres({ settings: { max_connections: maxConnections } });
  const out: string[] = [
    "## Fleet: one PostgreSQL primary, N followers",
    "",
    `Node ${process.version}, PostgreSQL 15 (max_connections ${maxConnections}), ${new Date().toISOString().slice(0, 10)}.`,
    "",
  ];
  if (PARTS.has("propagation")) out.push(fleetTable(await fleetPropagation(postgres, catalog)));
  process.stdout.write(`${out.splice(0).join("\n")}\n`);
  if (SCALE) {
    out.push(scaleTable(await scaleStart(postgres, catalog)));
    process.stdout.write(`${out.splice(0).join("\n")}\n`);
  }
  if (PARTS.has("admin")) out.push(adminTable(await adminComparison(postgres, catalog)));
  process.stdout.write(`${out.join("\n")}\n`);
}

try {
  await main();
} finally {
  await cleanup();
}
