/**
 * Our grpc.health.v1 answers as the stock service does: a client built from the standard .proto
 * (grpc-health-check's, through proto-loader) gets Check, Watch and List on a real grpc-js server.
 */
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterEach, describe, expect, it } from "vitest";
import { GrpcHealth, HEALTH_PROTO_PATH } from "./grpc-health.js";

type HealthClient = grpc.Client & {
  check(
    req: { service: string },
    cb: (err: grpc.ServiceError | null, res?: { status: string }) => void,
  ): void;
  watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
  list(req: object, cb: (err: grpc.ServiceError | null, res?: { statuses: object }) => void): void;
};

let server: grpc.Server | undefined;
let client: HealthClient | undefined;
afterEach(() => {
  client?.close();
  server?.forceShutdown();
});

async function serve(health: GrpcHealth): Promise<HealthClient> {
  server = new grpc.Server();
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server!.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const pkg = grpc.loadPackageDefinition(
    loadSync(HEALTH_PROTO_PATH, { enums: String, defaults: true }),
  ) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  client = new pkg.grpc.health.v1.Health(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as HealthClient;
  return client;
}

describe("grpc.health.v1", () => {
  it("answers Check per service, NOT_FOUND for an unknown one, and List with every status", async () => {
    const health = new GrpcHealth({ "": "SERVING", "rolecall.v1.PolicyService": "NOT_SERVING" });
    const c = await serve(health);
    const check = (service: string) =>
      new Promise<string>((resolve, reject) =>
        c.check({ service }, (err, res) => (err ? reject(err) : resolve(res!.status))),
      );
    expect(await check("")).toBe("SERVING");
    expect(await check("rolecall.v1.PolicyService")).toBe("NOT_SERVING");
    await expect(check("nope")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    const listed = await new Promise<{ statuses: object }>((resolve, reject) =>
      c.list({}, (err, res) => (err ? reject(err) : resolve(res!))),
    );
    expect(listed.statuses).toEqual({
      "": { status: "SERVING" },
      "rolecall.v1.PolicyService": { status: "NOT_SERVING" },
    });
  });

  it("streams the current status on Watch, then each change; SERVICE_UNKNOWN until one is set", async () => {
    const health = new GrpcHealth({ "": "NOT_SERVING" });
    const c = await serve(health);
    const seen: string[] = [];
    const unknown: string[] = [];
    const watch = c.watch({ service: "" });
    watch.on("data", (m: { status: string }) => seen.push(m.status));
    watch.on("error", () => {});
    const other = c.watch({ service: "later" });
    other.on("data", (m: { status: string }) => unknown.push(m.status));
    other.on("error", () => {});
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => seen.length === 1 && unknown.length === 1);
    health.setStatus("", "SERVING");
    health.setStatus("later", "SERVING");
    await until(() => seen.length === 2 && unknown.length === 2);
    expect(seen).toEqual(["NOT_SERVING", "SERVING"]);
    expect(unknown).toEqual(["SERVICE_UNKNOWN", "SERVING"]);
    watch.cancel();
    other.cancel();
  });
});
