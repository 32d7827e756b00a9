import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyService } from "../../gen/rolecall/v1/policy_pb.js";
import { json, ROOT, rolecall } from "../support/cli.js";
import { connectClient, grpcClients, unary } from "../support/clients.js";
import type { PostgresServer } from "../support/postgres.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";
import { usePostgres } from "../support/use-postgres.js";

/** A loopback port nobody listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

/** Tables whose row order is the order of writing (PostgreSQL keeps it in `seq`; audit ids are kept). */
const WRITE_ORDERED = new Set([
  "tenant_systems",
  "roles",
  "role_grants",
  "role_licenses",
  "user_roles",
  "change_log",
  "audit_log",
]);

/**
 * Every row of every table of a SQLite store (schema_version aside: each store's own migration
 * history): in the order written where that order means something, sorted elsewhere.
 */
function dump(path: string): Record<string, string[]> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_version' ORDER BY name",
      )
      .pluck()
      .all() as string[];
    return Object.fromEntries(
      tables.map((table) => {
        const rows = db
          .prepare(`SELECT * FROM "${table}" ORDER BY rowid`)
          .all()
          // The follower records each read of the primary in the copy; that is not a write of ours.
          .map((r) => JSON.stringify({ ...(r as object), primary_read_at: undefined }));
        return [table, WRITE_ORDERED.has(table) ? rows : rows.sort()];
      }),
    );
  } finally {
    db.close();
  }
}

interface CheckJson {
  allowed: boolean;
  reason: string;
  revision: number;
}

const postgres = usePostgres();

