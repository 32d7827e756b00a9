/**
 * A tenant's own system through a real sidecar (issue 16): put over Connect JSON on the HTTP
 * listener (as the README's curl does) and with the CLI on the store file, then decided by
 * CheckPermission at the revision the write returned, with the self/all scope rule.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, ROOT, rolecall } from "../support/cli.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const example = readFileSync(join(ROOT, "examples/systems/agent-desktop.json"), "utf8");

describe("custom systems through a running sidecar", () => {
  let sidecar: SidecarProcess;
  let bobToken: string;

  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    const made = await rolecall([
      "token",
      "create",
      "--db",
      sidecar.dbPath,
      "--tenant",
      "demo",
      "--user",
      "bob",
      "--json",
    ]);
    bobToken = json<{ token: string }>(made).token;
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  /** A Connect JSON call on the HTTP listener, as curl makes it. */
  async function call(
    method: string,
    body: unknown,
    /** `null`: no authorization header. */
    token: string | null = sidecar.adminToken,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${sidecar.httpUrl}/rolecall.v1.${method}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it("puts the example app, then decides its owner-scoped actions at the revision the write returned", async () => {
    const put = await call("AdminService/PutSystem", `{"tenantId": "demo", "system": ${example}}`);
    expect(put.status).toBe(200);
    expect(put.body.createdRoleIds).toEqual(["agent-desktop.agent", "agent-desktop.team-lead"]);
    const assigned = await call("AdminService/AssignRoles", {
      tenantId: "demo",
      userId: "dave",
      roleIds: ["agent-desktop.agent"],
    });
    expect(assigned.status).toBe(200);
    const minRevision = assigned.body.revision as string;
    const check = (owner: string) =>
      call("PolicyService/CheckPermission", {
        tenantId: "demo",
        userId: "dave",
        permission: "agent-desktop/recordings.play",
        resource: { ownerUserId: owner },
        minRevision,
      });
    const own = await check("dave");
    expect(own.body).toMatchObject({ allowed: true, reason: "REASON_GRANTED", revision: minRevision });
    const other = await check("alice");
    expect(other.body).toMatchObject({
      reason: "REASON_OUT_OF_SCOPE",
      missing: ["agent-desktop/recordings.play-any"],
    });
    const listed = await call("AdminService/ListSystems", { tenantId: "demo" });
    expect(
      (listed.body.systems as { id: string; custom?: boolean }[]).filter((s) => s.custom).map((s) => s.id),
    ).toEqual(["agent-desktop"]);
    const effective = await call("PolicyService/ListEffectivePermissions", {
      tenantId: "demo",
      userId: "dave",
      system: "agent-desktop",
      minRevision,
    });
    expect(
      (effective.body.permissions as { permission: string; allowed?: boolean; name: string }[])
        .filter((p) => p.allowed)
        .map((p) => [p.permission, p.name]),
    ).toEqual([
      ["agent-desktop/desktop.use", "Use the agent desktop"],
      ["agent-desktop/recordings.play", "Play recordings of one's own calls"],
      ["agent-desktop/notes.edit", "Edit notes on one's own calls"],
    ]);
  });

  it("CatalogService shows a tenant's own systems to a token of that tenant only", async () => {
    const mine = await call(
      "CatalogService/ListPermissions",
      { tenantId: "demo", system: "agent-desktop", category: "notes" },
      bobToken,
    );
    expect((mine.body.permissions as { key: string; scope: string }[]).map((p) => [p.key, p.scope])).toEqual([
      ["agent-desktop/notes.edit", "self"],
      ["agent-desktop/notes.edit-any", "all"],
    ]);
    const systems = await call("CatalogService/ListSystems", { tenantId: "demo" }, bobToken);
    expect((systems.body.systems as { id: string }[]).map((s) => s.id)).toContain("agent-desktop");
    const vendor = await call("CatalogService/ListSystems", {}, null);
    expect((vendor.body.systems as { id: string }[]).map((s) => s.id)).not.toContain("agent-desktop");
    const anonymous = await call("CatalogService/ListSystems", { tenantId: "demo" }, null);
    expect(anonymous.status).toBe(401);
  });

  it("refuses a plain supervisor, and names the problems of a bad document", async () => {
    const denied = await call(
      "AdminService/PutSystem",
      { tenantId: "demo", system: { id: "x", name: "X" } },
      bobToken,
    );
    expect(denied.status).toBe(403);
    expect(denied.body.message).toMatch(/manage-systems/);
    const bad = await call("AdminService/PutSystem", {
      tenantId: "demo",
      system: { id: "reports", name: "Reports", permissions: [{ key: "view" }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/reports\.json: permission 'view': 'name' must be a non-empty string/);
  });

  it("refuses DeleteSystem while a role grants the system, naming it", async () => {
    const refused = await call("AdminService/DeleteSystem", { tenantId: "demo", systemId: "agent-desktop" });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: "failed_precondition" });
    expect(refused.body.message).toMatch(/'agent-desktop\.agent' \(its default role, held by 1 user\)/);
  });

  it("puts and lists with the CLI on the store file, naming the file and the key of a problem", async () => {
    const file = join(sidecar.dbPath, "..", "reports.json");
    writeFileSync(
      file,
      JSON.stringify({ id: "reports", name: "Reports", permissions: [{ key: "view", name: "View" }] }),
    );
    const put = json<{ revision: number }>(
      await rolecall(["admin", "put-system", "demo", file, "--db", sidecar.dbPath, "--json"]),
    );
    expect(put.revision).toBeGreaterThan(0);
    const listed = json<{ id: string; custom: boolean }[]>(
      await rolecall(["admin", "list-systems", "demo", "--db", sidecar.dbPath, "--json"]),
    );
    expect(listed.filter((s) => s.custom).map((s) => s.id)).toEqual(["agent-desktop", "reports"]);
    // The sidecar picks the file's write up and decides on it.
    const check = await call("PolicyService/CheckPermission", {
      tenantId: "demo",
      userId: "carol",
      permission: "reports/view",
      minRevision: String(put.revision),
    });
    expect(check.body).toMatchObject({ reason: "REASON_NOT_GRANTED" });
    writeFileSync(
      file,
      JSON.stringify({
        id: "reports",
        name: "Reports",
        permissions: [{ key: "view", name: "View", scope: "mine" }],
      }),
    );
    const bad = await rolecall(["admin", "put-system", "demo", file, "--db", sidecar.dbPath]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      `${file}: permission 'view': 'scope' must be one of 'all', 'self' or null, got 'mine'`,
    );
    const deleted = await rolecall(["admin", "delete-system", "demo", "reports", "--db", sidecar.dbPath]);
    expect(deleted.code).toBe(0);
  });
});
