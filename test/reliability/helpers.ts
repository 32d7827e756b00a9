/**
 * Wire-level helpers of the fuzz, denial-of-service and auth suites: raw calls on both listeners
 * and the child's memory and file descriptors. Raw on purpose: these suites send what no
 * generated client would. (Timing, waiting and the long-variant switch are in support.ts.)
 */
import { readdirSync, readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";

/** gRPC status codes a well-behaved sidecar answers bad input with (INTERNAL/UNKNOWN would be a bug). */
export const EXPECTED_GRPC_CODES: ReadonlySet<number> = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.ALREADY_EXISTS,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.PERMISSION_DENIED,
  grpc.status.UNAUTHENTICATED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.UNAVAILABLE,
]);

/** The same, as Connect's JSON error codes. */
export const EXPECTED_CONNECT_CODES: ReadonlySet<string> = new Set([
  "invalid_argument",
  "not_found",
  "already_exists",
  "failed_precondition",
  "permission_denied",
  "unauthenticated",
  "resource_exhausted",
  "unavailable",
]);

/** A raw gRPC answer: the status error or the response bytes. */
export interface RawGrpcAnswer {
  readonly err: grpc.ServiceError | null;
  readonly body: Buffer | undefined;
  readonly ms: number;
}

/** Sends arbitrary bytes as the request of `path` (`/rolecall.v1.PolicyService/CheckPermission`). */
export function rawGrpcUnary(
  client: grpc.Client,
  path: string,
  bytes: Uint8Array,
  options: { token?: string; deadlineMs?: number } = {},
): Promise<RawGrpcAnswer> {
  const metadata = new grpc.Metadata();
  if (options.token) metadata.set("authorization", `Bearer ${options.token}`);
  const started = performance.now();
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (x: Buffer) => x,
      (x: Buffer) => x,
      Buffer.from(bytes),
      metadata,
      { deadline: Date.now() + (options.deadlineMs ?? 2_000) },
      (err, body) => resolve({ err, body, ms: performance.now() - started }),
    );
  });
}

/** A raw Connect answer. */
export interface RawConnectAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** POSTs a body to `/rolecall.v1.<Service>/<Method>` on the HTTP listener. */
export async function rawConnectUnary(
  baseUrl: string,
  path: string,
  body: Uint8Array | string,
  options: {
    token?: string;
    contentType?: string;
    timeoutMs?: number;
    headers?: Record<string, string>;
  } = {},
): Promise<RawConnectAnswer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: {
      "content-type": options.contentType ?? "application/json",
      "connect-protocol-version": "1",
      "connect-timeout-ms": String(options.timeoutMs ?? 2_000),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body,
    // A hang is a failure, not a stuck suite.
    signal: AbortSignal.timeout((options.timeoutMs ?? 2_000) + 3_000),
  });
  return {
    status: res.status,
    contentType: res.headers.get("content-type") ?? "",
    body: Buffer.from(await res.arrayBuffer()),
  };
}

/** Resident and peak resident memory of a process, in MiB, from /proc (Linux). */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}

/** Number of open file descriptors of a process (sockets included). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
