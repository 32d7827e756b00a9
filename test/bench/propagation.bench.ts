/**
 * Propagation benchmark (a script, not a vitest test): how soon a committed one-role change shows
 * in the real sidecar's decisions while it serves other checks.
 *
 *   npx tsx test/bench/propagation.bench.ts                      # demo database
 *   npx tsx test/bench/propagation.bench.ts --scale PATH         # also a copy of the scale fixture
 *   (make one with: npx tsx test/fixtures/make-scale-db.ts PATH)
 *
 * The sidecar runs as a child process (default 20 ms poll). A worker thread keeps a steady
 * background load of CheckPermission calls on it (1,000/s) and records their latency, isolated
 * from this thread's SQLite writes. This thread commits a one-role change (grant, then revoke, of
 * one permission on a role one user holds) with PolicyAdmin on the sidecar's database file, then
 * polls that user's decision about every millisecond, without min_revision, until it flips. The
 * time from commit to the first answer that reflects the change is the propagation time.
 * On the scale fixture every commit reloads one tenant of 5,000 users; the reload times come from
 * the sidecar's own debug log, and the background latency shows whether the event loop stalls.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Catalog } from "../../catalog/catalog.js";
import { loadCatalog } from "../../catalog/loader.js";
import { createPolicyAdmin, type PolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import type { Principal } from "../../sidecar/src/admin/principal.js";
import type { Db } from "../../sidecar/src/store/database.js";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { sqliteStore } from "../../sidecar/src/store/sqlite-policy-store.js";
import { grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const ROOT = join(import.meta.dirname, "..", "..");
const BOOTSTRAP: Principal = { kind: "bootstrap" };
const require = createRequire(import.meta.url);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const COMMITS = Number(arg("--commits") ?? 200);
const SCALE_COMMITS = Number(arg("--scale-commits") ?? 50);
const LOAD_PER_SECOND = Number(arg("--rate") ?? 1000);
const SCALE_PATH = arg("--scale");

// ---------------------------------------------------------------------------------------------
// Background load, in a worker thread: plain JS (eval), so it needs no TypeScript loader.

const LOAD_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const grpc = require(workerData.grpcPath);
const protoLoader = require(workerData.protoLoaderPath);
const def = protoLoader.loadSync(["rolecall/v1/policy.proto"], { includeDirs: [workerData.protoDir], keepCase: true, longs: String, enums: String, defaults: true });
const Policy = grpc.loadPackageDefinition(def).rolecall.v1.PolicyService;
const client = new Policy(workerData.address, grpc.credentials.createInsecure());
const now = () => performance.timeOrigin + performance.now();
const samples = []; // [start (epoch ms), latency ms, ok]
let i = 0, stopped = false, inFlight = 0;
const TICK_MS = 10;
const perTick = Math.max(1, Math.round(workerData.rate * TICK_MS / 1000));
function fire() {
  const req = workerData.requests[i++ % workerData.requests.length];
  const start = now();
  inFlight++;
  client.CheckPermission(req, { deadline: Date.now() + 5000 }, (err) => {
    inFlight--;
    samples.push(start, now() - start, err ? 0 : 1);
  });
}
// Open loop: calls are issued on schedule whatever the answers do, so a stall shows as latency.
const timer = setInterval(() => { if (!stopped) for (let k = 0; k < perTick; k++) fire(); }, TICK_MS);
parentPort.on("message", (m) => {
  if (m !== "stop") return;
  stopped = true;
  clearInterval(timer);
  const wait = () => inFlight > 0 ? setTimeout(wait, 5) : (client.close(), parentPort.postMessage(samples));
  wait();
});
`;

interface LoadSample {
  readonly start: number;
  readonly latencyMs: number;
  readonly ok: boolean;
}

function startLoad(address: string, requests: readonly object[]): { stop(): Promise<LoadSample[]> } {
  const worker = new Worker(LOAD_WORKER, {
    eval: true,
    workerData: {
      address,
      requests,
      rate: LOAD_PER_SECOND,
      grpcPath: require.resolve("@grpc/grpc-js"),
      protoLoaderPath: require.resolve("@grpc/proto-loader"),
      protoDir: join(ROOT, "proto"),
    },
  });
  return {
    stop: () =>
      new Promise<LoadSample[]>((resolve, reject) => {
        worker.once("error", reject);
        worker.once("message", (flat: number[]) => {
          const out: LoadSample[] = [];
          for (let k = 0; k + 2 < flat.length; k += 3) {
            out.push({ start: flat[k]!, latencyMs: flat[k + 1]!, ok: flat[k + 2] === 1 });
          }
          void worker.terminate();
          resolve(out);
        });
        worker.postMessage("stop");
      }),
  };
}

// ---------------------------------------------------------------------------------------------

const epochNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
export const ms = (v: number) => (Number.isNaN(v) ? "–" : v < 10 ? v.toFixed(2) : v.toFixed(1));

/** What a run commits and watches: a role one user holds and a permission toggled on it. */
export interface Target {
  readonly tenantId: string;
  readonly userId: string;
  readonly roleId: string;
  readonly permission: string;
}

