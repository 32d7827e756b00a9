/**
 * Server benchmark (a script, not a vitest test): `npx tsx test/bench/server.bench.ts [--seconds N]`.
 * Measures, in one run on loopback, the numbers of the server issue (issue 6):
 *
 * 1. `CheckPermission` throughput at 32 calls in flight: the real sidecar (demo database; dave's
 *    CONTACTS_READ, and a mix across the demo users) vs a no-op grpc-js server answering the same
 *    method with a constant response, (de)serialized with protobuf-es like ours. Target ≥ 0.9x.
 * 2. Serial p50 / p99 latency of the same: targets ≤ 1.15x / ≤ 1.5x the no-op server.
 * 3. `CheckPermissions` with 100 items vs one `CheckPermission` on the sidecar: target ≤ 2x.
 * 4. `rolecall serve` spawn → first SERVING grpc.health.v1 answer, fresh and existing database:
 *    target < 1 s.
 * 5. connect-node's gRPC (h2c) vs grpc-js serving the same no-op handler: why we serve with grpc-js.
 *
 * Every server and the load generator run in their own child processes (this file, re-run with
 * `--role`), so the client never shares a server's event loop. Servers bind 127.0.0.1:0. On a shared
 * 2-core machine absolute numbers drift, ratios of neighbouring measurements much less: each
 * throughput window runs right beside a no-op window (ratio per pair, median over rounds), serial
 * comparisons alternate short blocks of calls between subject and baseline, and the server's CPU
 * time per call (from /proc) is reported too, since it barely depends on what else runs, as is
 * the GC pause per call (both servers run with --trace-gc): an allocation regression shows there
 * first (a per-call object literal with getters once cost a full GC every second under load).
 * `--seconds N` sets the throughput window (default 0.5; the whole run takes about 1.5 minutes).
 * Every child is killed by PID at the end, also on error or Ctrl-C. `--cpu-prof DIR` writes a V8
 * CPU profile of the benchmarked sidecar into DIR (open it in Chrome DevTools); `--serve-args "..."`
 * passes extra `rolecall serve` flags to it (e.g. `--serve-args "--poll-ms 1000"`), `--node-args "..."`
 * node flags. The Cerbos comparison (peers/peer-comparison.ts) runs first; `--no-peer` skips it,
 * `--peer-only` runs only it, `--generators N` sets its load generator processes (default 2).
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createH2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  ListPermissionsRequestSchema,
  ListPermissionsResponseSchema,
  ListSystemsResponseSchema,
} from "../../gen/rolecall/v1/catalog_pb.js";
import {
  type CheckPermissionRequest,
  CheckPermissionRequestSchema,
  CheckPermissionResponseSchema,
  type CheckPermissionsRequest,
  CheckPermissionsRequestSchema,
  CheckPermissionsResponseSchema,
  PolicyService,
  Reason,
} from "../../gen/rolecall/v1/policy_pb.js";
import { LOOPBACK_SERVE_ARGS } from "../support/sidecar-process.js";
import { cpuSeconds, fmt, median, ms, percentile, verdict, x } from "./bench-stats.js";
import { cerbosAvailable } from "./peers/cerbos.js";
import { comparePeer } from "./peers/peer-comparison.js";
import { unaryAsync, unaryCall, waitServing } from "./raw-grpc.js";

const ROOT = join(import.meta.dirname, "..", "..");
const SELF = import.meta.filename;
const CHECK = "/rolecall.v1.PolicyService/CheckPermission";
const CHECK_MANY = "/rolecall.v1.PolicyService/CheckPermissions";
const CONCURRENCY = 32;
const BATCH_ITEMS = 100;
const ROUNDS = 8;
/** Counted calls per block of a serial comparison (see `serial` in the load generator). */
const SERIAL_BLOCK = 20;
const STARTUP_RUNS = 5;
// The sidecar's own defaults, so the no-op servers run under the same limits.
const MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_CONCURRENT_STREAMS = 100;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Child roles: the no-op servers and the load generator.
// ---------------------------------------------------------------------------------------------

/** The constant answer of the no-op servers: built once, like a cached decision would be. */
const CONSTANT_RESPONSE = create(CheckPermissionResponseSchema, {
  allowed: true,
  reason: Reason.GRANTED,
  missing: [],
  revision: 1n,
});

/** A no-op CheckPermissions answer of BATCH_ITEMS results: the transport floor of a batch. */
const CONSTANT_BATCH = create(CheckPermissionsResponseSchema, {
  results: Array.from({ length: BATCH_ITEMS }, () => CONSTANT_RESPONSE),
  revision: 1n,
});

