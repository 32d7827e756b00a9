/**
 * rolecall against Cerbos on equal decisions, part of the server bench (`--peer-only` runs just
 * this). A fresh sidecar on the demo database and a Cerbos PDP whose resource policy is generated
 * from that database (cerbos-policy.ts) answer the same questions: every (user, CxEngage
 * permission) decision of the two is checked equal before anything is timed.
 *
 * Capacity: both servers run on the same 2 cores as the load generators, so calls/s is bounded by
 * whoever runs out of CPU first. Throughput windows are driven by several generator processes at
 * once (`--generators N`, default 2) so that one client event loop is not the ceiling, and the
 * server's own CPU time per call (from /proc, beside the cores it kept busy) is reported as the
 * capacity figure: it does not depend on what else runs. Rounds alternate which server goes first;
 * throughput is the median over rounds (ratio: median of per-round ratios), CPU per call the
 * sum over all windows, latency percentiles over all serial samples.
 */
import type { ChildProcess } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  CheckPermissionRequestSchema,
  CheckPermissionsRequestSchema,
  CheckPermissionsResponseSchema,
} from "../../../gen/rolecall/v1/policy_pb.js";
import { cpuSeconds, fmt, median, ms, percentile, rssMiB, verdict, x } from "../bench-stats.js";
import { unaryAsync, waitServing } from "../raw-grpc.js";
import { CERBOS_CHECK, cerbosAllowed, cerbosCheckBytes, startCerbos } from "./cerbos.js";
import { peerPolicyFromStore } from "./cerbos-policy.js";

const CHECK = "/rolecall.v1.PolicyService/CheckPermission";
const CHECK_MANY = "/rolecall.v1.PolicyService/CheckPermissions";
const TENANT = "demo";
const SYSTEM = "cxengage";
const ROUNDS = 6;
/** Calls in flight per generator process during a throughput window. */
const IN_FLIGHT_PER_GENERATOR = 16;

/** The load generator commands this comparison uses (server.bench.ts's `--role client`). */
export type GeneratorCommand =
  | { op: "connect"; target: string; address: string }
  | { op: "load"; name: string; path: string; requests: string[] }
  | { op: "throughput"; target: string; workload: string; ms: number; concurrency: number }
  | { op: "serial"; cases: { target: string; workload: string }[]; ms: number };

export type GeneratorCall = (cmd: GeneratorCommand) => Promise<{
  calls?: number;
  errors?: number;
  seconds?: number;
  samples?: number[][];
}>;

/** What the server bench lends: its process helpers, so children are tracked and killed alike. */
export interface PeerBenchContext {
  readonly dir: string;
  readonly windowMs: number;
  readonly generators: number;
  log(line: string): void;
  track(child: ChildProcess): ChildProcess;
  spawnSidecar(dbPath: string): Promise<{ child: ChildProcess; grpcAddress: string; output(): string }>;
  forkGenerator(): Promise<GeneratorCall>;
}

type Server = "rolecall" | "cerbos";
type WorkloadName = "dave" | "mix" | "batch";
const WORKLOADS: readonly WorkloadName[] = ["dave", "mix", "batch"];

function rolecallCheck(userId: string, key: string): Buffer {
  const request = create(CheckPermissionRequestSchema, { tenantId: TENANT, userId, permission: key });
  return Buffer.from(toBinary(CheckPermissionRequestSchema, request));
}

function rolecallBatch(userId: string, keys: readonly string[]): Buffer {
  const request = create(CheckPermissionsRequestSchema, {
    tenantId: TENANT,
    userId,
    items: keys.map((permission) => ({ permission })),
  });
  return Buffer.from(toBinary(CheckPermissionsRequestSchema, request));
}

