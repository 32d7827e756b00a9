/**
 * Cold follower at scale (a script, not a vitest test): how long `rolecall serve --primary URL
 * --db EMPTY` takes to reach SERVING when the PostgreSQL primary holds the scale fixture — the
 * whole store copied into a new local file, then served — and, in the same run, a start on a
 * local file already holding the same store (the floor the follower adds its copy to).
 *
 *   npx tsx test/bench/follower-scale.bench.ts                       # 1,000,000 users, 3 runs
 *   npx tsx test/bench/follower-scale.bench.ts --users 100000 --runs 2
 *
 * The primary is a real PostgreSQL 15 (test/support/postgres.ts) whose data is kept in
 * --pg-folder (default: a folder under the OS temp dir): loading a million users into it with
 * `rolecall copy-store` takes minutes, so it is done once and reused while the fixture's
 * revision and user count match. The fixture comes from scale.bench.ts's folder (--fixtures).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { startPostgres } from "../support/postgres.js";
import { startSidecarProcess } from "../support/sidecar-process.js";
import { ms, percentile } from "./propagation.bench.js";

const ROOT = join(import.meta.dirname, "..", "..");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const USERS = Number((arg("--users") ?? "1000000").replaceAll("_", ""));
const RUNS = Number(arg("--runs") ?? 3);
const FIXTURES = arg("--fixtures") ?? join(tmpdir(), "rolecall-scale-fixtures");
const PG_FOLDER = arg("--pg-folder") ?? join(tmpdir(), "rolecall-scale-pg");
const TENANTS = Math.max(1, Math.round(USERS / 5_000));
const ROLES = Math.max(TENANTS, Math.round(USERS / 100));
const FIXTURE = join(FIXTURES, `scale-${TENANTS}t-${USERS}u-${ROLES}r.db`);
const DATABASE = `scale_${USERS}u`;

/** CPU seconds a process has used so far (all its threads), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: clock ticks of 10 ms
}

function memoryMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** The fixture's revision and user count (a migrated copy: the fixture itself is never written). */
function migratedFixture(dir: string): { path: string; revision: number; users: number } {
  if (!existsSync(FIXTURE)) {
    throw new Error(
      `no fixture at ${FIXTURE}: run scale.bench.ts --users ${USERS} --fixtures ${FIXTURES} once`,
    );
  }
  const path = join(dir, "fixture.db");
  copyFileSync(FIXTURE, path);
  const db = openStore(path); // migrates an older fixture to the current schema
  try {
    const revision = db.prepare("SELECT revision FROM meta WHERE id = 1").pluck().get() as number;
    const users = db.prepare("SELECT count(*) FROM users").pluck().get() as number;
    db.pragma("wal_checkpoint(TRUNCATE)");
    return { path, revision, users };
  } finally {
    db.close();
  }
}

/** What the primary database holds now, or undefined when it does not exist or holds no store. */
async function primaryHolds(url: string): Promise<{ revision: number; users: number } | undefined> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const r = await client.query<{ revision: number; users: string }>(
      "SELECT (SELECT revision FROM meta WHERE id = 1) AS revision, (SELECT count(*) FROM users) AS users",
    );
    return { revision: Number(r.rows[0]!.revision), users: Number(r.rows[0]!.users) };
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const work = mkdtempSync(join(tmpdir(), "rolecall-follower-scale-"));
const server = await startPostgres({ keptFolder: PG_FOLDER });
try {
  const fixture = migratedFixture(work);
  const url = server.urlOf(DATABASE);
  const holds = await primaryHolds(url);
  if (holds?.revision !== fixture.revision || holds.users !== fixture.users) {
    process.stderr.write(`loading ${fixture.users} users into ${DATABASE} (once; minutes)...\n`);
    await server.dropDatabase(DATABASE);
    await server.createDatabase(DATABASE);
    const at = performance.now();
    execFileSync(
      process.execPath,
      ["--max-old-space-size=8192", join(ROOT, "bin/rolecall.js"), "copy-store", fixture.path, url],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    process.stderr.write(`loaded in ${((performance.now() - at) / 1000).toFixed(1)} s\n`);
  }

  const startOnce = async (args: string[], dbPath: string) => {
    const started = performance.now();
    const sidecar = await startSidecarProcess({ dbPath, args, startTimeoutMs: 300_000 });
    const servingMs = performance.now() - started;
    const cpu = cpuSeconds(sidecar.child.pid!);
    try {
      const health = (await fetch(`${sidecar.httpUrl}/healthz`).then((r) => r.json())) as { status: string };
      if (health.status !== "SERVING") throw new Error(`not SERVING after start: ${health.status}`);
      return { servingMs, cpu, peak: memoryMiB(sidecar.child.pid!) };
    } finally {
      await sidecar.stop();
    }
  };

  const cold: number[] = [];
  const local: number[] = [];
  const peaks: number[] = [];
  const coldCpu: number[] = [];
  const localCpu: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    // Alternate the two so the machine's load falls on both alike.
    const copy = join(work, `cold-${run}.db`);
    const follower = await startOnce(["--primary", url, "--no-demo"], copy);
    cold.push(follower.servingMs);
    coldCpu.push(follower.cpu);
    peaks.push(follower.peak);
    const copied = openStore(copy, { readonly: true });
    const copiedUsers = copied.prepare("SELECT count(*) FROM users").pluck().get() as number;
    copied.close();
    if (copiedUsers !== fixture.users)
      throw new Error(`the copy holds ${copiedUsers} users, not ${fixture.users}`);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${copy}${suffix}`, { force: true });
    const file = join(work, `local-${run}.db`);
    copyFileSync(fixture.path, file);
    const served = await startOnce(["--no-demo"], file);
    local.push(served.servingMs);
    localCpu.push(served.cpu);
    rmSync(file, { force: true });
  }
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  process.stdout.write(
    [
      `Cold follower of a PostgreSQL primary holding ${fixture.users.toLocaleString("en")} users (${TENANTS} tenants, ${ROLES} roles); Node ${process.version}; load average at the end ${load}.`,
      "",
      "| start | runs | to SERVING p50 ms | max ms | sidecar CPU s to SERVING, p50 | peak RSS MiB (max) |",
      "|---|---:|---:|---:|---:|---:|",
      `| \`serve --primary URL --db EMPTY\` (cold follower) | ${cold.length} | ${ms(percentile(cold, 50))} | ${ms(Math.max(...cold))} | ${percentile(coldCpu, 50).toFixed(1)} | ${Math.round(Math.max(...peaks))} |`,
      `| \`serve --db FILE\` (same store, already local) | ${local.length} | ${ms(percentile(local, 50))} | ${ms(Math.max(...local))} | ${percentile(localCpu, 50).toFixed(1)} | |`,
      "",
    ].join("\n"),
  );
} finally {
  await server.destroy();
  rmSync(work, { recursive: true, force: true });
}
