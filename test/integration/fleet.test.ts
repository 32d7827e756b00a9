/**
 * A fleet (issue 14): two sidecar processes, each with its own SQLite copy, following one real
 * PostgreSQL primary. A write through either one's AdminService commits on the primary and is
 * seen by the other at the revision it answered; with the primary stopped both keep serving their
 * last good copy, writes fail UNAVAILABLE in time, and on its return they catch up.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../sidecar/src/store/database.js";
import { grpcClients, unary } from "../support/clients.js";
import type { PostgresServer } from "../support/postgres.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";
import { usePostgres } from "../support/use-postgres.js";

const postgres = usePostgres();

describe("a fleet following one PostgreSQL primary", () => {
  let pg: PostgresServer;
  let url: string;
  let a: SidecarProcess;
  let b: SidecarProcess;
  let clientsA: ReturnType<typeof grpcClients>;
  let clientsB: ReturnType<typeof grpcClients>;

  beforeAll(async () => {
    pg = postgres();
    url = await pg.createDatabase("fleet");
    a = await startSidecarProcess({ args: ["--primary", url, "--primary-poll-ms", "200"] });
    b = await startSidecarProcess({ args: ["--primary", url, "--primary-poll-ms", "200"] });
    clientsA = grpcClients(a.grpcAddress);
    clientsB = grpcClients(b.grpcAddress);
  });
  afterAll(async () => {
    clientsA?.close();
    clientsB?.close();
    await a?.stop();
    await b?.stop();
  });

  const daveUpdate = { tenant_id: "demo", user_id: "dave", permission: "cxengage/CONTACTS_UPDATE" };

  it("builds the demo tenant once, and both sidecars serve it", async () => {
    for (const clients of [clientsA, clientsB]) {
      const dave = await unary<{ allowed: boolean; reason: string }>(
        clients.policy,
        "CheckPermission",
        daveUpdate,
      );
      expect(dave).toMatchObject({ allowed: false, reason: "REASON_NOT_GRANTED" });
    }
    const tenants = await unary<{ tenants: { id: string }[] }>(
      clientsB.admin,
      "ListTenants",
      {},
      { token: b.adminToken },
    );
    expect(tenants.tenants.map((t) => t.id)).toEqual(["demo"]);
  });

  it("a write through one sidecar is seen by the other at the revision it answered", async () => {
    const written = await unary<{ revision: string }>(
      clientsA.admin,
      "GrantPermissions",
      { tenant_id: "demo", role_id: "custom-agent", permissions: ["cxengage/CONTACTS_UPDATE"] },
      { token: a.adminToken },
    );
    const seen = await unary<{ allowed: boolean; revision: string }>(clientsB.policy, "CheckPermission", {
      ...daveUpdate,
      min_revision: written.revision,
    });
    expect(seen).toMatchObject({ allowed: true, revision: written.revision });
  });

  it("a tenant's own system put through one sidecar is decided by the other (issue 16)", async () => {
    const system = readFileSync(
      join(import.meta.dirname, "../../examples/systems/agent-desktop.json"),
      "utf8",
    );
    await unary(
      clientsA.admin,
      "PutSystem",
      { tenant_id: "demo", system_json: system },
      { token: a.adminToken },
    );
    const written = await unary<{ revision: string }>(
      clientsA.admin,
      "AssignRoles",
      { tenant_id: "demo", user_id: "dave", role_ids: ["agent-desktop.team-lead"] },
      { token: a.adminToken },
    );
    const seen = await unary<{ allowed: boolean; revision: string }>(clientsB.policy, "CheckPermission", {
      tenant_id: "demo",
      user_id: "dave",
      permission: "agent-desktop/notes.edit",
      resource: { owner_user_id: "alice" },
      min_revision: written.revision,
    });
    expect(seen).toMatchObject({ allowed: true, revision: written.revision });
  });

  it("started with the primary down and a copy older than --max-staleness-ms, says NOT_SERVING and fails closed until the primary answers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rolecall-fleet-stale-"));
    const dbPath = join(dir, "copy.db");
    const args = ["--primary", url, "--primary-poll-ms", "200", "--max-staleness-ms", "10000"];
    let c: SidecarProcess | undefined;
    let down = false;
    try {
      await (await startSidecarProcess({ dbPath, args })).stop();
      await pg.stop({ mode: "immediate" });
      down = true;
      // The copy last read the primary a minute ago (a host down for a while).
      const copy = openDatabase(dbPath);
      copy.prepare("UPDATE meta SET primary_read_at = ? WHERE id = 1").run(Date.now() - 60_000);
      copy.close();
      c = await startSidecarProcess({ dbPath, args });
      expect((await fetch(`${c.httpUrl}/healthz`)).status).toBe(503);
      const clients = grpcClients(c.grpcAddress);
      try {
        const refused = await unary(clients.policy, "CheckPermission", daveUpdate).catch(
          (e: { code: number }) => e,
        );
        expect(refused).toMatchObject({ code: 14 }); // UNAVAILABLE
        await pg.start();
        down = false;
        const deadline = Date.now() + 15_000;
        while ((await fetch(`${c.httpUrl}/healthz`)).status !== 200 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
        }
        expect((await fetch(`${c.httpUrl}/healthz`)).status).toBe(200);
        await expect(unary(clients.policy, "CheckPermission", daveUpdate)).resolves.toMatchObject({});
      } finally {
        clients.close();
      }
    } finally {
      await c?.stop();
      if (down) await pg.start();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("with the primary down, serves the last good copy and refuses writes UNAVAILABLE in time", async () => {
    await pg.stop({ mode: "immediate" });
    try {
      const dave = await unary<{ allowed: boolean }>(clientsB.policy, "CheckPermission", daveUpdate);
      expect(dave.allowed).toBe(true);
      const started = Date.now();
      const refused = await unary(
        clientsA.admin,
        "RevokePermissions",
        { tenant_id: "demo", role_id: "custom-agent", permissions: ["cxengage/CONTACTS_UPDATE"] },
        { token: a.adminToken, deadlineMs: 8_000 },
      ).catch((e: { code: number }) => e);
      expect(refused).toMatchObject({ code: 14 }); // UNAVAILABLE
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      await pg.start();
    }
    // Back up: a write through B reaches A (LISTEN reconnects; the poll is the safety net).
    const written = await unary<{ revision: string }>(
      clientsB.admin,
      "RevokePermissions",
      { tenant_id: "demo", role_id: "custom-agent", permissions: ["cxengage/CONTACTS_UPDATE"] },
      { token: b.adminToken, deadlineMs: 10_000 },
    );
    const seen = await unary<{ allowed: boolean }>(
      clientsA.policy,
      "CheckPermission",
      { ...daveUpdate, min_revision: written.revision },
      { deadlineMs: 10_000 },
    );
    expect(seen.allowed).toBe(false);
  });
});