function reportListening(port: number): void {
  process.send?.({ port });
  // Orphaned (the bench died without killing us): leave rather than linger.
  process.on("disconnect", () => process.exit(0));
}

/** grpc-js, protobuf-es fromBinary/toBinary serializers, constant answer: the floor we measure against. */
async function runNoopGrpc(): Promise<void> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_concurrent_streams": MAX_CONCURRENT_STREAMS,
  });
  // Encoded bytes are wrapped, not copied, exactly as grpc-adapter.ts does.
  const view = (u8: Uint8Array) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  const definition: grpc.ServiceDefinition = {
    CheckPermission: {
      path: CHECK,
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: CheckPermissionRequest) => Buffer.from(toBinary(CheckPermissionRequestSchema, v)),
      requestDeserialize: (b: Buffer) => fromBinary(CheckPermissionRequestSchema, b),
      responseSerialize: (v: typeof CONSTANT_RESPONSE) => view(toBinary(CheckPermissionResponseSchema, v)),
      responseDeserialize: (b: Buffer) => fromBinary(CheckPermissionResponseSchema, b),
    },
    CheckPermissions: {
      path: CHECK_MANY,
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: CheckPermissionsRequest) =>
        Buffer.from(toBinary(CheckPermissionsRequestSchema, v)),
      requestDeserialize: (b: Buffer) => fromBinary(CheckPermissionsRequestSchema, b),
      responseSerialize: (v: typeof CONSTANT_BATCH) => view(toBinary(CheckPermissionsResponseSchema, v)),
      responseDeserialize: (b: Buffer) => fromBinary(CheckPermissionsResponseSchema, b),
    },
  };
  server.addService(definition, {
    CheckPermission: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, CONSTANT_RESPONSE),
    CheckPermissions: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, CONSTANT_BATCH),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  reportListening(port);
}

/** connect-node serving gRPC over cleartext HTTP/2 with the same constant handler. */
async function runNoopConnect(): Promise<void> {
  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      router.service(PolicyService, {
        checkPermission: () => CONSTANT_RESPONSE,
        checkPermissions: () => CONSTANT_BATCH,
      });
    },
    readMaxBytes: MAX_MESSAGE_BYTES,
    maxTimeoutMs: 30_000,
  });
  const server = createH2Server({ settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS } }, handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  reportListening((server.address() as AddressInfo).port);
}

/** A load-generator command, sent by the bench process over IPC. */
type ClientCommand =
  | { id: number; op: "connect"; target: string; address: string }
  | { id: number; op: "throughput"; target: string; workload: string; ms: number; concurrency: number }
  | { id: number; op: "serial"; cases: { target: string; workload: string }[]; ms: number }
  | { id: number; op: "prepare"; target: string; permissions: string[] }
  // A workload of pre-encoded requests (base64) for any method, e.g. a peer's (peers/).
  | { id: number; op: "load"; name: string; path: string; requests: string[] };

// Omit distributed over the union, so each command keeps its own fields.
type WithoutId<C> = C extends unknown ? Omit<C, "id"> : never;

/** What the load generator answers. */
interface ClientReply {
  id: number;
  error?: string;
  calls?: number;
  errors?: number;
  seconds?: number;
  /** Serial latencies (ms), one list per case of a "serial" command. */
  samples?: number[][];
  detail?: string;
}

interface Workload {
  readonly path: string;
  readonly requests: readonly Buffer[];
}

function checkBytes(tenantId: string, userId: string, permission: string): Buffer {
  return Buffer.from(
    toBinary(
      CheckPermissionRequestSchema,
      create(CheckPermissionRequestSchema, { tenantId, userId, permission }),
    ),
  );
}