export interface RunResult {
  readonly propagationMs: number[];
  readonly polls: number[];
  readonly idle: LoadSample[];
  readonly during: LoadSample[];
  readonly reloadMs: number[];
}

/** Reload durations the sidecar logged (debug level) after byte offset `from` of its output. */
function reloadsLogged(output: string, from: number): number[] {
  const out: number[] = [];
  for (const line of output.slice(from).split("\n")) {
    if (!line.includes('"policy reloaded"')) continue;
    try {
      const ms = (JSON.parse(line) as { ms?: number }).ms;
      if (typeof ms === "number") out.push(ms);
    } catch {
      // a line split across chunks; skip it
    }
  }
  return out;
}

export async function run(
  sidecar: SidecarProcess,
  admin: PolicyAdmin,
  target: Target,
  commits: number,
  loadRequests: readonly object[],
): Promise<RunResult> {
  const clients = grpcClients(sidecar.grpcAddress);
  const probe = { tenant_id: target.tenantId, user_id: target.userId, permission: target.permission };
  try {
    // Warm the connection and the cache.
    for (let k = 0; k < 50; k++) await unary(clients.policy, "CheckPermission", probe);
    const load = startLoad(sidecar.grpcAddress, loadRequests);
    await sleep(1_000); // the worker loads the proto, connects and warms up: not part of any baseline
    const baselineFrom = epochNow();
    await sleep(2_000); // a baseline of the load alone
    const writesFrom = epochNow();
    const logFrom = sidecar.output().length;
    const propagationMs: number[] = [];
    const polls: number[] = [];
    for (let n = 0; n < commits; n++) {
      const granting = n % 2 === 0;
      const change = { tenantId: target.tenantId, roleId: target.roleId, permissions: [target.permission] };
      if (granting) await admin.grantPermissions(BOOTSTRAP, change);
      else await admin.revokePermissions(BOOTSTRAP, { ...change, cascade: false });
      const committed = performance.now();
      let count = 0;
      for (;;) {
        count++;
        const res = await unary<{ allowed: boolean }>(clients.policy, "CheckPermission", probe);
        if (res.allowed === granting) break;
        if (performance.now() - committed > 5_000) throw new Error(`commit ${n} not visible after 5 s`);
        await sleep(1);
      }
      propagationMs.push(performance.now() - committed);
      polls.push(count);
      await sleep(5 + Math.random() * 20); // commits land at random points of the poll cycle
    }
    const writesTo = epochNow();
    await sleep(200);
    const samples = await load.stop();
    if (commits % 2 === 1) {
      await admin.revokePermissions(BOOTSTRAP, {
        tenantId: target.tenantId,
        roleId: target.roleId,
        permissions: [target.permission],
        cascade: false,
      });
    }
    return {
      propagationMs,
      polls,
      idle: samples.filter((s) => s.start >= baselineFrom && s.start < writesFrom),
      during: samples.filter((s) => s.start >= writesFrom && s.start <= writesTo),
      reloadMs: reloadsLogged(sidecar.output(), logFrom),
    };
  } finally {
    clients.close();
  }
}

function report(title: string, target: Target, r: RunResult): string {
  const lat = (s: LoadSample[]) => s.map((x) => x.latencyMs);
  const failed = r.during.filter((s) => !s.ok).length + r.idle.filter((s) => !s.ok).length;
  const rows = [
    `### ${title}`,
    "",
    `One-role change: ${r.propagationMs.length} commits alternating grant/revoke of \`${target.permission}\` on role \`${target.roleId}\` (held by \`${target.userId}\`, tenant \`${target.tenantId}\`); background load ${LOAD_PER_SECOND} checks/s.`,
    "",
    "| measure | n | p50 ms | p99 ms | max ms |",
    "|---|---:|---:|---:|---:|",
    `| commit → first check reflecting it | ${r.propagationMs.length} | ${ms(percentile(r.propagationMs, 50))} | ${ms(percentile(r.propagationMs, 99))} | ${ms(Math.max(...r.propagationMs))} |`,
    `| sidecar reload (its log) | ${r.reloadMs.length} | ${ms(percentile(r.reloadMs, 50))} | ${ms(percentile(r.reloadMs, 99))} | ${r.reloadMs.length ? ms(Math.max(...r.reloadMs)) : "–"} |`,
    `| background check latency, load alone | ${r.idle.length} | ${ms(percentile(lat(r.idle), 50))} | ${ms(percentile(lat(r.idle), 99))} | ${ms(Math.max(...lat(r.idle)))} |`,
    `| background check latency, during commits | ${r.during.length} | ${ms(percentile(lat(r.during), 50))} | ${ms(percentile(lat(r.during), 99))} | ${ms(Math.max(...lat(r.during)))} |`,
    "",
    `Polls per commit: p50 ${percentile(r.polls, 50)}, max ${Math.max(...r.polls)}. Failed background checks: ${failed}.`,
    "",
  ];
  return rows.join("\n");
}

