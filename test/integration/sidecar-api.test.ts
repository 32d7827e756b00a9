/**
 * The sidecar as services and browsers meet it: a real process on loopback, the demo database,
 * a stock grpc-js client and a Connect client. Every RPC, every error code, auth both ways.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/rolecall/v1/admin_pb.js";
import { CatalogService } from "../../gen/rolecall/v1/catalog_pb.js";
import { PolicyService } from "../../gen/rolecall/v1/policy_pb.js";
import { connectClient, grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const PANEL = "cxengage/contact-management-panel";

describe("sidecar API over gRPC and Connect", () => {
  let sidecar: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;
  let token: string;

  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    clients = grpcClients(sidecar.grpcAddress);
    token = sidecar.adminToken;
  });
  afterAll(async () => {
    clients?.close();
    await sidecar?.stop();
  });

  const check = (req: object, options = {}) => unary(clients.policy, "CheckPermission", req, options);
  const admin = (method: string, req: object, options: { token?: string } = { token }) =>
    unary(clients.admin, method, req, options);

  describe("PolicyService", () => {
    it("tells dave he lacks CONTACTS_UPDATE and carol that she has it", async () => {
      const dave = await check({
        tenant_id: "demo",
        user_id: "dave",
        permission: "cxengage/CONTACTS_UPDATE",
      });
      expect(dave).toMatchObject({ allowed: false, reason: "REASON_NOT_GRANTED" });
      expect(Number(dave.revision)).toBeGreaterThan(0);
      const carol = await check({
        tenant_id: "demo",
        user_id: "carol",
        permission: "cxengage/CONTACTS_UPDATE",
      });
      expect(carol).toMatchObject({ allowed: true, reason: "REASON_GRANTED" });
    });

    it("answers an unknown user with a decision, not an error", async () => {
      const res = await check({ tenant_id: "demo", user_id: "nobody", permission: "cxengage/CONTACTS_READ" });
      expect(res).toMatchObject({ allowed: false, reason: "REASON_USER_UNKNOWN" });
    });

    it("names the license that would do when a role lacks it", async () => {
      const res = await check({
        tenant_id: "demo",
        user_id: "lena",
        permission: "calabrio-one/view-analytics",
      });
      expect(res.reason).toBe("REASON_LICENSE_MISSING");
      expect(res.missing).toEqual(expect.arrayContaining(["calabrio-one/analytics"]));
    });

    it("refuses an unknown permission with NOT_FOUND naming the closest key", async () => {
      const err = await check({
        tenant_id: "demo",
        user_id: "dave",
        permission: "cxengage/CONTACT_UPDATE",
      }).catch((e: grpc.ServiceError) => e);
      expect(err).toMatchObject({ code: grpc.status.NOT_FOUND });
      expect((err as grpc.ServiceError).details).toContain("did you mean 'cxengage/CONTACTS_UPDATE'");
    });

    it("refuses an empty tenant id with INVALID_ARGUMENT naming the field, and an unknown tenant with NOT_FOUND", async () => {
      await expect(
        check({ tenant_id: "", user_id: "dave", permission: "cxengage/CONTACTS_READ" }),
      ).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining("tenant_id"),
      });
      await expect(
        check({ tenant_id: "nope", user_id: "dave", permission: "cxengage/CONTACTS_READ" }),
      ).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
      });
    });

    it("checks a batch in order and refuses one over the documented limit", async () => {
      const res = await unary<{ results: { allowed: boolean }[] }>(clients.policy, "CheckPermissions", {
        tenant_id: "demo",
        user_id: "dave",
        items: [{ permission: "cxengage/CONTACTS_READ" }, { permission: "cxengage/CONTACTS_UPDATE" }],
      });
      expect(res.results.map((r) => r.allowed)).toEqual([true, false]);
      const items = Array.from({ length: 1001 }, () => ({ permission: "cxengage/CONTACTS_READ" }));
      await expect(
        unary(clients.policy, "CheckPermissions", { tenant_id: "demo", user_id: "dave", items }),
      ).rejects.toMatchObject({
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: expect.stringContaining("1000"),
      });
    });

    it("explains a denial in one line with what would fix it", async () => {
      const res = await unary<{ summary: string; trace: { kind: string }[] }>(
        clients.policy,
        "ExplainPermission",
        {
          tenant_id: "demo",
          user_id: "dave",
          permission: "cxengage/CONTACTS_UPDATE",
        },
      );
      expect(res.summary).toMatch(/dave/i);
      expect(res.summary).toContain("CONTACTS_UPDATE");
      expect(res.trace.map((s) => s.kind)).toEqual(expect.arrayContaining(["user", "role"]));
    });

    it("lists effective permissions with roles and licenses", async () => {
      const res = await unary<{
        permissions: { permission: string; allowed: boolean }[];
        role_ids: string[];
      }>(clients.policy, "ListEffectivePermissions", {
        tenant_id: "demo",
        user_id: "dave",
        system: "cxengage",
      });
      const byKey = new Map(res.permissions.map((p) => [p.permission, p.allowed]));
      expect(byKey.get("cxengage/CONTACTS_UPDATE")).toBe(false);
      expect(byKey.get("cxengage/CONTACTS_READ")).toBe(true);
      expect(res.permissions.every((p) => p.permission.startsWith("cxengage/"))).toBe(true);
      expect(res.role_ids).toEqual(["custom-agent"]);
    });

    it("looks up users page by page", async () => {
      const all = await unary<{ user_ids: string[] }>(clients.policy, "LookupUsers", {
        tenant_id: "demo",
        permission: "cxengage/CONTACTS_UPDATE",
      });
      expect(all.user_ids).toEqual(expect.arrayContaining(["alice", "bob", "carol"]));
      expect(all.user_ids).not.toContain("dave");
      const first = await unary<{ user_ids: string[]; next_page_token: string }>(
        clients.policy,
        "LookupUsers",
        {
          tenant_id: "demo",
          permission: "cxengage/CONTACTS_UPDATE",
          page_size: 2,
        },
      );
      expect(first.user_ids).toEqual(all.user_ids.slice(0, 2));
      const second = await unary<{ user_ids: string[] }>(clients.policy, "LookupUsers", {
        tenant_id: "demo",
        permission: "cxengage/CONTACTS_UPDATE",
        page_size: 2,
        page_token: first.next_page_token,
      });
      expect(second.user_ids).toEqual(all.user_ids.slice(2, 4));
    });

    it("resolves the demo page's surfaces, the contact management panel denied for dave", async () => {
      const res = await unary<{
        surfaces: { surface_id: string; allowed: boolean; missing: string[] }[];
        app_id: string;
      }>(clients.policy, "ResolveSurfaces", {
        tenant_id: "demo",
        user_id: "dave",
        url: `${sidecar.httpUrl}/demo/?as=demo/dave`,
      });
      expect(res.app_id).toBe("demo");
      const panel = res.surfaces.find((s) => s.surface_id === PANEL);
      expect(panel).toMatchObject({ allowed: false, missing: ["cxengage/CONTACTS_UPDATE"] });
    });
  });

  describe("AdminService and freshness", () => {
    it("needs a token", async () => {
      await expect(admin("ListTenants", {}, {})).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      await expect(admin("ListTenants", {}, { token: "rc_wrong" })).rejects.toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
      });
    });

    it("a grant is visible to the next check that asks for its revision, and WatchPolicy streams it", async () => {
      const watch = clients.policy.makeServerStreamRequest(
        "/rolecall.v1.PolicyService/WatchPolicy",
        (x: Buffer) => x,
        (x: Buffer) => x,
        Buffer.alloc(0),
      );
      const seen: Buffer[] = [];
      watch.on("data", (d: Buffer) => seen.push(d));
      watch.on("error", () => {});
      const user = `u${Date.now()}`;
      const created = await admin("CreateUser", { tenant_id: "demo", user_id: user, display_name: "Temp" });
      // min_revision: without it the check races the sidecar's next poll and may not know the user yet.
      const before = await check({
        tenant_id: "demo",
        user_id: user,
        permission: "cxengage/CONTACTS_READ",
        min_revision: created.revision,
      });
      expect(before.reason).toBe("REASON_NOT_GRANTED");
      const assigned = await admin("AssignRoles", {
        tenant_id: "demo",
        user_id: user,
        role_ids: ["cxengage.agent"],
      });
      const after = await check({
        tenant_id: "demo",
        user_id: user,
        permission: "cxengage/CONTACTS_READ",
        min_revision: assigned.revision,
      });
      expect(after).toMatchObject({ allowed: true });
      expect(BigInt(after.revision as string)).toBeGreaterThanOrEqual(BigInt(assigned.revision as string));
      await new Promise((r) => setTimeout(r, 100));
      watch.cancel();
      expect(seen.length).toBeGreaterThanOrEqual(2);
    });

    it("a revision the store never reaches fails UNAVAILABLE before the deadline", async () => {
      const started = Date.now();
      await expect(
        check(
          {
            tenant_id: "demo",
            user_id: "dave",
            permission: "cxengage/CONTACTS_READ",
            min_revision: "999999999",
          },
          { deadlineMs: 400 },
        ),
      ).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      expect(Date.now() - started).toBeLessThan(1_000);
    });

    it("refuses broken admin rules with FAILED_PRECONDITION and unknown ids with NOT_FOUND", async () => {
      await expect(
        admin("DeleteRole", { tenant_id: "demo", role_id: "calabrio-one.administrator" }),
      ).rejects.toMatchObject({
        code: grpc.status.FAILED_PRECONDITION,
      });
      await expect(admin("DeleteRole", { tenant_id: "demo", role_id: "custom-agent" })).rejects.toMatchObject(
        {
          code: grpc.status.FAILED_PRECONDITION,
          details: expect.stringMatching(/1 user/),
        },
      );
      await expect(
        admin("RevokePermissions", {
          tenant_id: "demo",
          role_id: "cxengage.agent",
          permissions: ["cxengage/NOTES_READ_SELF"],
        }),
      ).resolves.toBeDefined();
      await expect(
        admin("GrantPermissions", {
          tenant_id: "demo",
          role_id: "no-such-role",
          permissions: ["cxengage/CONTACTS_READ"],
        }),
      ).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    });

    it("a user token may read its own decisions but not another's", async () => {
      const { execFileSync } = await import("node:child_process");
      const out = execFileSync(
        process.execPath,
        [
          "bin/rolecall.js",
          "token",
          "create",
          "--tenant",
          "demo",
          "--user",
          "dave",
          "--db",
          sidecar.dbPath,
          "--json",
        ],
        { encoding: "utf8" },
      );
      const daveToken = (JSON.parse(out) as { token: string }).token;
      // Give the sync watcher a poll to read the new token.
      await new Promise((r) => setTimeout(r, 200));
      const policy = connectClient(PolicyService, sidecar.httpUrl, { token: daveToken });
      const own = await policy.checkPermission({
        tenantId: "demo",
        userId: "dave",
        permission: "cxengage/CONTACTS_READ",
      });
      expect(own.allowed).toBe(true);
      await expect(
        policy.checkPermission({ tenantId: "demo", userId: "carol", permission: "cxengage/CONTACTS_READ" }),
      ).rejects.toMatchObject({ code: Code.PermissionDenied });
      // A mutual check against a target reveals whether the target holds it: that is reading them.
      await expect(
        policy.checkPermission({
          tenantId: "demo",
          userId: "dave",
          permission: "calabrio-one/live-audio-monitoring",
          targetUserId: "carol",
        }),
      ).rejects.toMatchObject({ code: Code.PermissionDenied });
      // Which tenants change when is tenant data: another tenant's, or all, are refused.
      const watchOther = async () => {
        for await (const _ of policy.watchPolicy({ tenantId: "other" })) break;
      };
      await expect(watchOther()).rejects.toMatchObject({ code: Code.PermissionDenied });
      const watchAll = async () => {
        for await (const _ of policy.watchPolicy({ tenantId: "" })) break;
      };
      await expect(watchAll()).rejects.toMatchObject({ code: Code.InvalidArgument });
      // Dave administers nothing: listing tenants is refused, not answered with an empty list.
      const admin = connectClient(AdminService, sidecar.httpUrl, { token: daveToken });
      await expect(admin.listTenants({})).rejects.toMatchObject({ code: Code.PermissionDenied });
    });
  });

  describe("Connect endpoint", () => {
    it("serves CatalogService to anyone and PolicyService only with a token", async () => {
      const catalog = connectClient(CatalogService, sidecar.httpUrl);
      const systems = await catalog.listSystems({});
      expect(systems.systems.map((s) => s.id)).toEqual([
        "calabrio-one",
        "zoom-contact-center",
        "cxengage",
        "maxcontact",
        "iadvize",
      ]);
      const anonymous = connectClient(PolicyService, sidecar.httpUrl);
      const err = await anonymous
        .checkPermission({ tenantId: "demo", userId: "dave", permission: "cxengage/CONTACTS_READ" })
        .catch((e: unknown) => e);
      expect(ConnectError.from(err).code).toBe(Code.Unauthenticated);
      const withToken = connectClient(PolicyService, sidecar.httpUrl, { token });
      const res = await withToken.checkPermission({
        tenantId: "demo",
        userId: "dave",
        permission: "cxengage/CONTACTS_UPDATE",
      });
      expect(res.allowed).toBe(false);
    });

    it("refuses a foreign Origin and a rebinding Host", async () => {
      const body = JSON.stringify({});
      const url = `${sidecar.httpUrl}/rolecall.v1.CatalogService/ListSystems`;
      const foreign = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://evil.example" },
        body,
      });
      expect(foreign.status).toBe(403);
      const { request } = await import("node:http");
      const port = new URL(sidecar.httpUrl).port;
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            path: "/rolecall.v1.CatalogService/ListSystems",
            method: "POST",
            headers: { host: `evil.example:${port}`, "content-type": "application/json" },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end(body);
      });
      expect(status).toBe(421);
    });

    it("answers garbage with an error, not a crash", async () => {
      const res = await fetch(`${sidecar.httpUrl}/rolecall.v1.PolicyService/CheckPermission`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: "{not json",
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      const grpcGarbage = await new Promise<grpc.ServiceError | null>((resolve) => {
        clients.policy.makeUnaryRequest(
          "/rolecall.v1.PolicyService/CheckPermission",
          (x: Buffer) => x,
          (x: Buffer) => x,
          Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]),
          (err) => resolve(err),
        );
      });
      expect(grpcGarbage?.code).toBe(grpc.status.INVALID_ARGUMENT);
      // Still serving.
      expect(
        (await check({ tenant_id: "demo", user_id: "carol", permission: "cxengage/CONTACTS_READ" })).allowed,
      ).toBe(true);
    });
  });
});
