/**
 * The check-load child of the fleet bench and fault suite, started by `startCheckLoad` in fleet.ts
 * (bundled by child-script.ts; possibly inside a network namespace):
 *   fleet-check-load.ts '<CheckLoadConfig as JSON>'
 * Connects a stock grpc-js client to every address, prints `ready`, then starts `rate` calls per
 * second round robin over them (open loop, ticking every 5 ms) until a `stop` line arrives on
 * stdin; then it waits for the calls in flight and prints `summary <json>`. With `record`, each
 * answer is a line (`a <sentAt> <target> <revision> <allowed> <ms>` or `e <sentAt> <target> <code>
 * <ms>`); with `healthEveryMs`, each health answer too (`h <at> <target> <status>`). Output goes
 * through a pipe, never the network, so the lines get out of a cut-off namespace.
 */
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";
import { grpcClients } from "./clients.js";
import type { CheckLoadConfig, LoadSummary } from "./fleet.js";

const config = JSON.parse(process.argv[2] ?? "null") as CheckLoadConfig | null;
if (config === null || config.addresses.length === 0 || config.requests.length === 0) {
  throw new Error("usage: fleet-check-load.ts '<CheckLoadConfig as JSON>'");
}
const method = config.method ?? "CheckPermission";
const deadlineMs = config.deadlineMs ?? 5_000;
const MAX_IN_FLIGHT = 2_000;
const now = () => performance.timeOrigin + performance.now();
const out: string[] = [];
const flush = () => {
  if (out.length > 0) process.stdout.write(`${out.splice(0).join("\n")}\n`);
};

const clients = config.addresses.map((a) => grpcClients(a).policy);
const healthPackage = grpc.loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};
const healthClients = config.addresses.map(
  (a) => new healthPackage.grpc.health.v1.Health(a, grpc.credentials.createInsecure()),
);

interface Answer {
  revision?: string;
  results?: { allowed: boolean }[];
  allowed?: boolean;
}

function send(
  client: grpc.Client,
  name: string,
  request: object,
): Promise<{ err: grpc.ServiceError | null; res: Answer | undefined }> {
  const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[name]!;
  return new Promise((resolve) => {
    fn.call(
      client,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err: grpc.ServiceError | null, res: Answer | undefined) => resolve({ err, res }),
    );
  });
}

// Connected and answering before the parent starts its clock.
await Promise.all(
  clients.map(async (c) => {
    for (let i = 0; ; i++) {
      const { err } = await send(c, method, config.requests[0]!);
      if (err === null || err.code !== grpc.status.UNAVAILABLE || i >= 50) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }),
);
process.stdout.write("ready\n");

const latencies: number[] = [];
const errors: Record<string, number> = {};
let sent = 0;
let ok = 0;
let skipped = 0;
let inFlight = 0;
let stopping = false;

function fire(): void {
  const target = sent % clients.length;
  const request = config!.requests[sent % config!.requests.length]!;
  sent++;
  inFlight++;
  const at = now();
  void send(clients[target]!, method, request).then(({ err, res }) => {
    inFlight--;
    const ms = now() - at;
    if (err !== null || res === undefined) {
      const code = err?.code ?? -1;
      errors[code] = (errors[code] ?? 0) + 1;
      if (config!.record) out.push(`e ${at.toFixed(1)} ${target} ${code} ${ms.toFixed(2)}`);
      return;
    }
    ok++;
    latencies.push(ms);
    if (config!.record) {
      const allowed = res.results ? res.results.filter((r) => r.allowed).length : res.allowed ? 1 : 0;
      out.push(`a ${at.toFixed(1)} ${target} ${res.revision ?? "0"} ${allowed} ${ms.toFixed(2)}`);
    }
  });
}

const started = performance.now();
const ticker = setInterval(() => {
  if (stopping) return;
  const due = Math.floor(((performance.now() - started) / 1000) * config.rate);
  while (sent + skipped < due) {
    if (inFlight >= MAX_IN_FLIGHT) skipped++;
    else fire();
  }
  flush();
}, 5);

let healthTimer: NodeJS.Timeout | undefined;
if ((config.healthEveryMs ?? 0) > 0) {
  healthTimer = setInterval(() => {
    healthClients.forEach((h, target) => {
      const at = now();
      void send(h, "check", { service: "" }).then(({ err, res }) => {
        const status = err === null ? String((res as { status?: string }).status) : `error-${err.code}`;
        out.push(`h ${at.toFixed(1)} ${target} ${status}`);
      });
    });
  }, config.healthEveryMs);
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", (d: string) => {
  if (!d.includes("stop") || stopping) return;
  stopping = true;
  clearInterval(ticker);
  clearInterval(healthTimer);
  const seconds = (performance.now() - started) / 1000;
  const finish = () => {
    if (inFlight > 0) {
      setTimeout(finish, 5);
      return;
    }
    flush();
    const sorted = latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
    const summary: LoadSummary = {
      sent,
      ok,
      errors,
      skipped,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      seconds,
    };
    process.stdout.write(`summary ${JSON.stringify(summary)}\n`, () => {
      for (const c of [...clients, ...healthClients]) c.close();
      process.exit(0);
    });
  };
  finish();
});
