/**
 * The moving parts of the fleet bench and the fleet fault suite (issue 14): sidecars following a
 * PostgreSQL primary, each with its own copy, optionally inside a network namespace whose link to
 * the host can be cut; a check-load child process (fleet-check-load.ts); what a role granted at
 * each revision according to the primary's audit log; and a process's CPU time and memory.
 * Every child is stopped by its PID; a namespace is deleted by name.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PgPolicyStore } from "../../sidecar/src/store/pg/pg-policy-store.js";
import { childScriptArgs } from "./child-script.js";
import { LOOPBACK_SERVE_ARGS, nodeArgsFrom } from "./sidecar-process.js";

const ROOT = join(import.meta.dirname, "..", "..");
const LOAD_SCRIPT = join(import.meta.dirname, "fleet-check-load.ts");

/** The bootstrap token every fleet sidecar is started with. */
export const FLEET_ADMIN_TOKEN = "rc_test_bootstrap_token";

// ---- sidecars ------------------------------------------------------------------------------

/** Options of `startFleetSidecar`. */
export interface FleetSidecarOptions {
  /** The primary's URL (`--primary`). */
  readonly primary: string;
  /** This host's copy (`--db`). Default: a new temporary file, removed by `stop()`. */
  readonly dbPath?: string;
  /** Extra `serve` flags. Default none. */
  readonly args?: readonly string[];
  /** Run inside this network namespace (`ip netns exec`, which execs: the PID is the sidecar's). Default: the host's. */
  readonly netns?: string;
  /** How long it may take to serve, ms. Default `30000`. */
  readonly startTimeoutMs?: number;
}

