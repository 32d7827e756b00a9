/**
 * Scale benchmark (a script, not a vitest test): the real sidecar on the scale fixture at each
 * size asked for — time from start to SERVING and until every tenant is compiled, resident
 * memory, serial check latency cold (each user's first check) and warm, and how soon a one-role
 * change in one 5,000-user tenant shows in checks under a background load.
 *
 *   npx tsx test/bench/scale.bench.ts                          # 100,000 and 1,000,000 users
 *   npx tsx test/bench/scale.bench.ts --users 1000000 --fixtures /tmp/rolecall-scale
 *
 * Each size is the scale fixture with 5,000 users per tenant and one role per 100 users (the
 * defaults of make-scale-db.ts at 100,000; 200 tenants and 10,000 roles at 1,000,000). A missing
 * fixture is generated into --fixtures (default: a folder under the OS temp dir) and kept there;
 * each run serves a copy of it, so the fixture itself is never written.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCatalog } from "../../catalog/loader.js";
import { createPolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import { openDatabase } from "../../sidecar/src/store/database.js";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { sqliteStore } from "../../sidecar/src/store/sqlite-policy-store.js";
import { generateScale } from "../fixtures/scale.js";
import { grpcClients, unary } from "../support/clients.js";
import { startSidecarProcess } from "../support/sidecar-process.js";
import { findScaleTarget, ms, percentile, run } from "./propagation.bench.js";

const HELP = `Scale benchmark (issue 17): the real sidecar on the scale fixture at each size.

  npx tsx test/bench/scale.bench.ts [options]

Options:
  --users N,N     sizes to run (default 100000,1000000; 5,000 users per tenant, a role per 100)
  --fixtures DIR  where fixtures are generated once and kept (default: rolecall-scale-fixtures
                  under the OS temp dir); each run serves a copy
  --checks N      serial checks timed cold and then warm (default 2000)
  --commits N     one-role commits timed for propagation (default 30)
  --help          this text
`;
const KNOWN = new Set(["--users", "--fixtures", "--checks", "--commits"]);
for (let i = 2; i < process.argv.length; i += 2) {
  const flag = process.argv[i]!;
  if (flag === "--help" || flag === "-h") {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (!KNOWN.has(flag) || process.argv[i + 1] === undefined) {
    process.stderr.write(`scale.bench: unknown option or missing value: '${flag}'\n\n${HELP}`);
    process.exit(2);
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const SIZES = (arg("--users") ?? "100000,1000000").split(",").map((v) => Number(v.replaceAll("_", "")));
const FIXTURES = arg("--fixtures") ?? join(tmpdir(), "rolecall-scale-fixtures");
const CHECKS = Number(arg("--checks") ?? 2_000);
const COMMITS = Number(arg("--commits") ?? 30);
const USERS_PER_TENANT = 5_000;
const PERMISSION = "cxengage/CONTACTS_READ";

/** The fixture of `users` users, generated the first time. */
function fixture(users: number): string {
  const tenants = Math.max(1, Math.round(users / USERS_PER_TENANT));
  const roles = Math.max(tenants, Math.round(users / 100));
  const path = join(FIXTURES, `scale-${tenants}t-${users}u-${roles}r.db`);
  if (!existsSync(path)) {
    mkdirSync(FIXTURES, { recursive: true });
    process.stderr.write(`generating ${path} (once)...\n`);
    const db = openDatabase(path);
    generateScale(db, loadCatalog(), { tenants, users, roles });
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.close();
  }
  return path;
}

/** Resident and peak resident memory of a process, in MiB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

interface SizeResult {
  readonly users: number;
  readonly servingMs: number;
  readonly loadedMs: number;
  readonly rss: number;
  readonly peak: number;
  readonly cold: number[];
  readonly warm: number[];
  readonly propagation: number[];
  /** The sidecar's own compile-and-swap time per reload (its debug log). */
  readonly reload: number[];
  /** Background check latency while the commits ran. */
  readonly during: number[];
}

