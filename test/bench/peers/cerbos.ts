/**
 * The Cerbos policy decision point as a peer of the server bench: started from the binary the npm
 * package `@cerbos/cerbos-linux-x64` ships, with disk storage on a policies folder written into a
 * temp dir, every listener (gRPC, HTTP, the gops debug listener) on 127.0.0.1, audit and
 * telemetry off. Requests are encoded once with the message types of `@cerbos/api`, so the load
 * generator sends Cerbos raw bytes exactly as it sends rolecall's.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Effect } from "@cerbos/api/cerbos/effect/v1/effect_pb";
import { CheckResourcesRequestSchema } from "@cerbos/api/cerbos/request/v1/request_pb";
import { CheckResourcesResponseSchema } from "@cerbos/api/cerbos/response/v1/response_pb";
import { stringify } from "yaml";
import type { PeerPolicy } from "./cerbos-policy.js";

/** Cerbos's CheckResources, the call its SDKs make for "may this principal do these actions". */
export const CERBOS_CHECK = "/cerbos.svc.v1.CerbosService/CheckResources";

const BINARY = join(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64",
);

/** Whether this platform has the Cerbos binary (the npm package ships Linux x64 only here). */
export function cerbosAvailable(): boolean {
  return existsSync(BINARY);
}

/** A free loopback port (Cerbos cannot report one it picked itself). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface CerbosRun {
  readonly child: ChildProcess;
  readonly grpcAddress: string;
  output(): string;
}

/**
 * Writes the policy and config into `dir` and starts Cerbos; resolves once its gRPC port accepts
 * connections (the caller waits for SERVING on grpc.health.v1 as it does for rolecall).
 */
export async function startCerbos(
  dir: string,
  policy: PeerPolicy,
  track: (child: ChildProcess) => ChildProcess,
): Promise<CerbosRun> {
  const policies = join(dir, "cerbos-policies");
  mkdirSync(policies, { recursive: true });
  writeFileSync(join(policies, `${policy.kind}.yaml`), stringify(policy.policy));
  const [grpcPort, httpPort, debugPort] = [await freePort(), await freePort(), await freePort()];
  const config = {
    server: {
      grpcListenAddr: `127.0.0.1:${grpcPort}`,
      httpListenAddr: `127.0.0.1:${httpPort}`,
    },
    storage: { driver: "disk", disk: { directory: policies, watchForChanges: false } },
    audit: { enabled: false },
    telemetry: { disabled: true },
  };
  const configPath = join(dir, "cerbos.yaml");
  writeFileSync(configPath, stringify(config));
  const child = track(
    spawn(
      BINARY,
      ["server", `--config=${configPath}`, `--debug-listen-addr=127.0.0.1:${debugPort}`, "--log-level=warn"],
      { env: { ...process.env, CERBOS_NO_TELEMETRY: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    ),
  );
  let output = "";
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("spawn", () => resolve());
  });
  return { child, grpcAddress: `127.0.0.1:${grpcPort}`, output: () => output };
}

/** CheckResources for one principal on one resource of the policy's kind, with these actions. */
export function cerbosCheckBytes(policy: PeerPolicy, userId: string, actions: readonly string[]): Buffer {
  const roles = policy.principals.get(userId);
  if (!roles) throw new Error(`no principal ${userId} in the peer policy`);
  const request = create(CheckResourcesRequestSchema, {
    principal: { id: userId, roles: [...roles] },
    resources: [{ actions: [...actions], resource: { kind: policy.kind, id: "bench" } }],
  });
  return Buffer.from(toBinary(CheckResourcesRequestSchema, request));
}

/** The allowed actions of a CheckResources answer (one resource asked). */
export function cerbosAllowed(answer: Uint8Array): Map<string, boolean> {
  const response = fromBinary(CheckResourcesResponseSchema, answer);
  const result = response.results[0];
  if (!result) throw new Error("Cerbos answered no result");
  return new Map(Object.entries(result.actions).map(([action, effect]) => [action, effect === Effect.ALLOW]));
}