/** Builds the workloads from the catalog's permission keys. */
function workloads(permissions: readonly string[]): Map<string, Workload> {
  const users = ["alice", "bob", "carol", "dave", "zoe", "max", "ines", "lena"];
  const story = [
    "cxengage/CONTACTS_READ",
    "cxengage/CONTACTS_UPDATE",
    "calabrio-one/view-analytics",
    "calabrio-one/view-contacts",
    "zoom-contact-center/RptWallboard:Read",
    "maxcontact/access-chat",
    "iadvize/access-to-production-report",
  ].filter((p) => permissions.includes(p));
  // The story's keys plus a spread across the catalog: grants, denials, license misses.
  const step = Math.max(1, Math.floor(permissions.length / 9));
  const spread = permissions.filter((_, i) => i % step === 0).slice(0, 9);
  const keys = [...new Set([...story, ...spread])];
  const mix: Buffer[] = [];
  for (const user of users) for (const key of keys) mix.push(checkBytes("demo", user, key));
  const batch = create(CheckPermissionsRequestSchema, {
    tenantId: "demo",
    userId: "dave",
    // Dave's own system first, so the batch mixes grants and denials like a real page would.
    items: [
      ...permissions.filter((p) => p.startsWith("cxengage/")),
      ...permissions.filter((p) => !p.startsWith("cxengage/")),
    ]
      .slice(0, BATCH_ITEMS)
      .map((permission) => ({ permission })),
  });
  return new Map<string, Workload>([
    ["dave", { path: CHECK, requests: [checkBytes("demo", "dave", "cxengage/CONTACTS_READ")] }],
    ["mix", { path: CHECK, requests: mix }],
    ["batch", { path: CHECK_MANY, requests: [Buffer.from(toBinary(CheckPermissionsRequestSchema, batch))] }],
  ]);
}

/** The load generator: one stock grpc-js channel per target, driven by IPC commands. */
function runClient(): void {
  const clients = new Map<string, grpc.Client>();
  const loads = new Map<string, Workload>();
  const clientOf = (target: string) => {
    const c = clients.get(target);
    if (!c) throw new Error(`no client for ${target}`);
    return c;
  };
  const loadOf = (name: string) => {
    const w = loads.get(name);
    if (!w) throw new Error(`no workload ${name}`);
    return w;
  };

  const throughput = (client: grpc.Client, w: Workload, ms: number, concurrency: number) =>
    new Promise<ClientReply>((resolve) => {
      let calls = 0;
      let errors = 0;
      let next = 0;
      let active = 0;
      const start = performance.now();
      const end = start + ms;
      let last = start;
      const issue = () => {
        active++;
        const req = w.requests[next++ % w.requests.length]!;
        unaryCall(client, w.path, req, (err) => {
          active--;
          if (err) errors++;
          else calls++;
          last = performance.now();
          if (last < end) issue();
          else if (active === 0) resolve({ id: 0, calls, errors, seconds: (last - start) / 1000 });
        });
      };
      for (let i = 0; i < concurrency; i++) issue();
    });

  // Serial calls, one at a time, in short alternating blocks per case: each block measures a
  // server answering back-to-back calls (as a service calling it in a loop would see), and the
  // neighbouring blocks of the other case run under the same background load. The first call of
  // a block, the one that wakes a process idle since the last block, is not counted.
  const serial = async (
    cases: readonly { client: grpc.Client; w: Workload }[],
    ms: number,
  ): Promise<ClientReply> => {
    const samples = cases.map((): number[] => []);
    let errors = 0;
    const end = performance.now() + ms;
    for (let i = 0; performance.now() < end; i++) {
      for (let k = 0; k < cases.length; k++) {
        const { client, w } = cases[k]!;
        for (let b = 0; b <= SERIAL_BLOCK; b++) {
          const req = w.requests[(i * SERIAL_BLOCK + b) % w.requests.length]!;
          const t0 = performance.now();
          try {
            await unaryAsync(client, w.path, req);
            if (b > 0) samples[k]!.push(performance.now() - t0);
          } catch {
            errors++;
          }
        }
      }
    }
    return { id: 0, errors, samples };
  };

  const handle = async (cmd: ClientCommand): Promise<ClientReply> => {
    switch (cmd.op) {
      case "connect": {
        const client = new grpc.Client(cmd.address, grpc.credentials.createInsecure());
        await new Promise<void>((resolve, reject) =>
          client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())),
        );
        clients.set(cmd.target, client);
        return { id: cmd.id };
      }
      case "prepare": {
        for (const [name, w] of workloads(cmd.permissions)) loads.set(name, w);
        // Sanity: the sidecar must really decide (dave holds CONTACTS_READ), not fail every call.
        const client = clientOf(cmd.target);
        const one = fromBinary(
          CheckPermissionResponseSchema,
          await unaryAsync(client, CHECK, loadOf("dave").requests[0]!),
        );
        const many = fromBinary(
          CheckPermissionsResponseSchema,
          await unaryAsync(client, CHECK_MANY, loadOf("batch").requests[0]!),
        );
        let failures = 0;
        for (const req of loadOf("mix").requests) {
          await unaryAsync(client, CHECK, req).catch(() => failures++);
        }
        return {
          id: cmd.id,
          detail: `dave CONTACTS_READ → ${Reason[one.reason]}; batch → ${many.results.length} results, ${
            many.results.filter((r) => r.allowed).length
          } allowed; mix: ${loadOf("mix").requests.length} requests, ${failures} failed`,
        };
      }
      case "load":
        loads.set(cmd.name, { path: cmd.path, requests: cmd.requests.map((b) => Buffer.from(b, "base64")) });
        return { id: cmd.id };
      case "throughput":
        return throughput(clientOf(cmd.target), loadOf(cmd.workload), cmd.ms, cmd.concurrency);
      case "serial":
        return serial(
          cmd.cases.map((c) => ({ client: clientOf(c.target), w: loadOf(c.workload) })),
          cmd.ms,
        );
    }
  };

  process.on("message", (cmd: ClientCommand) => {
    handle(cmd).then(
      (reply) => process.send?.({ ...reply, id: cmd.id }),
      (err: unknown) => process.send?.({ id: cmd.id, error: String(err) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ ready: true });
}

// ---------------------------------------------------------------------------------------------
// The bench process: starts everything, runs the rounds, prints the table, kills every child.
// ---------------------------------------------------------------------------------------------

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after a grace period; by PID, only our own children. */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, "exit");
  process.kill(child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
  }, 3_000);
  await exited;
  clearTimeout(timer);
}

