/**
 * Service tokens (`rolecall token create --service`) over a real sidecar: decisions about any
 * user of their tenant over AuthZEN, Connect and gRPC, and nothing else. And AuthZEN action names
 * over a tenant whose systems share a bare key (a catalog with a second system).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/rolecall/v1/admin_pb.js";
import { PolicyService } from "../../gen/rolecall/v1/policy_pb.js";
import { action, authzenCaller, createToken, resource, subject, untilAccepted } from "../support/authzen.js";
import { ROOT, rolecall } from "../support/cli.js";
import { connectClient, grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

describe("service tokens", () => {
  let sidecar: SidecarProcess;
  let gateway: string; // decisions only
  let explainer: string; // with --explanations
  const post = authzenCaller(() => sidecar.httpUrl);
  const evaluation = (body: unknown, token = gateway) => post("/access/v1/evaluation", body, token);

  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    gateway = await createToken(sidecar.dbPath, "--tenant", "demo", "--service", "gateway");
    explainer = await createToken(
      sidecar.dbPath,
      "--tenant",
      "demo",
      "--service",
      "support-desk",
      "--explanations",
    );
    await untilAccepted(post, explainer);
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  it("ask decisions about any user of the tenant over Connect and gRPC too", async () => {
    const policy = connectClient(PolicyService, sidecar.httpUrl, { token: gateway });
    for (const userId of ["dave", "carol"]) {
      const res = await policy.checkPermission({
        tenantId: "demo",
        userId,
        permission: "cxengage/CONTACTS_UPDATE",
      });
      expect(res.allowed).toBe(userId === "carol");
    }
    const lookup = await policy.lookupUsers({ tenantId: "demo", permission: "cxengage/CONTACTS_UPDATE" });
    expect(lookup.userIds).toContain("alice");
    const clients = grpcClients(sidecar.grpcAddress);
    try {
      const res = await unary<{ allowed: boolean }>(
        clients.policy,
        "CheckPermission",
        { tenant_id: "demo", user_id: "dave", permission: "cxengage/CONTACTS_UPDATE" },
        { token: gateway },
      );
      expect(res.allowed).toBe(false);
      // No admin call at all, even a read, on either listener.
      const err = await unary(clients.admin, "ListUsers", { tenant_id: "demo" }, { token: gateway }).catch(
        (e: grpc.ServiceError) => e,
      );
      expect(err).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    } finally {
      clients.close();
    }
  });

  it("may not write, read admin data, read another tenant, nor explain without the right", async () => {
    const policy = connectClient(PolicyService, sidecar.httpUrl, { token: gateway });
    const admin = connectClient(AdminService, sidecar.httpUrl, { token: gateway });
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: unknown) => ConnectError.from(e).code,
      );
    expect(await code(admin.listUsers({ tenantId: "demo" }))).toBe(Code.PermissionDenied);
    expect(await code(admin.listTenants({}))).toBe(Code.PermissionDenied);
    expect(
      await code(
        admin.grantPermissions({
          tenantId: "demo",
          roleId: "custom-agent",
          permissions: ["cxengage/CONTACTS_UPDATE"],
        }),
      ),
    ).toBe(Code.PermissionDenied);
    expect(
      await code(
        policy.checkPermission({ tenantId: "other", userId: "dave", permission: "cxengage/CONTACTS_READ" }),
      ),
    ).toBe(Code.PermissionDenied);
    expect(
      await code(
        policy.explainPermission({
          tenantId: "demo",
          userId: "dave",
          permission: "cxengage/CONTACTS_UPDATE",
        }),
      ),
    ).toBe(Code.PermissionDenied);
    expect(await code(policy.simulateChanges({ tenantId: "demo", changes: [] }))).toBe(Code.PermissionDenied);
    // The grant was refused: dave still lacks CONTACTS_UPDATE.
    const still = await evaluation({
      subject: subject("dave"),
      action: action("CONTACTS_UPDATE"),
      resource,
    });
    expect(still.body).toEqual({ decision: false, context: { reason: "NOT_GRANTED" } });
    // With --explanations, the explanation is readable.
    const explained = await connectClient(PolicyService, sidecar.httpUrl, {
      token: explainer,
    }).explainPermission({
      tenantId: "demo",
      userId: "dave",
      permission: "cxengage/CONTACTS_UPDATE",
    });
    expect(explained.summary).toContain("Custom Agent");
  });

  it("are refused by the command line for an unknown tenant or a bad name", async () => {
    const unknown = await rolecall([
      "token",
      "create",
      "--db",
      sidecar.dbPath,
      "--tenant",
      "nowhere",
      "--service",
      "gw",
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown tenant 'nowhere'");
    const misuse = await rolecall([
      "token",
      "create",
      "--db",
      sidecar.dbPath,
      "--tenant",
      "demo",
      "--user",
      "dave",
      "--explanations",
    ]);
    expect(misuse.code).toBe(2);
  });
});

describe("AuthZEN action names over a tenant whose systems share a key", () => {
  let sidecar: SidecarProcess;
  let dir: string;

  beforeAll(async () => {
    // The bundled catalog plus a small system of the same schema that also has CONTACTS_READ.
    dir = mkdtempSync(join(tmpdir(), "rolecall-authzen-catalog-"));
    cpSync(join(ROOT, "catalog", "data"), dir, { recursive: true });
    const permission = (key: string) => ({
      key,
      name: key,
      category: "general",
      summary: `${key} in the desk app`,
      pages: [],
      licenses: [],
      requires: null,
      implies: [],
      status: "active",
      mutual: false,
      scope: null,
    });
    writeFileSync(
      join(dir, "deskapp.json"),
      JSON.stringify({
        id: "deskapp",
        name: "Desk App",
        adminRights: [],
        categories: [{ id: "general", name: "General" }],
        licenses: [],
        defaultRoles: [],
        permissions: [permission("CONTACTS_READ"), permission("TICKETS_CLOSE")],
        surfaces: [],
      }),
    );
    sidecar = await startSidecarProcess({ args: ["--catalog", dir] });
  });
  afterAll(async () => {
    await sidecar?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses an ambiguous bare key naming the candidates, and resolves the qualified ones and the unique", async () => {
    const ask = async (name: string) => {
      const res = await fetch(`${sidecar.httpUrl}/tenants/demo/access/v1/evaluation`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${sidecar.adminToken}` },
        body: JSON.stringify({ subject: subject("dave"), action: action(name), resource }),
      });
      return { status: res.status, text: await res.text() };
    };
    const ambiguous = await ask("CONTACTS_READ");
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.text).toContain(
      "action 'CONTACTS_READ' is ambiguous in tenant 'demo': cxengage/CONTACTS_READ, deskapp/CONTACTS_READ all have it",
    );
    expect(JSON.parse((await ask("cxengage/CONTACTS_READ")).text)).toEqual({ decision: true });
    // Nobody holds the desk app's permissions yet: a decision, not an error.
    expect(JSON.parse((await ask("TICKETS_CLOSE")).text)).toMatchObject({ decision: false });
  });
});
