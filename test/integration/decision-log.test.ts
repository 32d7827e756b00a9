import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

describe("the decision log", () => {
  let sidecar: SidecarProcess;
  beforeAll(async () => {
    sidecar = await startSidecarProcess({ args: ["--decision-log-rate", "1", "--log-level", "info"] });
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  it("writes each sampled decision as a structured record after the answer", async () => {
    const clients = grpcClients(sidecar.grpcAddress);
    try {
      await unary(clients.policy, "CheckPermission", {
        tenant_id: "demo",
        user_id: "dave",
        permission: "cxengage/CONTACTS_UPDATE",
      });
    } finally {
      clients.close();
    }
    await new Promise((r) => setTimeout(r, 200));
    const records = sidecar
      .output()
      .split("\n")
      .filter((line) => line.includes('"component":"decision-log"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toContainEqual(
      expect.objectContaining({
        userId: "dave",
        permission: "cxengage/CONTACTS_UPDATE",
        allowed: false,
        reason: "NOT_GRANTED",
      }),
    );
  });

  it("logs each refusal with the caller's request id", async () => {
    const res = await fetch(`${sidecar.httpUrl}/rolecall.v1.PolicyService/CheckPermission`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "ticket-4711" },
      body: JSON.stringify({ tenantId: "demo", userId: "dave", permission: "cxengage/CONTACTS_READ" }),
    });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    const refusal = sidecar
      .output()
      .split("\n")
      .filter((line) => line.includes('"msg":"refused"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((record) => record.requestId === "ticket-4711");
    expect(refusal).toMatchObject({ method: "rolecall.v1.PolicyService/CheckPermission", listener: "http" });
  });
});