async function measure(users: number): Promise<SizeResult> {
  const source = fixture(users);
  const dir = mkdtempSync(join(tmpdir(), "rolecall-scale-bench-"));
  const copy = join(dir, "scale.db");
  copyFileSync(source, copy);
  const started = performance.now();
  // The sidecar prints its addresses once it reports SERVING (sidecar.ts sets health first).
  const sidecar = await startSidecarProcess({ dbPath: copy, args: ["--no-demo", "--log-level", "debug"] });
  const servingMs = performance.now() - started;
  const db = openStore(copy);
  const clients = grpcClients(sidecar.grpcAddress);
  try {
    const health = await fetch(`${sidecar.httpUrl}/healthz`).then((r) => r.json());
    if ((health as { status: string }).status !== "SERVING") throw new Error("not SERVING after start");
    // A check in the last tenant waits until it is compiled: then every tenant is.
    const lastTenant = db.prepare("SELECT max(id) FROM tenants").pluck().get() as string;
    const lastUser = db
      .prepare("SELECT min(id) FROM users WHERE tenant_id = ?")
      .pluck()
      .get(lastTenant) as string;
    await unary(
      clients.policy,
      "CheckPermission",
      { tenant_id: lastTenant, user_id: lastUser, permission: PERMISSION },
      { deadlineMs: 120_000 },
    );
    const loadedMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 1_000));
    const memory = memoryOf(sidecar.child.pid!);

    // Distinct active users across all tenants, each checked once (cold: nothing cached), then again.
    const step = Math.max(1, Math.floor(users / CHECKS));
    const sample = db
      .prepare(`SELECT tenant_id AS t, id AS u FROM users WHERE active = 1 AND rowid % ? = 0 LIMIT ?`)
      .all(step, CHECKS) as { t: string; u: string }[];
    const serial = async (): Promise<number[]> => {
      const out: number[] = [];
      for (const { t, u } of sample) {
        const at = performance.now();
        await unary(clients.policy, "CheckPermission", { tenant_id: t, user_id: u, permission: PERMISSION });
        out.push(performance.now() - at);
      }
      return out;
    };
    const cold = await serial();
    const warm = await serial();

    const catalog = loadCatalog();
    const admin = createPolicyAdmin(sqliteStore(db), catalog);
    const target = await findScaleTarget(db, admin, catalog, "tenant-01");
    const load = sample
      .slice(0, 400)
      .map(({ t, u }) => ({ tenant_id: t, user_id: u, permission: PERMISSION }));
    const prop = await run(sidecar, admin, target, COMMITS, load);
    return {
      users,
      servingMs,
      loadedMs,
      ...memory,
      cold,
      warm,
      propagation: prop.propagationMs,
      reload: prop.reloadMs,
      during: prop.during.map((s) => s.latencyMs),
    };
  } finally {
    clients.close();
    db.close();
    await sidecar.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: SizeResult[] = [];
for (const users of SIZES) results.push(await measure(users));
const row = (r: SizeResult) =>
  `| ${r.users.toLocaleString("en")} | ${Math.round(r.servingMs)} | ${Math.round(r.loadedMs)} | ` +
  `${Math.round(r.rss)} (peak ${Math.round(r.peak)}) | ${ms(percentile(r.cold, 50))} / ${ms(percentile(r.cold, 99))} | ` +
  `${ms(percentile(r.warm, 50))} / ${ms(percentile(r.warm, 99))} | ` +
  `${ms(percentile(r.propagation, 50))} / ${ms(percentile(r.propagation, 99))} | ` +
  `${ms(percentile(r.reload, 50))} / ${ms(percentile(r.reload, 99))} | ` +
  `${ms(percentile(r.during, 50))} / ${ms(percentile(r.during, 99))} |`;
process.stdout.write(
  [
    `Scale fixture, ${USERS_PER_TENANT.toLocaleString("en")} users per tenant; Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    `Checks: ${CHECKS} serial CheckPermission calls on distinct users (cold: each user's first), then the same again (warm).`,
    `Propagation: ${COMMITS} one-role commits in tenant-01 under 1,000 background checks/s.`,
    "",
    "| users | start → SERVING ms | → all tenants compiled ms | RSS MiB | cold check p50 / p99 ms | warm check p50 / p99 ms | propagation p50 / p99 ms | reload (compile + swap) p50 / p99 ms | background checks during commits p50 / p99 ms |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map(row),
    "",
  ].join("\n"),
);
