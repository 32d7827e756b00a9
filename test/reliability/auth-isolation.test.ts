/**
 * Auth and browser isolation (issue 8, item 7) against the real sidecar: wrong, missing,
 * malformed and revoked tokens; principals reading other users, other tenants, or writing
 * without the right; foreign Origins and DNS-rebinding Hosts on the HTTP listener. Every
 * refusal must be refused with the right code AND leave exactly one structured "refused"
 * record in the sidecar's log (the audit trail), without the presented secret; accepted
 * calls leave none. A page script reaching the extension is covered by test/browser.
 *
 * One variant (about 5 s); it runs inside `npm test`:
 * `npx vitest run test/reliability/auth-isolation.test.ts`.
 */
import { execFileSync } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";
import { rawConnectUnary } from "./helpers.js";
import { waitFor } from "./support.js";

const ROOT = join(import.meta.dirname, "..", "..");
const PINNED_ORIGIN = "chrome-extension://ddkjhkkhfknmdkdcgfacbpfaehejddpa";
const CHECK = "/rolecall.v1.PolicyService/CheckPermission";

/** A "refused" audit record from the sidecar's JSON log. */
interface Refusal {
  msg: string;
  listener: string;
  method?: string;
  path?: string;
  code?: number;
  status?: number;
  origin?: string;
  host?: string;
  message: string;
}