/** A sidecar child process following a primary. */
export interface FleetSidecar {
  readonly pid: number;
  readonly child: ChildProcess;
  /** `127.0.0.1:PORT` (inside its namespace, when it runs in one). */
  readonly grpcAddress: string;
  readonly httpUrl: string;
  readonly dbPath: string;
  readonly adminToken: string;
  /** From spawn to the lines it prints once its first snapshot is served, ms. */
  readonly startMs: number;
  /** Everything it printed so far. */
  output(): string;
  /** Sends `signal` (default SIGTERM) to its PID and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `rolecall serve --primary URL --db COPY` and resolves once it serves. Node flags for it
 * come from `FLEET_SIDECAR_NODE_ARGS`, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the
 * bench's followers.
 */
export async function startFleetSidecar(options: FleetSidecarOptions): Promise<FleetSidecar> {
  const dir = options.dbPath === undefined ? mkdtempSync(join(tmpdir(), "rolecall-fleet-")) : undefined;
  const dbPath = options.dbPath ?? join(dir!, "copy.db");
  const serve = [
    join(ROOT, "bin/rolecall.js"),
    "serve",
    "--primary",
    options.primary,
    "--db",
    dbPath,
    ...LOOPBACK_SERVE_ARGS,
    ...(options.args ?? []),
  ];
  const [file, argv] =
    options.netns === undefined
      ? [process.execPath, [...nodeArgsFrom("FLEET_SIDECAR_NODE_ARGS"), ...serve]]
      : [
          "ip",
          [
            "netns",
            "exec",
            options.netns,
            process.execPath,
            ...nodeArgsFrom("FLEET_SIDECAR_NODE_ARGS"),
            ...serve,
          ],
        ];
  const spawned = performance.now();
  const child = spawn(file, argv, {
    cwd: ROOT,
    env: { ...process.env, ROLECALL_ADMIN_TOKEN: FLEET_ADMIN_TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<{ grpc: string; http: string; at: number }>((resolve) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const grpc = /gRPC:\s+(\S+)/.exec(output)?.[1];
      const http = /HTTP:\s+(\S+)/.exec(output)?.[1];
      if (grpc !== undefined && http !== undefined) resolve({ grpc, http, at: performance.now() });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
  });
  let timer: NodeJS.Timeout | undefined;
  let listening: { grpc: string; http: string; at: number };
  try {
    listening = await Promise.race([
      ready,
      exited.then((code) => {
        throw new Error(`sidecar exited with ${code} before serving:\n${output}`);
      }),
      new Promise<never>((_, reject) => {
        const ms = options.startTimeoutMs ?? 30_000;
        timer = setTimeout(() => reject(new Error(`sidecar did not serve within ${ms} ms:\n${output}`)), ms);
      }),
    ]);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
    await exited;
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    pid: child.pid!,
    child,
    grpcAddress: listening.grpc,
    httpUrl: listening.http,
    dbPath,
    adminToken: FLEET_ADMIN_TOKEN,
    startMs: listening.at - spawned,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
      const code = await exited;
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

// ---- the check-load child ------------------------------------------------------------------

/** What the check-load child does (passed to it as JSON). */
export interface CheckLoadConfig {
  /** gRPC addresses; calls go round robin over them. */
  readonly addresses: readonly string[];
  /** Calls started per second, over all addresses (open loop: a slow answer does not slow it). */
  readonly rate: number;
  /** `CheckPermission` requests, round robin; with `CheckPermissions`, each is a whole batch request. */
  readonly requests: readonly object[];
  /** Default `"CheckPermission"`. */
  readonly method?: "CheckPermission" | "CheckPermissions";
  /** Print every answer as a line (`a`/`e` lines). Default `false`: the summary only. */
  readonly record?: boolean;
  /** Also ask grpc.health.v1 of every address this often, ms (`h` lines). Default `0`: never. */
  readonly healthEveryMs?: number;
  /** Deadline of each call, ms. Default `5000`. */
  readonly deadlineMs?: number;
}

/** One recorded answer of the check-load child. */
export interface LoadAnswer {
  /** When it was sent (epoch ms). */
  readonly at: number;
  /** Index into `addresses`. */
  readonly target: number;
  /** Set when the call succeeded. */
  readonly revision?: number;
  /** Items allowed (1 or 0 for a single check). */
  readonly allowed?: number;
  /** gRPC status code of a failed call. */
  readonly code?: number;
  readonly ms: number;
}

/** One recorded health answer. */
export interface LoadHealth {
  readonly at: number;
  readonly target: number;
  readonly status: string;
}

/** What the check-load child counted. */
export interface LoadSummary {
  readonly sent: number;
  readonly ok: number;
  /** gRPC status code → failed calls. */
  readonly errors: Readonly<Record<string, number>>;
  /** Slots skipped because too many calls were in flight. */
  readonly skipped: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly seconds: number;
}

/** A running check-load child. */
export interface CheckLoad {
  readonly pid: number;
  /** The answers recorded so far (with `record`). */
  readonly answers: LoadAnswer[];
  /** The health answers so far (with `healthEveryMs`). */
  readonly health: LoadHealth[];
  /** Asks it to stop, waits for the calls in flight, and returns its summary. */
  stop(): Promise<LoadSummary>;
  /** SIGKILLs it (cleanup after a failure). */
  kill(): void;
}

/** Starts the check-load child (inside `netns` when given) and resolves once it has connected. */
export async function startCheckLoad(
  config: CheckLoadConfig,
  options: { readonly netns?: string } = {},
): Promise<CheckLoad> {
  const node = [process.execPath, ...childScriptArgs(LOAD_SCRIPT), JSON.stringify(config)];
  const [file, argv] =
    options.netns === undefined
      ? [node[0]!, node.slice(1)]
      : ["ip", ["netns", "exec", options.netns, ...node]];
  const child = spawn(file, argv, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  const answers: LoadAnswer[] = [];
  const health: LoadHealth[] = [];
  let summary: LoadSummary | undefined;
  let partial = "";
  let errText = "";
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => {
    readyResolve = r;
  });
  child.stderr!.on("data", (d: Buffer) => {
    errText += d.toString();
  });
  child.stdout!.on("data", (d: Buffer) => {
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const [kind, ...f] = line.split(" ");
      if (kind === "a") {
        answers.push({
          at: Number(f[0]),
          target: Number(f[1]),
          revision: Number(f[2]),
          allowed: Number(f[3]),
          ms: Number(f[4]),
        });
      } else if (kind === "e") {
        answers.push({ at: Number(f[0]), target: Number(f[1]), code: Number(f[2]), ms: Number(f[3]) });
      } else if (kind === "h") {
        health.push({ at: Number(f[0]), target: Number(f[1]), status: f[2] ?? "" });
      } else if (kind === "ready") readyResolve();
      else if (kind === "summary") summary = JSON.parse(f.join(" ")) as LoadSummary;
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      exited.then((code) => {
        throw new Error(`check load exited with ${code} before it was ready:\n${errText}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`check load not ready within 30 s:\n${errText}`)), 30_000);
      }),
    ]);
  } catch (err) {
    kill();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    pid: child.pid!,
    answers,
    health,
    async stop() {
      child.stdin!.end("stop\n");
      const code = await exited;
      if (summary === undefined)
        throw new Error(`check load exited with ${code} and no summary:\n${errText}`);
      return summary;
    },
    kill,
  };
}

// ---- the primary's record ------------------------------------------------------------------

/** What one role granted at each revision, from the primary's audit log, and which revisions committed. */
export interface RoleHistory {
  /** Every revision in the primary's change log. */
  readonly committed: ReadonlySet<number>;
  /** Revisions at which the role changed, ascending. */
  readonly changes: readonly number[];
  /** The role's grants as of `revision` (undefined before it existed). */
  grantsAt(revision: number): ReadonlySet<string> | undefined;
}

/** Reads a role's history from the primary (audit rows are written in the commit's transaction). */
export async function roleHistory(
  store: PgPolicyStore,
  tenantId: string,
  roleId: string,
): Promise<RoleHistory> {
  return store.readSql(async (query) => {
    const committed = new Set(
      (await query<{ revision: number }>("SELECT DISTINCT revision FROM change_log")).rows.map((r) =>
        Number(r.revision),
      ),
    );
    const rows = (
      await query<{ revision: number; after: string }>(
        `SELECT revision, after FROM audit_log
         WHERE tenant_id = $1 AND operation IN ('CreateRole', 'GrantPermissions', 'RevokePermissions')
           AND after IS NOT NULL ORDER BY revision, id`,
        [tenantId],
      )
    ).rows;
    const states: { revision: number; grants: ReadonlySet<string> }[] = [];
    for (const row of rows) {
      const after = JSON.parse(row.after) as { id?: string; grants?: string[] };
      if (after.id !== roleId || !Array.isArray(after.grants)) continue;
      states.push({ revision: Number(row.revision), grants: new Set(after.grants) });
    }
    return {
      committed,
      changes: states.map((s) => s.revision),
      grantsAt(revision) {
        let found: ReadonlySet<string> | undefined;
        for (const s of states) {
          if (s.revision > revision) break;
          found = s.grants;
        }
        return found;
      },
    };
  });
}

/** The primary's revision. */
export async function primaryRevision(store: PgPolicyStore): Promise<number> {
  return store.readSql(async (query) =>
    Number((await query<{ revision: number }>("SELECT revision FROM meta WHERE id = 1")).rows[0]?.revision),
  );
}

/**
 * The PIDs of the primary's backends serving process `pid`'s connections to `port`: its TCP
 * sockets, from /proc, matched with `pg_stat_activity.client_port`. (SIGSTOP them to hang that
 * one client's connections: the partition test's fallback where network namespaces are missing.)
 */
export async function backendPidsOf(store: PgPolicyStore, pid: number, port: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] !== undefined) inodes.add(m[1]);
    } catch {
      // Closed while we looked.
    }
  }
  const ports: number[] = [];
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1]?.split(":")[1];
      const remote = f[2]?.split(":")[1];
      if (local === undefined || remote === undefined || f[9] === undefined) continue;
      if (Number.parseInt(remote, 16) === port && inodes.has(f[9])) ports.push(Number.parseInt(local, 16));
    }
  }
  if (ports.length === 0) return [];
  return store.readSql(async (query) =>
    (
      await query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])", [
        ports,
      ])
    ).rows.map((r) => r.pid),
  );
}

// ---- processes -----------------------------------------------------------------------------

/** CPU time (user + system) a process has used, ms, from /proc (Linux). */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // utime and stime are fields 14 and 15; the command name (field 2) may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / clockTicksPerSecond();
}

/** CPU time of `pid` and its children (a postmaster and its backends), ms; processes gone meanwhile are skipped. */
export function processTreeCpuMs(pid: number): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (Number(entry) === pid || ppid === pid) total += cpuTimeMs(Number(entry));
    } catch {
      // Ended while we looked.
    }
  }
  return total;
}

let ticksPerSecond: number | undefined;
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // Linux's USER_HZ nearly everywhere
    }
  }
  return ticksPerSecond;
}

/** Resident memory of a process, MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? Number.NaN) / 1024;
}
