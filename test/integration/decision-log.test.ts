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
});