async function killAll(): Promise<void> {
  await Promise.all([...children].map(kill));
}

/**
 * Re-runs this file under tsx as a child role; resolves with the first IPC message. With
 * `traceGc`, the child runs with --trace-gc and `output()` returns its stdout (the GC lines).
 */
async function forkRole(
  role: string,
  traceGc = false,
): Promise<{ child: ChildProcess; first: Record<string, unknown>; output: () => string }> {
  const child = track(
    fork(SELF, ["--role", role], {
      cwd: ROOT,
      execArgv: ["--import", "tsx", ...(traceGc ? ["--trace-gc"] : [])],
      stdio: ["ignore", traceGc ? "pipe" : "inherit", "inherit", "ipc"],
    }),
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const [first] = (await Promise.race([
    once(child, "message"),
    once(child, "exit").then(([code]) => {
      throw new Error(`${role} exited with ${code} before it was ready`);
    }),
  ])) as [Record<string, unknown>];
  return { child, first, output: () => output };
}

/** GC pauses in `--trace-gc` output: total pause (ms) and how many were full (mark-compact) collections. */
function gcPauses(traceOutput: string): { pauseMs: number; full: number } {
  let pauseMs = 0;
  let full = 0;
  // e.g. "[123:0x55d0] 4202 ms: Scavenge 72.5 (92.7) -> 64.4 (95.5) MB, 3.90 / 0.00 ms  ..."
  for (const m of traceOutput.matchAll(
    / ms: (Scavenge|Mark-Compact|Minor Mark-Compact)\b.*? MB, ([\d.]+) \//g,
  )) {
    pauseMs += Number(m[2]);
    if (m[1] === "Mark-Compact") full++;
  }
  return { pauseMs, full };
}

interface SidecarRun {
  readonly child: ChildProcess;
  readonly grpcAddress: string;
  /** The sidecar's own "ready in N ms" (in-process, after module loading). */
  readonly readyMs: number;
  output(): string;
}

/** Spawns `node bin/rolecall.js serve` and resolves once it printed its addresses. */
async function spawnSidecar(
  dbPath: string,
  nodeArgs: readonly string[] = [],
  serveArgs: readonly string[] = [],
): Promise<SidecarRun> {
  const child = track(
    spawn(
      process.execPath,
      [
        ...nodeArgs,
        join(ROOT, "bin/rolecall.js"),
        "serve",
        "--db",
        dbPath,
        ...LOOPBACK_SERVE_ARGS,
        ...serveArgs,
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    ),
  );
  let output = "";
  child.stdout!.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const grpcAddress = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /gRPC:\s+(\S+)/.exec(output);
      if (m) {
        child.stdout!.off("data", onData);
        child.off("exit", onExit);
        resolve(m[1]!);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`sidecar exited with ${code}:\n${output}`));
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
  });
  const readyMs = Number(/ready in (\d+) ms/.exec(output)?.[1] ?? Number.NaN);
  return { child, grpcAddress, readyMs, output: () => output };
}