describe("rolecall CLI with a PostgreSQL primary", () => {
  let dir: string;
  let pg: PostgresServer;
  let url: string;
  let address: string;
  let follower: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;
  let copy: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rolecall-cli-fleet-"));
    pg = postgres();
    url = await pg.createDatabase("fleet");
    address = `127.0.0.1:${pg.port}`;
    copy = join(dir, "copy.db");
    // The primary gets the demo tenant from the first sidecar that follows it.
    follower = await startSidecarProcess({
      dbPath: copy,
      args: ["--primary", url, "--primary-poll-ms", "200"],
    });
    clients = grpcClients(follower.grpcAddress);
  });
  afterAll(async () => {
    clients?.close();
    await follower?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const daveUpdate = { tenant_id: "demo", user_id: "dave", permission: "cxengage/CONTACTS_UPDATE" };

  it("admin --primary commits on the primary; the follower serves it at that revision, check --primary reads it", async () => {
    const written = json<{ revision: number }>(
      await rolecall([
        "admin",
        "grant",
        "demo",
        "custom-agent",
        "cxengage/CONTACTS_UPDATE",
        "--primary",
        url,
        "--json",
      ]),
    );
    const seen = await unary<{ allowed: boolean; revision: string }>(clients.policy, "CheckPermission", {
      ...daveUpdate,
      min_revision: String(written.revision),
    });
    expect(seen).toMatchObject({ allowed: true, revision: String(written.revision) });
    // ROLECALL_PRIMARY does what --primary does.
    const checked = json<CheckJson>(
      await rolecall(["check", "demo", "dave", "cxengage/CONTACTS_UPDATE", "--json"], {
        ROLECALL_PRIMARY: url,
      }),
    );
    expect(checked).toMatchObject({ allowed: true, reason: "GRANTED", revision: written.revision });
  });

  it("a follower's copy refuses writes and serve with --db alone, writing nothing; reads of it say they read a copy", async () => {
    // The follower's revision is the primary's (nothing else writes during this test).
    const primaryRevision = async () =>
      Number((await unary<{ revision: string }>(clients.policy, "CheckPermission", daveUpdate)).revision);
    const revision = await primaryRevision();
    const before = dump(copy);
    const refusal = `this file is a copy of a PostgreSQL primary (${address}); pass --primary`;
    const writes = [
      ["admin", "revoke", "demo", "custom-agent", "cxengage/CONTACTS_UPDATE", "--db", copy],
      ["token", "create", "--tenant", "demo", "--user", "dave", "--db", copy],
      ["import-catalog", "--db", copy],
      ["restore", join(dir, "any-backup.db"), "--db", copy],
      // Served alone, a copy would never move again: serve wants --primary too.
      ["serve", "--db", copy, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"],
    ];
    const results = await Promise.all(writes.map((w) => rolecall(w)));
    results.forEach((res, i) => {
      expect(res.code, writes[i]!.join(" ")).toBe(2);
      expect(res.stderr).toContain(`: ${refusal}\n`);
      expect(res.stdout).toBe("");
    });
    // ROLECALL_DB naming the copy is refused alike.
    const viaEnv = await rolecall(["admin", "set-active", "demo", "dave", "false"], { ROLECALL_DB: copy });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.stderr).toContain(refusal);
    expect(dump(copy)).toEqual(before);
    expect(await primaryRevision()).toBe(revision);

    const read = await rolecall(["check", "demo", "dave", "cxengage/CONTACTS_UPDATE", "--db", copy]);
    expect(read.code).toBe(0);
    expect(read.stdout).toMatch(new RegExp(`^ALLOWED \\(GRANTED\\) at revision ${revision}`));
    expect(read.stderr).toContain(
      `'${copy}' is a copy of the PostgreSQL primary at ${address}, at revision ${revision}`,
    );
    const tenants = await rolecall(["admin", "tenants", "--db", copy, "--json"]);
    expect(tenants.code).toBe(0);
    expect((JSON.parse(tenants.stdout) as { id: string }[]).map((t) => t.id)).toEqual(["demo"]);
    expect(tenants.stderr).toContain(`copy of the PostgreSQL primary at ${address}`);
  });

  it("a token made with --primary authenticates at a sidecar following the primary; revoked with --primary, it is refused", async () => {
    const created = json<{ token: string; id: string }>(
      await rolecall(["token", "create", "--tenant", "demo", "--user", "dave", "--primary", url, "--json"]),
    );
    const asDave = connectClient(PolicyService, follower.httpUrl, { token: created.token });
    const own = { tenantId: "demo", userId: "dave", permission: "cxengage/CONTACTS_UPDATE" };
    /** The code of dave's own check, once it is `want` (the follower copies tokens on a notification). */
    const settle = async (want: Code | undefined): Promise<Code | undefined> => {
      const deadline = Date.now() + 5_000;
      let code: Code | undefined;
      do {
        code = await asDave.checkPermission(own).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e).code,
        );
        if (code === want) break;
        await new Promise((r) => setTimeout(r, 50));
      } while (Date.now() < deadline);
      return code;
    };
    expect(await settle(undefined)).toBeUndefined();
    // Authenticated as dave, not as an administrator.
    const other = await asDave.checkPermission({ ...own, userId: "carol" }).catch((e: unknown) => e);
    expect(ConnectError.from(other).code).toBe(Code.PermissionDenied);

    const revoked = await rolecall(["token", "revoke", created.id, "--primary", url]);
    expect(revoked).toMatchObject({ code: 0, stdout: "revoked\n" });
    expect(await settle(Code.Unauthenticated)).toBe(Code.Unauthenticated);
  });

  describe("copy-store", () => {
    let original: string;
    let movedUrl: string;
    let moved: SidecarProcess | undefined;
    let token: string;

    beforeAll(async () => {
      // The store a first `rolecall serve` leaves behind, with some history on top.
      original = join(dir, "original.db");
      const standalone = await startSidecarProcess({ dbPath: original });
      expect(await standalone.stop()).toBe(0);
      const [granted, created] = await Promise.all([
        rolecall(["admin", "grant", "demo", "custom-agent", "cxengage/CONTACTS_UPDATE", "--db", original]),
        rolecall(["token", "create", "--tenant", "demo", "--user", "dave", "--db", original, "--json"]),
      ]);
      expect(granted.code).toBe(0);
      token = json<{ token: string }>(created).token;
      // A tenant's own system (issue 16) travels with the store too.
      const system = join(ROOT, "examples/systems/agent-desktop.json");
      expect((await rolecall(["admin", "put-system", "demo", system, "--db", original])).code).toBe(0);
      movedUrl = await pg.createDatabase("moved");
    });
    afterAll(async () => {
      await moved?.stop();
    });

    it("moves the store to PostgreSQL, where a sidecar serves the same decisions, and back, row for row", async () => {
      const before = dump(original);
      const meta = JSON.parse(before.meta![0]!) as { revision: number; database_id: string };
      const copied = await rolecall(["copy-store", original, movedUrl]);
      expect(copied.code).toBe(0);
      expect(copied.stderr).toBe("");
      expect(copied.stdout).toContain(`to postgresql://${address}/moved: revision ${meta.revision}`);
      expect(copied.stdout).not.toContain("rolecall@");

      moved = await startSidecarProcess({ args: ["--primary", movedUrl, "--primary-poll-ms", "200"] });
      const movedClients = grpcClients(moved.grpcAddress);
      try {
        const check = (user_id: string, permission: string) =>
          unary<{ allowed: boolean; reason: string; revision: string; missing: string[] }>(
            movedClients.policy,
            "CheckPermission",
            { tenant_id: "demo", user_id, permission },
          );
        const [dave, alice, lena, own] = await Promise.all([
          check("dave", "cxengage/CONTACTS_UPDATE"),
          check("alice", "cxengage/CONTACTS_READ"),
          check("lena", "calabrio-one/view-analytics"),
          check("dave", "agent-desktop/desktop.use"),
        ]);
        expect(own).toMatchObject({ allowed: false, reason: "REASON_NOT_GRANTED" });
        // Dave's grant is history made on the file: it came along.
        expect(dave).toMatchObject({
          allowed: true,
          reason: "REASON_GRANTED",
          revision: String(meta.revision),
        });
        expect(alice).toMatchObject({ allowed: true, reason: "REASON_GRANTED" });
        expect(lena).toMatchObject({ allowed: false, reason: "REASON_LICENSE_MISSING" });
        expect(lena.missing).toContain("calabrio-one/analytics");
      } finally {
        movedClients.close();
      }
      // The token made on the file authenticates at the sidecar following the primary.
      const asDave = connectClient(PolicyService, moved.httpUrl, { token });
      expect(
        (
          await asDave.checkPermission({
            tenantId: "demo",
            userId: "dave",
            permission: "cxengage/CONTACTS_READ",
          })
        ).allowed,
      ).toBe(true);
      // The audit log, ids and all, reads the same on the primary.
      const audit = json<{ events: { id: number }[] }>(
        await rolecall(["admin", "audit", "--primary", movedUrl, "--page-size", "1000", "--json"]),
      );
      expect(audit.events.map((e) => e.id)).toEqual(
        before.audit_log!.map((r) => (JSON.parse(r) as { id: number }).id).reverse(),
      );

      const back = join(dir, "back.db");
      const returned = await rolecall(["copy-store", movedUrl, back]);
      expect(returned.code).toBe(0);
      expect(dump(back)).toEqual(before);
    });

    it("refuses a target that holds a store, naming what it holds, and changes nothing", async () => {
      const before = dump(original);
      const meta = JSON.parse(before.meta![0]!) as { revision: number };
      const intoPg = await rolecall(["copy-store", original, movedUrl]);
      expect(intoPg.code).toBe(1);
      expect(intoPg.stderr).toContain(
        `postgresql://${address}/moved is not empty: it holds 1 tenant at revision ${meta.revision} and 1 API token`,
      );
      const intoFile = await rolecall(["copy-store", movedUrl, original]);
      expect(intoFile.code).toBe(1);
      expect(intoFile.stderr).toContain(
        `'${original}' is not empty: it holds 1 tenant at revision ${meta.revision}`,
      );
      expect(dump(original)).toEqual(before);
    });
  });

  it("an unreachable primary fails within 5 s naming host:port, never the password", async () => {
    const port = await closedPort();
    const secretUrl = `postgresql://rolecall:s3cret-pw@127.0.0.1:${port}/fleet`;
    const started = Date.now();
    const [admin, copied] = await Promise.all([
      rolecall([
        "admin",
        "grant",
        "demo",
        "custom-agent",
        "cxengage/CONTACTS_UPDATE",
        "--primary",
        secretUrl,
      ]),
      rolecall(["copy-store", secretUrl, join(dir, "never.db")]),
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const res of [admin, copied]) {
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`the PostgreSQL primary at 127.0.0.1:${port} is unreachable`);
      expect(res.stderr + res.stdout).not.toContain("s3cret-pw");
    }
  });

  it("--help names --primary and copy-store", async () => {
    const [main, copyHelp, admin, token] = await Promise.all([
      rolecall(["--help"]),
      rolecall(["copy-store", "--help"]),
      rolecall(["admin", "--help"]),
      rolecall(["token", "--help"]),
    ]);
    expect(main.stdout).toMatch(/^ {2}copy-store {2,}/m);
    expect(copyHelp).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Usage: rolecall copy-store FROM TO/),
    });
    for (const res of [admin, token]) {
      expect(res.code).toBe(0);
      expect(res.stdout).toContain("--primary URL");
      expect(res.stdout).toContain("ROLECALL_PRIMARY");
    }
  });
});