/** Asks both servers every user × action and throws on the first list of differences. */
async function verifyEqualDecisions(
  rolecall: grpc.Client,
  cerbos: grpc.Client,
  policy: ReturnType<typeof peerPolicyFromStore>,
): Promise<{ decisions: number; allowed: number }> {
  const differences: string[] = [];
  let allowed = 0;
  for (const user of policy.principals.keys()) {
    const keys = policy.actions.map((a) => `${SYSTEM}/${a}`);
    const ours = fromBinary(
      CheckPermissionsResponseSchema,
      await unaryAsync(rolecall, CHECK_MANY, rolecallBatch(user, keys)),
    ).results;
    const theirs = cerbosAllowed(
      await unaryAsync(cerbos, CERBOS_CHECK, cerbosCheckBytes(policy, user, policy.actions)),
    );
    policy.actions.forEach((action, i) => {
      const a = ours[i]?.allowed;
      const b = theirs.get(action);
      if (a === true) allowed++;
      if (a !== b) differences.push(`${user} ${action}: rolecall ${a}, Cerbos ${b}`);
    });
  }
  if (differences.length > 0)
    throw new Error(
      `rolecall and Cerbos disagree on ${differences.length} decisions:\n${differences.join("\n")}`,
    );
  return { decisions: policy.principals.size * policy.actions.length, allowed };
}