describe("auth and browser isolation, audited", () => {
  let sidecar: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;
  let port: string;
  let daveToken: string;
  let carolToken: string;
  /** Refused calls made so far; the log must hold exactly this many refusal records. */
  let refusedCalls = 0;
  /** Secrets presented in refused calls; none may appear in the log. */
  const presentedSecrets: string[] = [];

  const refusals = (): Refusal[] =>
    sidecar
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Refusal)
      .filter((r) => r.msg === "refused");

  const cli = (...args: string[]) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [join(ROOT, "bin/rolecall.js"), ...args, "--db", sidecar.dbPath, "--json"],
        {
          encoding: "utf8",
        },
      ),
    ) as { token: string; id?: string };

  /** Runs a call that must be refused, and checks it left exactly one matching audit record. */
  async function expectAuditedRefusal(call: () => Promise<unknown>, record: Partial<Refusal>) {
    const before = refusals().length;
    await call();
    refusedCalls++;
    expect(
      await waitFor(() => refusals().length >= before + 1, 2_000),
      "no audit record for a refused call",
    ).toBe(true);
    // A moment more: a duplicate record would show up now.
    await new Promise((r) => setTimeout(r, 30));
    const added = refusals().slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject(record);
    expect(added[0]!.message.length).toBeGreaterThan(0);
  }

  const grpcRefused =
    (client: grpc.Client, method: string, req: object, code: grpc.status, token?: string) => async () => {
      const err = await unary(client, method, req, token === undefined ? {} : { token }).catch(
        (e: grpc.ServiceError) => e,
      );
      expect(err).toMatchObject({ code });
    };

  const connectRefused = (path: string, body: object, code: string, token?: string) => async () => {
    const res = await rawConnectUnary(sidecar.httpUrl, path, JSON.stringify(body), token ? { token } : {});
    expect(JSON.parse(res.body.toString())).toMatchObject({ code });
  };

  beforeAll(async () => {
    sidecar = await startSidecarProcess({ args: ["--log-level", "info"] });
    clients = grpcClients(sidecar.grpcAddress);
    port = new URL(sidecar.httpUrl).port;
    daveToken = cli("token", "create", "--tenant", "demo", "--user", "dave").token;
    carolToken = cli("token", "create", "--tenant", "demo", "--user", "carol").token;
    // A second tenant, to probe cross-tenant reads by demo's administrator.
    await unary(
      clients.admin,
      "CreateTenant",
      { tenant_id: "acme", name: "Acme", systems: ["cxengage"] },
      {
        token: sidecar.adminToken,
      },
    );
    await unary(
      clients.admin,
      "CreateUser",
      { tenant_id: "acme", user_id: "ann", display_name: "Ann" },
      {
        token: sidecar.adminToken,
      },
    );
    // Let the sync watcher read the new tokens.
    await waitFor(() => false, 200);
  });
  afterAll(async () => {
    clients?.close();
    await sidecar?.stop();
  });

  it("refuses missing, wrong and malformed tokens on both listeners", async () => {
    const wrong = "rc_not_a_real_token_4f1c2e";
    presentedSecrets.push(wrong);
    await expectAuditedRefusal(grpcRefused(clients.admin, "ListTenants", {}, grpc.status.UNAUTHENTICATED), {
      listener: "grpc",
      method: "rolecall.v1.AdminService/ListTenants",
      code: grpc.status.UNAUTHENTICATED,
    });
    await expectAuditedRefusal(
      grpcRefused(clients.admin, "ListTenants", {}, grpc.status.UNAUTHENTICATED, wrong),
      {
        listener: "grpc",
        code: grpc.status.UNAUTHENTICATED,
      },
    );
    // A prefix of the real admin token is not the admin token.
    await expectAuditedRefusal(
      grpcRefused(
        clients.admin,
        "ListTenants",
        {},
        grpc.status.UNAUTHENTICATED,
        sidecar.adminToken.slice(0, -1),
      ),
      { listener: "grpc", code: grpc.status.UNAUTHENTICATED },
    );
    // Anonymous PolicyService calls are trusted on gRPC, but a presented bad token is still refused.
    await expectAuditedRefusal(
      grpcRefused(
        clients.policy,
        "CheckPermission",
        { tenant_id: "demo", user_id: "carol", permission: "cxengage/CONTACTS_READ" },
        grpc.status.UNAUTHENTICATED,
        wrong,
      ),
      {
        listener: "grpc",
        method: "rolecall.v1.PolicyService/CheckPermission",
        code: grpc.status.UNAUTHENTICATED,
      },
    );
    const body = { tenantId: "demo", userId: "carol", permission: "cxengage/CONTACTS_READ" };
    await expectAuditedRefusal(connectRefused(CHECK, body, "unauthenticated"), {
      listener: "http",
      method: "rolecall.v1.PolicyService/CheckPermission",
      code: grpc.status.UNAUTHENTICATED,
    });
    await expectAuditedRefusal(connectRefused(CHECK, body, "unauthenticated", wrong), {
      listener: "http",
      code: grpc.status.UNAUTHENTICATED,
    });
    await expectAuditedRefusal(
      async () => {
        const res = await rawConnectUnary(sidecar.httpUrl, CHECK, JSON.stringify(body), {
          headers: {
            authorization: `Basic ${Buffer.from(`admin:${sidecar.adminToken}`).toString("base64")}`,
          },
        });
        expect(JSON.parse(res.body.toString())).toMatchObject({ code: "unauthenticated" });
      },
      { listener: "http", code: grpc.status.UNAUTHENTICATED },
    );
  });

  it("refuses a revoked token at once on both listeners", async () => {
    const created = cli("token", "create", "--tenant", "demo", "--user", "dave", "--label", "to revoke");
    presentedSecrets.push(created.token);
    const body = JSON.stringify({ tenantId: "demo", userId: "dave", permission: "cxengage/CONTACTS_READ" });
    const ask = () => rawConnectUnary(sidecar.httpUrl, CHECK, body, { token: created.token });
    // Accepted once the watcher has read it; polls that raced the watcher were refused (and audited).
    const before = refusals().length;
    let early = 0;
    let accepted = false;
    for (let i = 0; i < 50 && !accepted; i++) {
      accepted = (await ask()).status === 200;
      if (!accepted) {
        early++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(accepted).toBe(true);
    cli("token", "revoke", created.token);
    // The watcher applies the revocation within a poll or two; from then on, refused everywhere.
    let refused = false;
    for (let i = 0; i < 50 && !refused; i++) {
      const res = await ask();
      if (res.status === 200) await new Promise((r) => setTimeout(r, 20));
      else {
        refused = true;
        expect(JSON.parse(res.body.toString())).toMatchObject({ code: "unauthenticated" });
      }
    }
    expect(refused, "a revoked token was still accepted after 1 s").toBe(true);
    refusedCalls += early + 1;
    expect(await waitFor(() => refusals().length === before + early + 1, 2_000)).toBe(true);
    await expectAuditedRefusal(
      connectRefused(CHECK, JSON.parse(body) as object, "unauthenticated", created.token),
      {
        listener: "http",
        code: grpc.status.UNAUTHENTICATED,
      },
    );
    await expectAuditedRefusal(
      grpcRefused(
        clients.policy,
        "CheckPermission",
        { tenant_id: "demo", user_id: "dave", permission: "cxengage/CONTACTS_READ" },
        grpc.status.UNAUTHENTICATED,
        created.token,
      ),
      { listener: "grpc", code: grpc.status.UNAUTHENTICATED },
    );
  });

  it("lets a principal read itself, refuses other users, other tenants and writes without the right", async () => {
    const before = refusals().length;
    const own = await rawConnectUnary(
      sidecar.httpUrl,
      CHECK,
      JSON.stringify({ tenantId: "demo", userId: "dave", permission: "cxengage/CONTACTS_READ" }),
      { token: daveToken },
    );
    expect(own.status).toBe(200);
    expect(refusals().length, "an accepted call was recorded as refused").toBe(before);

    const carol = { tenantId: "demo", userId: "carol", permission: "cxengage/CONTACTS_READ" };
    for (const [method, body] of [
      ["CheckPermission", carol],
      ["ExplainPermission", carol],
      [
        "CheckPermissions",
        { tenantId: "demo", userId: "carol", items: [{ permission: "cxengage/CONTACTS_READ" }] },
      ],
      ["ListEffectivePermissions", { tenantId: "demo", userId: "carol" }],
      ["ResolveSurfaces", { tenantId: "demo", userId: "carol", url: `${sidecar.httpUrl}/demo/` }],
      ["LookupUsers", { tenantId: "demo", permission: "cxengage/CONTACTS_READ" }],
    ] as const) {
      await expectAuditedRefusal(
        connectRefused(`/rolecall.v1.PolicyService/${method}`, body, "permission_denied", daveToken),
        {
          listener: "http",
          method: `rolecall.v1.PolicyService/${method}`,
          code: grpc.status.PERMISSION_DENIED,
        },
      );
    }
    // The same on gRPC: a presented principal is held to its rights there too.
    await expectAuditedRefusal(
      grpcRefused(
        clients.policy,
        "CheckPermission",
        { tenant_id: "demo", user_id: "carol", permission: "cxengage/CONTACTS_READ" },
        grpc.status.PERMISSION_DENIED,
        daveToken,
      ),
      { listener: "grpc", code: grpc.status.PERMISSION_DENIED },
    );
    // Carol administers roles in demo, not in acme.
    const ok = await rawConnectUnary(sidecar.httpUrl, CHECK, JSON.stringify(carol), { token: carolToken });
    expect(ok.status).toBe(200);
    await expectAuditedRefusal(
      connectRefused(
        CHECK,
        { tenantId: "acme", userId: "ann", permission: "cxengage/CONTACTS_READ" },
        "permission_denied",
        carolToken,
      ),
      { listener: "http", code: grpc.status.PERMISSION_DENIED },
    );
    // Writes: dave holds no role-administration permission.
    await expectAuditedRefusal(
      grpcRefused(
        clients.admin,
        "AssignRoles",
        { tenant_id: "demo", user_id: "dave", role_ids: ["cxengage.administrator"] },
        grpc.status.PERMISSION_DENIED,
        daveToken,
      ),
      {
        listener: "grpc",
        method: "rolecall.v1.AdminService/AssignRoles",
        code: grpc.status.PERMISSION_DENIED,
      },
    );
    await expectAuditedRefusal(
      connectRefused(
        "/rolecall.v1.AdminService/GrantPermissions",
        { tenantId: "acme", roleId: "cxengage.agent", permissions: ["cxengage/CONTACTS_UPDATE"] },
        "permission_denied",
        carolToken,
      ),
      {
        listener: "http",
        method: "rolecall.v1.AdminService/GrantPermissions",
        code: grpc.status.PERMISSION_DENIED,
      },
    );
    // And the refused write changed nothing.
    const dave = await unary<{ allowed: boolean }>(clients.policy, "CheckPermission", {
      tenant_id: "demo",
      user_id: "dave",
      permission: "cxengage/CONTACTS_UPDATE",
    });
    expect(dave.allowed).toBe(false);
  });

  it("refuses foreign Origins, with no CORS grant, and answers the extension's", async () => {
    const foreign = [
      "https://evil.example",
      "null",
      "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      `http://127.0.0.1:${port}.evil.example`,
      `https://127.0.0.1:${port}`,
      `http://127.0.0.1:${Number(port) + 1}`,
      `${PINNED_ORIGIN}.evil.example`,
    ];
    for (const origin of foreign) {
      for (const [method, path] of [
        ["POST", "/rolecall.v1.CatalogService/ListSystems"],
        ["OPTIONS", CHECK],
        ["GET", "/metrics"],
      ] as const) {
        await expectAuditedRefusal(
          async () => {
            const res = await fetch(`${sidecar.httpUrl}${path}`, {
              method,
              headers: {
                origin,
                "content-type": "application/json",
                "access-control-request-method": "POST",
                authorization: `Bearer ${sidecar.adminToken}`,
              },
              ...(method === "POST" ? { body: "{}" } : {}),
            });
            expect(res.status).toBe(403);
            expect(res.headers.get("access-control-allow-origin")).toBeNull();
            await res.arrayBuffer();
          },
          { listener: "http", status: 403, origin, path },
        );
      }
    }
    // Positive control: the pinned extension origin gets its CORS grant and no refusal.
    const before = refusals().length;
    const res = await fetch(`${sidecar.httpUrl}/rolecall.v1.CatalogService/ListSystems`, {
      method: "POST",
      headers: { origin: PINNED_ORIGIN, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(PINNED_ORIGIN);
    expect(refusals().length).toBe(before);
  });

  it("refuses DNS-rebinding and missing Host headers on every route", async () => {
    const hosts = [
      `evil.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      "localhost",
      `127.0.0.1:${Number(port) + 1}`,
      undefined,
    ];
    for (const host of hosts) {
      for (const path of ["/rolecall.v1.CatalogService/ListSystems", "/metrics", "/healthz", "/demo/"]) {
        await expectAuditedRefusal(async () => expect(await rawStatus(Number(port), path, host)).toBe(421), {
          listener: "http",
          status: 421,
          path,
        });
      }
    }
  });

  it("keeps an ordinary supervisor from promoting himself over Connect; the tenant's owner may (issue 13)", async () => {
    const bobToken = cli("token", "create", "--tenant", "demo", "--user", "bob").token;
    presentedSecrets.push(bobToken);
    await waitFor(() => false, 200); // let the sync watcher read the new token
    const admin = "/rolecall.v1.AdminService";
    await expectAuditedRefusal(
      connectRefused(
        `${admin}/CreateRole`,
        { tenantId: "demo", name: "Bob's own" },
        "permission_denied",
        bobToken,
      ),
      {
        listener: "http",
        method: "rolecall.v1.AdminService/CreateRole",
        code: grpc.status.PERMISSION_DENIED,
      },
    );
    await expectAuditedRefusal(
      connectRefused(
        `${admin}/AssignRoles`,
        { tenantId: "demo", userId: "bob", roleIds: ["cxengage.administrator"] },
        "permission_denied",
        bobToken,
      ),
      {
        listener: "http",
        method: "rolecall.v1.AdminService/AssignRoles",
        code: grpc.status.PERMISSION_DENIED,
      },
    );
    await expectAuditedRefusal(
      connectRefused(
        `${admin}/GrantPermissions`,
        { tenantId: "demo", roleId: "cxengage.supervisor", permissions: ["cxengage/CONTACTS_DELETE"] },
        "permission_denied",
        bobToken,
      ),
      {
        listener: "http",
        method: "rolecall.v1.AdminService/GrantPermissions",
        code: grpc.status.PERMISSION_DENIED,
      },
    );
    // carol owns the demo tenant: she administers CxEngage, which no permission administers.
    const created = await rawConnectUnary(
      sidecar.httpUrl,
      `${admin}/CreateRole`,
      JSON.stringify({ tenantId: "demo", name: "Escalations" }),
      { token: carolToken },
    );
    expect(created.status).toBe(200);
    const assigned = await rawConnectUnary(
      sidecar.httpUrl,
      `${admin}/AssignRoles`,
      JSON.stringify({ tenantId: "demo", userId: "bob", roleIds: ["cxengage.administrator"] }),
      { token: carolToken },
    );
    expect(assigned.status).toBe(200);
  });

  it("recorded exactly one refusal per refused call, and no presented secret", () => {
    expect(refusals().length).toBe(refusedCalls);
    const log = sidecar.output();
    for (const secret of [...presentedSecrets, daveToken, carolToken, sidecar.adminToken]) {
      expect(log).not.toContain(secret);
    }
  });
});

/** Status of a request with a given Host header (`undefined`: none at all, as HTTP/1.0 allows). */
function rawStatus(port: number, path: string, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: path.startsWith("/rolecall") ? "POST" : "GET",
        headers: { "content-type": "application/json", ...(host === undefined ? {} : { host }) },
        setHost: host !== undefined,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end(path.startsWith("/rolecall") ? "{}" : undefined);
  });
}
