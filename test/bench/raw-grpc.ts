/**
 * gRPC calls with raw bytes: the bench's load generator and its checks send pre-encoded requests
 * and keep answers encoded, so the client spends no time on (de)serialization and the servers,
 * not the client, dominate what is measured.
 */
import type * as grpc from "@grpc/grpc-js";

const HEALTH = "/grpc.health.v1.Health/Check";

export const identity = (b: Buffer): Buffer => b;

export function unaryCall(
  client: grpc.Client,
  path: string,
  request: Buffer,
  cb: grpc.requestCallback<Buffer>,
): void {
  client.makeUnaryRequest(path, identity, identity, request, cb);
}

export function unaryAsync(client: grpc.Client, path: string, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    unaryCall(client, path, request, (err, value) => (err ? reject(err) : resolve(value!))),
  );
}

/**
 * Polls grpc.health.v1 Check until the server answers SERVING; throws `describe()` after
 * `timeoutMs`. Works for any server with the standard health service (rolecall, Cerbos).
 */
export async function waitServing(
  client: grpc.Client,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    // HealthCheckRequest{service: ""} is the empty message; SERVING is `08 01` (field 1 = 1).
    const answer = await new Promise<Buffer | undefined>((resolve) =>
      unaryCall(client, HEALTH, Buffer.alloc(0), (err, value) => resolve(err ? undefined : value)),
    );
    if (answer?.length === 2 && answer[0] === 0x08 && answer[1] === 0x01) return;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`not SERVING after ${timeoutMs} ms:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