/** Runs the comparison and returns its markdown table (with a preamble). */
export async function comparePeer(ctx: PeerBenchContext): Promise<string> {
  ctx.log("peer: starting a fresh sidecar and Cerbos");
  const load0 = loadavg()[0]!;
  const dbPath = join(ctx.dir, "peer.db");
  const sidecar = await ctx.spawnSidecar(dbPath);
  const rolecallClient = new grpc.Client(sidecar.grpcAddress, grpc.credentials.createInsecure());
  await waitServing(rolecallClient, 20_000, sidecar.output);
  const policy = peerPolicyFromStore(dbPath, TENANT, SYSTEM);
  const cerbos = await startCerbos(ctx.dir, policy, ctx.track);
  const cerbosClient = new grpc.Client(cerbos.grpcAddress, grpc.credentials.createInsecure());
  const pids: Record<Server, number | undefined> = { rolecall: sidecar.child.pid, cerbos: cerbos.child.pid };
  try {
    await waitServing(cerbosClient, 20_000, cerbos.output);
    const equal = await verifyEqualDecisions(rolecallClient, cerbosClient, policy);
    ctx.log(`peer: ${equal.decisions} decisions equal (${equal.allowed} allowed)`);
    const idleRss = { rolecall: rssMiB(pids.rolecall), cerbos: rssMiB(pids.cerbos) };

    // The same questions as encoded requests for each server.
    const users = [...policy.principals.keys()];
    const b64 = (b: Buffer) => b.toString("base64");
    const requests: Record<Server, Record<WorkloadName, { path: string; requests: string[] }>> = {
      rolecall: {
        dave: { path: CHECK, requests: [b64(rolecallCheck("dave", `${SYSTEM}/CONTACTS_READ`))] },
        mix: {
          path: CHECK,
          requests: users.flatMap((u) => policy.actions.map((a) => b64(rolecallCheck(u, `${SYSTEM}/${a}`)))),
        },
        batch: {
          path: CHECK_MANY,
          requests: [
            b64(
              rolecallBatch(
                "dave",
                policy.actions.map((a) => `${SYSTEM}/${a}`),
              ),
            ),
          ],
        },
      },
      cerbos: {
        dave: { path: CERBOS_CHECK, requests: [b64(cerbosCheckBytes(policy, "dave", ["CONTACTS_READ"]))] },
        mix: {
          path: CERBOS_CHECK,
          requests: users.flatMap((u) => policy.actions.map((a) => b64(cerbosCheckBytes(policy, u, [a])))),
        },
        batch: { path: CERBOS_CHECK, requests: [b64(cerbosCheckBytes(policy, "dave", policy.actions))] },
      },
    };
    const generators = await Promise.all(Array.from({ length: ctx.generators }, () => ctx.forkGenerator()));
    for (const call of generators) {
      await call({ op: "connect", target: "rolecall", address: sidecar.grpcAddress });
      await call({ op: "connect", target: "cerbos", address: cerbos.grpcAddress });
      for (const server of ["rolecall", "cerbos"] as const)
        for (const w of WORKLOADS) await call({ op: "load", name: `${server}-${w}`, ...requests[server][w] });
    }

    let errors = 0;
    /** One throughput window on `server`, all generators at once: calls/s, CPU µs per call, cores busy. */
    const window = async (server: Server, w: WorkloadName, windowMs: number) => {
      const cpu0 = cpuSeconds(pids[server]);
      const t0 = performance.now();
      const replies = await Promise.all(
        generators.map((call) =>
          call({
            op: "throughput",
            target: server,
            workload: `${server}-${w}`,
            ms: windowMs,
            concurrency: IN_FLIGHT_PER_GENERATOR,
          }),
        ),
      );
      const wall = (performance.now() - t0) / 1000;
      const cpu = (cpuSeconds(pids[server]) ?? Number.NaN) - (cpu0 ?? Number.NaN);
      const calls = replies.reduce((n, r) => n + (r.calls ?? 0), 0);
      errors += replies.reduce((n, r) => n + (r.errors ?? 0), 0);
      return { rate: calls / wall, cpu, calls, cores: cpu / wall };
    };
    const serial = async (w: WorkloadName, order: readonly Server[], windowMs: number) => {
      const r = await generators[0]!({
        op: "serial",
        cases: order.map((s) => ({ target: s, workload: `${s}-${w}` })),
        ms: windowMs,
      });
      errors += r.errors ?? 0;
      return new Map(order.map((s, i) => [s, r.samples![i]!]));
    };

    ctx.log("peer: warm-up");
    for (const s of ["rolecall", "cerbos"] as const) for (const w of WORKLOADS) await window(s, w, 500);
    for (const w of WORKLOADS) await serial(w, ["rolecall", "cerbos"], 300);

    // CPU time is summed over every window before dividing: /proc counts 10 ms ticks, too coarse
    // for one short window of a lightly loaded server.
    type Figures = { rate: number[]; cpu: number; calls: number; cores: number[]; latency: number[] };
    const empty = (): Figures => ({ rate: [], cpu: 0, calls: 0, cores: [], latency: [] });
    const figures = new Map<string, Figures>();
    const fig = (s: Server, w: WorkloadName) => {
      const key = `${s}-${w}`;
      if (!figures.has(key)) figures.set(key, empty());
      return figures.get(key)!;
    };
    const ratios = new Map<string, number[]>();
    const pushRatio = (name: string, v: number) => ratios.set(name, [...(ratios.get(name) ?? []), v]);
    for (let round = 0; round < ROUNDS; round++) {
      ctx.log(`peer: round ${round + 1}/${ROUNDS}`);
      const order: readonly Server[] = round % 2 === 0 ? ["rolecall", "cerbos"] : ["cerbos", "rolecall"];
      for (const w of WORKLOADS) {
        const got = new Map<Server, Awaited<ReturnType<typeof window>>>();
        for (const s of order) got.set(s, await window(s, w, ctx.windowMs));
        const [r, c] = [got.get("rolecall")!, got.get("cerbos")!];
        for (const [s, v] of got) {
          const f = fig(s, w);
          f.rate.push(v.rate);
          f.cpu += v.cpu;
          f.calls += v.calls;
          f.cores.push(v.cores);
        }
        pushRatio(`rate-${w}`, r.rate / c.rate);
      }
      for (const w of WORKLOADS) {
        const samples = await serial(w, order, ctx.windowMs * 2);
        for (const [s, v] of samples) fig(s, w).latency.push(...v);
      }
    }
    const loadedRss = { rolecall: rssMiB(pids.rolecall), cerbos: rssMiB(pids.cerbos) };
    const peakRss = { rolecall: rssMiB(pids.rolecall, true), cerbos: rssMiB(pids.cerbos, true) };

    const rows: string[][] = [];
    const row = (...cells: string[]) => rows.push(cells);
    const pct = (s: Server, w: WorkloadName, p: number) =>
      percentile(
        [...fig(s, w).latency].sort((a, b) => a - b),
        p,
      );
    const ratioRow = (
      label: string,
      w: WorkloadName,
      kind: "rate" | "cpu",
      target: string,
      ok?: (r: number) => boolean,
    ) => {
      const value = (s: Server) =>
        kind === "rate" ? median(fig(s, w).rate) : (fig(s, w).cpu * 1e6) / fig(s, w).calls;
      const r = kind === "rate" ? median(ratios.get(`rate-${w}`)!) : value("rolecall") / value("cerbos");
      row(label, fmt(value("rolecall")), fmt(value("cerbos")), x(r), target, ok ? verdict(ok(r)) : "");
    };
    const latencyRow = (label: string, w: WorkloadName, targets?: [number, number]) => {
      const r50 = pct("rolecall", w, 50) / pct("cerbos", w, 50);
      const r99 = pct("rolecall", w, 99) / pct("cerbos", w, 99);
      row(
        label,
        `${ms(pct("rolecall", w, 50))} / ${ms(pct("rolecall", w, 99))}`,
        `${ms(pct("cerbos", w, 50))} / ${ms(pct("cerbos", w, 99))}`,
        `${x(r50)} / ${x(r99)}`,
        targets ? `≤ ${x(targets[0])} / ≤ ${x(targets[1])}` : "(explains)",
        targets ? `${verdict(r50 <= targets[0])} / ${verdict(r99 <= targets[1])}` : "",
      );
    };
    const inFlight = IN_FLIGHT_PER_GENERATOR * ctx.generators;
    ratioRow(
      `Throughput, dave CONTACTS_READ, ${inFlight} in flight (calls/s)`,
      "dave",
      "rate",
      "≥ 0.95x",
      (r) => r >= 0.95,
    );
    ratioRow(
      `… mix: ${users.length} users × ${policy.actions.length} permissions (calls/s)`,
      "mix",
      "rate",
      "≥ 0.95x",
      (r) => r >= 0.95,
    );
    ratioRow("Server CPU per call, dave (µs)", "dave", "cpu", "≤ 0.40x", (r) => r <= 0.4);
    ratioRow("… mix (µs)", "mix", "cpu", "≤ 0.40x", (r) => r <= 0.4);
    const cores = (s: Server) => fmt(median(fig(s, "mix").cores), 2);
    row(
      "… server cores busy during the mix windows",
      cores("rolecall"),
      cores("cerbos"),
      "",
      "(explains)",
      "",
    );
    latencyRow("Serial p50 / p99, dave (ms)", "dave", [0.8, 1.0]);
    latencyRow("… mix (ms)", "mix", [0.8, 1.0]);
    latencyRow(`${policy.actions.length}-item batch serial p50 / p99 (ms)`, "batch");
    ratioRow(`… batch throughput (calls/s)`, "batch", "rate", "(explains)");
    ratioRow("… batch server CPU per call (µs)", "batch", "cpu", "(explains)");
    const rssRow = (label: string, v: Record<Server, number>) =>
      row(
        label,
        fmt(v.rolecall, 1),
        fmt(v.cerbos, 1),
        x(v.rolecall / v.cerbos),
        "≤ 1.00x",
        verdict(v.rolecall <= v.cerbos),
      );
    rssRow("Resident memory after start (MiB)", idleRss);
    rssRow("Resident memory after the rounds (MiB)", loadedRss);
    rssRow("… its peak over the whole run (MiB)", peakRss);

    const header = ["measure", "rolecall", "Cerbos 0.55", "ratio", "target", "verdict"];
    return [
      "",
      `rolecall vs Cerbos, equal decisions (${equal.decisions} checked, ${equal.allowed} allowed): demo tenant,` +
        ` ${SYSTEM} permissions. ${ROUNDS} rounds alternating which server goes first; throughput windows of` +
        ` ${fmt(ctx.windowMs / 1000, 1)} s driven by ${ctx.generators} generator processes × ${IN_FLIGHT_PER_GENERATOR} in flight;` +
        ` serial windows alternate blocks of calls between the two. rolecall: CheckPermission / CheckPermissions;` +
        ` Cerbos: CheckResources with the user's roles and 1 or ${policy.actions.length} actions.` +
        ` Failed calls: ${errors}. Load average (1 min) before / after: ${fmt(load0, 1)} / ${fmt(loadavg()[0]!, 1)}` +
        ` on ${availableParallelism()} cores. CPU per call: all windows' CPU time over all their calls.`,
      "",
      `| ${header.join(" | ")} |`,
      `|${header.map(() => "---").join("|")}|`,
      ...rows.map((r) => `| ${r.join(" | ")} |`),
      "",
    ].join("\n");
  } finally {
    rolecallClient.close();
    cerbosClient.close();
  }
}