/** Finds a (role, permission) in `tenantId` whose grant flips `userId`'s decision, and back. */
export async function findScaleTarget(
  db: Db,
  admin: PolicyAdmin,
  catalog: Catalog,
  tenantId: string,
): Promise<Target> {
  const holders = db
    .prepare(
      `SELECT ur.user_id AS userId, ur.role_id AS roleId FROM user_roles ur
       JOIN users u ON u.tenant_id = ur.tenant_id AND u.id = ur.user_id
       WHERE ur.tenant_id = ? AND u.active = 1 LIMIT 200`,
    )
    .all(tenantId) as { userId: string; roleId: string }[];
  const enabled = new Set(
    (
      db.prepare("SELECT system_id AS s FROM tenant_systems WHERE tenant_id = ?").all(tenantId) as {
        s: string;
      }[]
    ).map((r) => r.s),
  );
  // A permission that stands alone: no licenses, no requirements, no implications, so granting
  // it to one role changes exactly that one key.
  const plain = [...catalog.permissions.values()].filter(
    (p) => enabled.has(p.system) && p.licenses.length === 0 && p.requires === null && p.implies.length === 0,
  );
  const heldBy = (userId: string) =>
    new Set(
      (
        db
          .prepare(
            `SELECT g.permission_key AS k FROM user_roles ur JOIN role_grants g
             ON g.tenant_id = ur.tenant_id AND g.role_id = ur.role_id WHERE ur.tenant_id = ? AND ur.user_id = ?`,
          )
          .all(tenantId, userId) as { k: string }[]
      ).map((r) => r.k),
    );
  for (const { userId, roleId } of holders) {
    const held = heldBy(userId);
    for (const p of plain) {
      if (held.has(p.key)) continue;
      try {
        await admin.grantPermissions(BOOTSTRAP, { tenantId, roleId, permissions: [p.key] });
        await admin.revokePermissions(BOOTSTRAP, { tenantId, roleId, permissions: [p.key], cascade: false });
        return { tenantId, userId, roleId, permission: p.key };
      } catch {
        // this role may not take it (a rule of the store); try the next
      }
    }
  }
  throw new Error(`no suitable role and permission in ${tenantId}`);
}

async function main(): Promise<void> {
  const catalog = loadCatalog();
  const out: string[] = [
    "## Propagation of a one-role change (commit → visible in checks)",
    "",
    `Sidecar: \`rolecall serve\` as a child process, default poll 20 ms. Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    "",
  ];

  // 1. The demo database: dave's custom role, CONTACTS_UPDATE.
  {
    const sidecar = await startSidecarProcess({ args: ["--log-level", "debug"] });
    const db = openStore(sidecar.dbPath);
    try {
      const admin = createPolicyAdmin(sqliteStore(db), catalog);
      const target = {
        tenantId: "demo",
        userId: "dave",
        roleId: "custom-agent",
        permission: "cxengage/CONTACTS_UPDATE",
      };
      const others = ["alice", "bob", "carol", "dave"].flatMap((u) =>
        ["cxengage/CONTACTS_READ", "cxengage/NOTES_READ_ALL", "calabrio-one/view-contacts"].map((p) => ({
          tenant_id: "demo",
          user_id: u,
          permission: p,
        })),
      );
      const r = await run(sidecar, admin, target, COMMITS, others);
      out.push(report("Demo database", target, r));
    } finally {
      db.close();
      await sidecar.stop();
    }
  }

  // 2. A copy of the scale fixture: each commit recompiles one tenant of 5,000 users.
  if (SCALE_PATH) {
    if (!existsSync(SCALE_PATH)) throw new Error(`no scale database at ${SCALE_PATH}`);
    const dir = mkdtempSync(join(tmpdir(), "rolecall-prop-"));
    const copy = join(dir, "scale.db");
    copyFileSync(SCALE_PATH, copy);
    const started = performance.now();
    const sidecar = await startSidecarProcess({ dbPath: copy, args: ["--no-demo", "--log-level", "debug"] });
    const startMs = performance.now() - started;
    const db = openStore(copy);
    try {
      const admin = createPolicyAdmin(sqliteStore(db), catalog);
      const target = await findScaleTarget(db, admin, catalog, "tenant-01");
      const users = db
        .prepare("SELECT tenant_id AS t, id AS u FROM users WHERE active = 1 AND rowid % 97 = 0 LIMIT 400")
        .all() as { t: string; u: string }[];
      const keys = ["cxengage/CONTACTS_READ", "zoom-contact-center/RoleManagement:Read", target.permission];
      const load = users.flatMap(({ t, u }, k) => ({
        tenant_id: t,
        user_id: u,
        permission: keys[k % keys.length]!,
      }));
      const r = await run(sidecar, admin, target, SCALE_COMMITS, load);
      out.push(report(`Scale fixture copy (ready in ${Math.round(startMs)} ms)`, target, r));
    } finally {
      db.close();
      await sidecar.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

// Run as a script; imported (by scale.bench.ts), only its measuring functions are used.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
