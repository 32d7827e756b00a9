/**
 * What one revision costs a follower to copy (issue 14; a script, not a vitest test):
 *
 *   npx tsx test/bench/follower-copy.bench.ts [--commits 200]
 *
 * One real PostgreSQL 15 holding the demo tenant, and one PrimaryFollower in this process with
 * its own SQLite copy. Each commit (a one-role change: grant, then revoke, of one permission;
 * then a one-user change: assign, then unassign, of one role) is followed by one `syncOnce()`:
 * its wall time and the CPU this process spent in it (the follower's share of the fleet bench's
 * commit → visible, without the reload and the checks), and the CPU PostgreSQL spent answering it
 * (its processes' /proc times, 10 ms ticks: a mean over many commits). CPU time hardly depends on what else
 * the machine runs, so it compares builds measured at different times.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCatalog } from "../../catalog/loader.js";
import { seedDemo } from "../../sidecar/src/admin/demo-seed.js";
import { createPolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import type { Principal } from "../../sidecar/src/admin/principal.js";
import { PrimaryFollower } from "../../sidecar/src/fleet/follower.js";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { importCatalogPg } from "../../sidecar/src/store/pg/pg-catalog-import.js";
import { openPgStore } from "../../sidecar/src/store/pg/pg-policy-store.js";
import { processTreeCpuMs } from "../support/fleet.js";
import { startPostgres } from "../support/postgres.js";

const BOOTSTRAP: Principal = { kind: "bootstrap" };
const at = process.argv.indexOf("--commits");
const COMMITS = at >= 0 ? Number(process.argv[at + 1]) : 200;
if (!Number.isInteger(COMMITS) || COMMITS < 2) throw new TypeError(`--commits must be an integer ≥ 2`);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const server = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), "rolecall-follower-copy-"));
try {
  const url = await server.createDatabase("copy");
  const catalog = loadCatalog();
  const primary = await openPgStore(url);
  await importCatalogPg(primary, catalog);
  const admin = createPolicyAdmin(primary, catalog);
  await seedDemo(admin, catalog);
  const copy = openStore(join(dir, "copy.db"));
  const follower = new PrimaryFollower({ primary, primaryUrl: url, copy });
  await follower.syncOnce();
  const kinds = {
    role: { wall: [] as number[], cpu: [] as number[], pg: [] as number[] },
    user: { wall: [] as number[], cpu: [] as number[], pg: [] as number[] },
  };
  const role = { tenantId: "demo", roleId: "custom-agent", permissions: ["cxengage/CONTACTS_UPDATE"] };
  const user = { tenantId: "demo", userId: "alice", roleIds: ["custom-agent"] };
  for (let n = 0; n < COMMITS; n++) {
    const kind = n % 4 < 2 ? "role" : "user";
    if (n % 4 === 0) await admin.grantPermissions(BOOTSTRAP, role);
    else if (n % 4 === 1) await admin.revokePermissions(BOOTSTRAP, { ...role, cascade: false });
    else if (n % 4 === 2) await admin.assignRoles(BOOTSTRAP, user);
    else await admin.unassignRoles(BOOTSTRAP, user);
    // PostgreSQL's CPU is read outside this process's window (reading /proc costs CPU too).
    const pgCpu = processTreeCpuMs(server.pid);
    const cpu = cpuMs();
    const wall = performance.now();
    await follower.syncOnce();
    kinds[kind].wall.push(performance.now() - wall);
    kinds[kind].cpu.push(cpuMs() - cpu);
    kinds[kind].pg.push(processTreeCpuMs(server.pid) - pgCpu);
  }
  await follower.stop();
  copy.close();
  await primary.close();
  console.log(`## One follower copying one revision (${COMMITS} commits, demo tenant)\n`);
  console.log("| change | copies | wall p50 | wall p99 | CPU mean (follower) | CPU mean (PostgreSQL) |");
  console.log("|---|---:|---:|---:|---:|---:|");
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [name, k] of Object.entries(kinds)) {
    console.log(
      `| one ${name} | ${k.wall.length} | ${quantile(k.wall, 0.5).toFixed(2)} ms | ${quantile(k.wall, 0.99).toFixed(2)} ms | ${mean(k.cpu).toFixed(2)} ms | ${mean(k.pg).toFixed(2)} ms |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await server.destroy();
}