/** Sends a command to the load generator and waits for its answer. */
function clientRpc(client: ChildProcess): (cmd: WithoutId<ClientCommand>) => Promise<ClientReply> {
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: ClientReply) => void; reject: (e: Error) => void }>();
  client.on("message", (reply: ClientReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (reply.error) p.reject(new Error(reply.error));
    else p.resolve(reply);
  });
  client.once("exit", (code) => {
    for (const p of pending.values()) p.reject(new Error(`load generator exited with ${code}`));
    pending.clear();
  });
  return (cmd) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      client.send({ ...cmd, id });
    });
}

/** Spawn → first SERVING answer of grpc.health.v1 Check (overall), in ms. */
async function timeStartup(dbPath: string): Promise<{ totalMs: number; readyMs: number }> {
  const t0 = performance.now();
  const run = await spawnSidecar(dbPath);
  const client = new grpc.Client(run.grpcAddress, grpc.credentials.createInsecure());
  try {
    await waitServing(client, 20_000, run.output);
    return { totalMs: performance.now() - t0, readyMs: run.readyMs };
  } finally {
    client.close();
    await kill(run.child);
  }
}

/** Fetches every permission key of the catalog from the sidecar's CatalogService. */
async function catalogKeys(address: string): Promise<string[]> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    const keys: string[] = [];
    const systems = fromBinary(
      ListSystemsResponseSchema,
      await unaryAsync(client, "/rolecall.v1.CatalogService/ListSystems", Buffer.alloc(0)),
    ).systems;
    for (const system of systems) {
      const req = toBinary(
        ListPermissionsRequestSchema,
        create(ListPermissionsRequestSchema, { system: system.id }),
      );
      const bytes = await unaryAsync(client, "/rolecall.v1.CatalogService/ListPermissions", Buffer.from(req));
      keys.push(...fromBinary(ListPermissionsResponseSchema, bytes).permissions.map((p) => p.key));
    }
    return keys;
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const seconds = Number(argValue("--seconds") ?? "0.5");
  if (!(seconds > 0 && seconds <= 60)) throw new Error("--seconds must be in (0, 60]");
  const windowMs = seconds * 1000;
  const generators = Number(argValue("--generators") ?? "2");
  if (!(Number.isInteger(generators) && generators >= 1 && generators <= 16))
    throw new Error("--generators must be a whole number from 1 to 16");
  // `--cpu-prof DIR`: profile the benchmarked sidecar (written when it exits) to find a miss's cause.
  const profileDir = argValue("--cpu-prof");
  // `--serve-args "..."`: extra `rolecall serve` flags for the benchmarked sidecar (e.g. --poll-ms 1000).
  const serveArgs = (argValue("--serve-args") ?? "").split(" ").filter(Boolean);
  // `--node-args "..."`: node flags for the benchmarked sidecars (e.g. "--max-semi-space-size=2").
  const sidecarNodeArgs = (argValue("--node-args") ?? "").split(" ").filter(Boolean);
  // Each serial comparison alternates two cases, so it gets two throughput windows' time.
  const serialMs = windowMs * 2;
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "rolecall-bench-"));
  const log = (s: string) =>
    process.stderr.write(`[${fmt((performance.now() - started) / 1000, 1)} s] ${s}\n`);

  try {
    // The Cerbos peer first, on its own fresh sidecar, before the other servers start.
    const peerTable = process.argv.includes("--no-peer")
      ? ""
      : !cerbosAvailable()
        ? "\nCerbos comparison skipped: no @cerbos/cerbos-linux-x64 binary on this platform.\n"
        : await comparePeer({
            dir,
            windowMs,
            generators,
            log,
            track,
            spawnSidecar: (dbPath) => spawnSidecar(dbPath, sidecarNodeArgs, serveArgs),
            forkGenerator: async () => clientRpc((await forkRole("client")).child),
          });
    if (process.argv.includes("--peer-only")) {
      process.stdout.write(peerTable);
      return;
    }
    log("starting the sidecar, the no-op servers and the load generator");
    const [sidecar, noop, connect, gen] = await Promise.all([
      spawnSidecar(
        join(dir, "bench.db"),
        [
          "--trace-gc",
          ...sidecarNodeArgs,
          ...(profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : []),
        ],
        serveArgs,
      ),
      forkRole("noop-grpc", true),
      forkRole("noop-connect"),
      forkRole("client"),
    ]);
    const call = clientRpc(gen.child);
    const targets = {
      sidecar: sidecar.grpcAddress,
      noop: `127.0.0.1:${noop.first.port}`,
      connect: `127.0.0.1:${connect.first.port}`,
    };
    for (const [target, address] of Object.entries(targets)) await call({ op: "connect", target, address });
    const permissions = await catalogKeys(sidecar.grpcAddress);
    if (permissions.length < BATCH_ITEMS)
      throw new Error(`catalog has only ${permissions.length} permissions`);
    const prep = await call({ op: "prepare", target: "sidecar", permissions });
    log(`sidecar sanity: ${prep.detail}`);
    const mixSize = Number(/mix: (\d+) requests/.exec(prep.detail ?? "")?.[1] ?? Number.NaN);

    // Throughput: each subject's window sits next to a no-op window (order alternating by round)
    // and their ratio is taken per pair. Serial latency: one interleaved window per round.
    const subjects = [
      { key: "sidecar-dave", target: "sidecar", workload: "dave" },
      { key: "sidecar-mix", target: "sidecar", workload: "mix" },
      { key: "connect", target: "connect", workload: "dave" },
    ] as const;
    // Serial comparisons, each a pair alternating block by block: [subject, baseline].
    const pairs = [
      { key: "sidecar-dave", target: "sidecar", workload: "dave", base: "noop" },
      { key: "sidecar-mix", target: "sidecar", workload: "mix", base: "noop" },
      { key: "connect", target: "connect", workload: "dave", base: "noop" },
      { key: "sidecar-batch", target: "sidecar", workload: "batch", base: "sidecar-dave" },
      { key: "noop-batch", target: "noop", workload: "batch", base: "noop" },
    ] as const;
    type Key = (typeof pairs)[number]["key"] | "noop";
    const caseOf = (k: Key) =>
      k === "noop" ? { target: "noop", workload: "dave" } : pairs.find((p) => p.key === k)!;
    const tput = new Map<Key, number[]>();
    const tputRatio = new Map<Key, number[]>();
    // Server CPU time per call: unlike calls/s, barely moved by what else runs on the machine.
    const cpu = new Map<Key, number[]>();
    const cpuRatio = new Map<Key, number[]>();
    // Latency samples per pair: the subject's and its baseline's, gathered side by side.
    const latency = new Map<Key, { subject: number[]; base: number[] }>(
      pairs.map((p) => [p.key, { subject: [], base: [] }]),
    );
    const push = (m: Map<Key, number[]>, k: Key, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
    let errors = 0;
    const pids: Record<string, number | undefined> = {
      sidecar: sidecar.child.pid,
      noop: noop.child.pid,
      connect: connect.child.pid,
    };
    // The --trace-gc output of the servers that run with it.
    const gcTrace: Record<string, (() => string) | undefined> = {
      sidecar: sidecar.output,
      noop: noop.output,
    };
    /** GC pause (ms) and full collections during the throughput windows, with the calls they served. */
    const gc = new Map<Key, { pauseMs: number; full: number; calls: number }>();
    /** Calls per second, and the server's CPU time per call (µs) when /proc tells it. */
    const window = async (target: string, workload: string, ms: number, key?: Key) => {
      const cpu0 = cpuSeconds(pids[target]);
      const trace0 = gcTrace[target]?.().length ?? 0;
      const r = await call({ op: "throughput", target, workload, ms, concurrency: CONCURRENCY });
      const cpu1 = cpuSeconds(pids[target]);
      errors += r.errors ?? 0;
      const cpuPerCall =
        cpu0 !== undefined && cpu1 !== undefined ? ((cpu1 - cpu0) * 1e6) / r.calls! : Number.NaN;
      const trace = gcTrace[target]?.();
      if (key !== undefined && trace !== undefined) {
        const g = gcPauses(trace.slice(trace0));
        const sum = gc.get(key) ?? { pauseMs: 0, full: 0, calls: 0 };
        gc.set(key, {
          pauseMs: sum.pauseMs + g.pauseMs,
          full: sum.full + g.full,
          calls: sum.calls + r.calls!,
        });
      }
      return { rate: r.calls! / r.seconds!, cpuPerCall };
    };
    const serialPair = async (p: (typeof pairs)[number], ms: number, record: boolean) => {
      const base = caseOf(p.base);
      const r = await call({
        op: "serial",
        cases: [
          { target: p.target, workload: p.workload },
          { target: base.target, workload: base.workload },
        ],
        ms,
      });
      errors += r.errors ?? 0;
      if (!record) return;
      latency.get(p.key)!.subject.push(...r.samples![0]!);
      latency.get(p.key)!.base.push(...r.samples![1]!);
    };

    log("warm-up");
    await window("noop", "dave", 1000);
    for (const c of subjects) await window(c.target, c.workload, 1000);
    await window("sidecar", "batch", 500);
    await window("noop", "batch", 500);
    for (const p of pairs) await serialPair(p, 300, false);
    for (let round = 0; round < ROUNDS; round++) {
      log(`round ${round + 1}/${ROUNDS}`);
      for (const c of subjects) {
        let base: Awaited<ReturnType<typeof window>>;
        let value: typeof base;
        if (round % 2 === 0) {
          base = await window("noop", "dave", windowMs, "noop");
          value = await window(c.target, c.workload, windowMs, c.key);
        } else {
          value = await window(c.target, c.workload, windowMs, c.key);
          base = await window("noop", "dave", windowMs, "noop");
        }
        push(tput, "noop", base.rate);
        push(tput, c.key, value.rate);
        push(tputRatio, c.key, value.rate / base.rate);
        push(cpu, "noop", base.cpuPerCall);
        push(cpu, c.key, value.cpuPerCall);
        push(cpuRatio, c.key, value.cpuPerCall / base.cpuPerCall);
      }
      for (const p of pairs) await serialPair(p, serialMs, true);
    }

    log("process start to SERVING");
    const fresh: number[] = [];
    const existing: number[] = [];
    const freshReady: number[] = [];
    const existingReady: number[] = [];
    const reused = join(dir, "startup.db");
    for (let i = 0; i < STARTUP_RUNS; i++) {
      const freshDb = join(dir, `fresh-${i}.db`);
      const f = await timeStartup(i === 0 ? reused : freshDb);
      fresh.push(f.totalMs);
      freshReady.push(f.readyMs);
      const e = await timeStartup(reused);
      existing.push(e.totalMs);
      existingReady.push(e.readyMs);
    }

    const med = (k: Key) => median(tput.get(k)!);
    const ratio = (k: Key) => median(tputRatio.get(k)!);
    const sortedOf = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
    const sorted = new Map(
      [...latency].map(([k, v]) => [k, { subject: sortedOf(v.subject), base: sortedOf(v.base) }]),
    );
    // A subject's percentile, or its baseline's as measured beside it.
    const pct = (k: Key, p: number, side: "subject" | "base" = "subject") =>
      percentile(sorted.get(k)![side], p);
    const pctRatio = (k: Key, p: number) => pct(k, p) / pct(k, p, "base");

    const rows: string[][] = [];
    const row = (...cells: string[]) => rows.push(cells);
    const p50p99 = (k: Key, side: "subject" | "base" = "subject") =>
      `${ms(pct(k, 50, side))} / ${ms(pct(k, 99, side))}`;
    const latencyRow = (label: string, k: Key) => {
      const r50 = pctRatio(k, 50);
      const r99 = pctRatio(k, 99);
      row(
        label,
        p50p99(k),
        p50p99(k, "base"),
        `${x(r50)} / ${x(r99)}`,
        "≤ 1.15x / ≤ 1.50x",
        `${verdict(r50 <= 1.15)} / ${verdict(r99 <= 1.5)}`,
      );
    };
    row(
      `CheckPermission throughput, ${CONCURRENCY} in flight, dave (calls/s)`,
      fmt(med("sidecar-dave")),
      fmt(med("noop")),
      x(ratio("sidecar-dave")),
      "≥ 0.90x",
      verdict(ratio("sidecar-dave") >= 0.9),
    );
    row(
      `… mix: 8 users × ${Math.round(mixSize / 8)} keys (calls/s)`,
      fmt(med("sidecar-mix")),
      fmt(med("noop")),
      x(ratio("sidecar-mix")),
      "≥ 0.90x",
      verdict(ratio("sidecar-mix") >= 0.9),
    );
    const cpuRow = (label: string, k: Key) => {
      const r = median(cpuRatio.get(k)!);
      row(label, fmt(median(cpu.get(k)!)), fmt(median(cpu.get("noop")!)), x(r), "(explains)", "");
    };
    cpuRow(`… server CPU per call at ${CONCURRENCY} in flight, dave (µs)`, "sidecar-dave");
    cpuRow("… server CPU per call, mix (µs)", "sidecar-mix");
    // GC pause per 1,000 calls, and full (mark-compact) collections per 100,000 calls.
    const gcOf = (k: Key) => {
      const g = gc.get(k)!;
      return { pause: (g.pauseMs * 1000) / g.calls, full: (g.full * 100_000) / g.calls };
    };
    const gcRow = (label: string, k: Key) => {
      const [a, b] = [gcOf(k), gcOf("noop")];
      row(
        label,
        `${fmt(a.pause, 1)} / ${fmt(a.full, 1)}`,
        `${fmt(b.pause, 1)} / ${fmt(b.full, 1)}`,
        x(a.pause / b.pause),
        "(explains)",
        "",
      );
    };
    gcRow("… GC pause (ms) per 1,000 calls / full GCs per 100,000 calls, dave", "sidecar-dave");
    gcRow("… GC pause / full GCs, mix", "sidecar-mix");
    latencyRow("CheckPermission serial p50 / p99, dave (ms)", "sidecar-dave");
    latencyRow("… mix serial p50 / p99 (ms)", "sidecar-mix");
    const batchRatio = pctRatio("sidecar-batch", 50);
    row(
      `CheckPermissions ${BATCH_ITEMS} items vs one check, serial p50 (ms)`,
      ms(pct("sidecar-batch", 50)),
      `${ms(pct("sidecar-batch", 50, "base"))} (one check)`,
      x(batchRatio),
      "≤ 2.00x",
      verdict(batchRatio <= 2),
    );
    row(
      `… floor: no-op server, ${BATCH_ITEMS}-item call vs its single, p50 (ms)`,
      ms(pct("noop-batch", 50)),
      `${ms(pct("noop-batch", 50, "base"))} (no-op single)`,
      x(pctRatio("noop-batch", 50)),
      "",
      "",
    );
    row(
      "Start → SERVING, fresh database (builds demo) (ms)",
      fmt(median(fresh)),
      `in-process ${fmt(median(freshReady))}`,
      "",
      "< 1000 ms",
      verdict(median(fresh) < 1000),
    );
    row(
      "Start → SERVING, existing database (ms)",
      fmt(median(existing)),
      `in-process ${fmt(median(existingReady))}`,
      "",
      "< 1000 ms",
      verdict(median(existing) < 1000),
    );
    row(
      `connect-node h2c vs grpc-js, both no-op, ${CONCURRENCY} in flight (calls/s)`,
      fmt(med("connect")),
      fmt(med("noop")),
      x(ratio("connect")),
      "(choice)",
      ratio("connect") < 1 ? "grpc-js faster" : "connect-node faster",
    );
    cpuRow("connect-node h2c vs grpc-js, server CPU per call (µs)", "connect");
    row(
      "connect-node h2c vs grpc-js, both no-op, serial p50 / p99 (ms)",
      p50p99("connect"),
      p50p99("connect", "base"),
      `${x(pctRatio("connect", 50))} / ${x(pctRatio("connect", 99))}`,
      "(choice)",
      "",
    );

    const header = ["measure", "rolecall / subject", "baseline", "ratio", "target", "verdict"];
    const lines = [
      `| ${header.join(" | ")} |`,
      `|${header.map(() => "---").join("|")}|`,
      ...rows.map((r) => `| ${r.join(" | ")} |`),
    ];
    process.stdout.write(
      [
        "",
        `Server benchmark: loopback, load generator in its own process; after warm-up, ${ROUNDS} rounds of` +
          ` ${seconds} s throughput windows, each next to a no-op window (ratio = median of those pairs),` +
          ` and per comparison a ${fmt(serialMs / 1000, 1)} s serial window alternating blocks of ${SERIAL_BLOCK}` +
          ` calls between subject and baseline (percentiles over all rounds; ≥ ${fmt(
            Math.min(...[...latency.values()].map((v) => Math.min(v.subject.length, v.base.length))),
          )} samples each).`,
        "Baseline: the no-op grpc-js server (same method, protobuf-es serializers, constant answer) unless noted.",
        `Start-up: median of ${STARTUP_RUNS} spawns each, to the first SERVING grpc.health.v1 answer` +
          ' ("in-process" is the sidecar\'s own ready time, after node and module loading).',
        `Failed calls during measurement: ${errors}. Total bench time ${fmt((performance.now() - started) / 1000, 1)} s.`,
        "",
        ...lines,
        peerTable,
      ].join("\n"),
    );
  } finally {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

const role = argValue("--role");
if (role === "noop-grpc") await runNoopGrpc();
else if (role === "noop-connect") await runNoopConnect();
else if (role === "client") runClient();
else {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void killAll().finally(() => process.exit(130));
    });
  }
  try {
    await main();
  } catch (err) {
    process.stderr.write(`server bench failed: ${(err as Error).stack ?? String(err)}\n`);
    await killAll();
    process.exitCode = 1;
  }
}
