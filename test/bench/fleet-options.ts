/**
 * The fleet bench's command line (`npx tsx test/bench/fleet.bench.ts --help`) and its fixed
 * settings: parsed once at import, a bad value refused with what is wrong.
 */

export const HELP = `Fleet benchmark (issue 14): one PostgreSQL 15 primary and N sidecars following it.

  npx tsx test/bench/fleet.bench.ts [options]

Parts, in order (each prints a markdown table):
  1. propagation  N followers serving --rate checks/s; --commits one-role commits; commit ->
                  visible on all N (p50/p99), CPU per commit, then idle CPU, memory and
                  connections per follower
  2. scale start  a sidecar started against a primary holding the 100,000-user scale fixture:
                  cold (empty --db), warm (primary up), warm (primary stopped)
  3. admin        admin write latency, PostgreSQL vs SQLite, the same operations (p50/p99)

Options:
  --followers N     sidecar processes (default 8; PostgreSQL's max_connections is raised to fit)
  --commits N       commits timed in part 1 (default 200)
  --warmup-commits N  commits made and seen before the timed ones (default 50; 0: none): a
                    follower's commit path is cold code until it has copied a few (a sidecar in
                    service has copied thousands)
  --rate N          background checks/s over all followers (default 1000)
  --probe wait|poll how a commit is seen on a sidecar: one CheckPermission with min_revision set
                    to the commit's revision (wait, default), or without it every --poll-gap-ms
                    until the answer changes (poll; ~1,000 probes/s on top of the load)
  --poll-gap-ms N   pause between two polls of one sidecar with --probe poll (default N followers)
  --trace           followers log at debug level; prints where each commit's time went
                    (notification, read of the primary, copy written, policy reloaded, seen)
  --only PARTS      comma-separated parts to run: propagation,scale,admin (default all)
  --no-scale        skip part 2 (same as --only propagation,admin)
  --scale FILE      use this scale fixture (SQLite) instead of building one (~1 min)
  --admin-ops N     grant/revoke operations timed in part 3 (default 200; N/2 users created)
  --help            this text

Examples:
  npx tsx test/bench/fleet.bench.ts --commits 200 --only propagation          # the 8-follower target
  npx tsx test/bench/fleet.bench.ts --followers 50 --commits 50 --only propagation
  npx tsx test/bench/fleet.bench.ts --only scale,admin
`;
if (process.argv.includes("--help")) {
  process.stdout.write(HELP);
  process.exit(0);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function positive(name: string, fallback: number): number {
  const raw = arg(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`${name} must be a positive integer, got '${raw}'`);
  return n;
}
function natural(name: string, fallback: number): number {
  const raw = arg(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`${name} must be an integer ≥ 0, got '${raw}'`);
  return n;
}
export const FOLLOWERS = positive("--followers", 8);
export const COMMITS = positive("--commits", 200);
export const WARMUP_COMMITS = natural("--warmup-commits", 50);
export const RATE = positive("--rate", 1000);
export const ADMIN_OPS = positive("--admin-ops", 200);
export const SCALE_PATH = arg("--scale");
export const PARTS = new Set((arg("--only") ?? "propagation,scale,admin").split(","));
for (const part of PARTS) {
  if (!["propagation", "scale", "admin"].includes(part)) {
    throw new TypeError(`--only takes propagation, scale and admin (comma-separated), got '${part}'`);
  }
}
export const SCALE = PARTS.has("scale") && !process.argv.includes("--no-scale");
/**
 * How the bench sees a commit on a sidecar: `wait` sends one CheckPermission with min_revision
 * set to the commit's revision (answered as soon as the sidecar serves it); `poll` sends
 * CheckPermission without it every --poll-gap-ms until the answer changes (~1,000 probes/s on
 * top of the load, and up to a gap late).
 */
export const PROBE = arg("--probe") ?? "wait";
if (PROBE !== "wait" && PROBE !== "poll") throw new TypeError(`--probe must be wait or poll, got '${PROBE}'`);
/** Followers log at debug level; the report lays out where each commit's time went. */
export const TRACE = process.argv.includes("--trace");
/**
 * Pause between two polls of one sidecar, ms. Polling costs CPU on the same cores as the fleet:
 * the default keeps the polls near 1,000/s in all, as much as the background load.
 */
export const POLL_GAP_MS = positive("--poll-gap-ms", FOLLOWERS);
/** How long the followers' CPU is measured under load without commits (the baseline of the CPU per commit). */
export const QUIET_MS = 5_000;
/** Starts of the scale sidecar per kind (medians reported). */
export const START_ROUNDS = 3;
/** Sidecars started at once after the first (which seeds the demo). */
export const START_BATCH = 4;
/** Seconds over which idle CPU is measured. */
export const IDLE_SECONDS = 10;
