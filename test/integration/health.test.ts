import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

// A stock grpc-js client built from the standard health proto, as any service would build it.
const healthPackage = grpc.loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};

function healthCheck(address: string, service: string): Promise<string> {
  const client = new healthPackage.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const check = client.check as (
      req: object,
      cb: (err: grpc.ServiceError | null, res: { status: string }) => void,
    ) => void;
    check.call(client, { service }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res.status);
    });
  });
}

describe("sidecar process", () => {
  let sidecar: SidecarProcess;
  beforeAll(async () => {
    sidecar = await startSidecarProcess();
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  it("answers grpc.health.v1 Check over loopback with a stock grpc-js client", async () => {
    expect(await healthCheck(sidecar.grpcAddress, "")).toBe("SERVING");
    expect(await healthCheck(sidecar.grpcAddress, "rolecall.v1.PolicyService")).toBe("SERVING");
  });

  it("reports an unknown service as NOT_FOUND", async () => {
    await expect(healthCheck(sidecar.grpcAddress, "no.such.Service")).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });

  it("serves /healthz and /metrics on the HTTP listener", async () => {
    const health = await fetch(`${sidecar.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${sidecar.httpUrl}/metrics`)).text();
    expect(metrics).toContain("rolecall_rpc_duration_seconds");
    // Health is answered by grpc-health-check, not our adapters; a Connect call of ours is recorded.
    await fetch(`${sidecar.httpUrl}/rolecall.v1.CatalogService/ListSystems`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const after = await (await fetch(`${sidecar.httpUrl}/metrics`)).text();
    expect(after).toMatch(
      /rolecall_rpc_duration_seconds_count\{method="rolecall\.v1\.CatalogService\/ListSystems",listener="http"\} 1/,
    );
  });

  it("stops cleanly on SIGTERM", async () => {
    const other = await startSidecarProcess();
    expect(await other.stop("SIGTERM")).toBe(0);
  });
});
