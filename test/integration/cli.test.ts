import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyService } from "../../gen/rolecall/v1/policy_pb.js";
import { json, ROOT, rolecall } from "../support/cli.js";
import { connectClient, grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

interface CheckJson {
  allowed: boolean;
  reason: string;
  missing: string[];
  revision: number;
}

describe("rolecall CLI", () => {
  let dir: string;
  let db: string;
  const checkJson = (user: string, permission: string) =>
    rolecall(["check", "demo", user, permission, "--db", db, "--json"]);
  const revisionNow = async () =>
    (JSON.parse((await checkJson("carol", "cxengage/CONTACTS_READ")).stdout) as CheckJson).revision;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rolecall-cli-"));
    db = join(dir, "rolecall.db");
    // The database a first `rolecall serve` leaves behind, demo tenant included.
    const sidecar = await startSidecarProcess({ dbPath: db });
    expect(await sidecar.stop()).toBe(0);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe("check and effective", () => {
    it("exits 0 when allowed and 3 when denied", async () => {
      const carol = await rolecall(["check", "demo", "carol", "cxengage/CONTACTS_UPDATE", "--db", db]);
      expect(carol.code).toBe(0);
      expect(carol.stdout).toMatch(/^ALLOWED \(GRANTED\) at revision \d+/);
      const dave = await rolecall(["check", "demo", "dave", "cxengage/CONTACTS_UPDATE", "--db", db]);
      expect(dave.code).toBe(3);
      expect(dave.stdout).toMatch(/^DENIED \(NOT_GRANTED\) at revision \d+/);
    });

    it("--json parses, keeps the exit code, and --explain says what would fix it", async () => {
      const res = await checkJson("dave", "cxengage/CONTACTS_UPDATE");
      expect(res.code).toBe(3);
      const body = JSON.parse(res.stdout) as CheckJson;
      expect(body).toMatchObject({ allowed: false, reason: "NOT_GRANTED", missing: [] });
      expect(body.revision).toBeGreaterThan(0);

      const explained = await rolecall([
        "check",
        "demo",
        "dave",
        "cxengage/CONTACTS_UPDATE",
        "--explain",
        "--db",
        db,
      ]);
      expect(explained.code).toBe(3);
      expect(explained.stdout).toContain("CONTACTS_UPDATE");
      expect(explained.stdout).toMatch(/Custom Agent/);
    });

    it("exits 1 on an unknown permission, naming the closest key", async () => {
      const res = await rolecall(["check", "demo", "dave", "cxengage/CONTACT_UPDATE", "--db", db]);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain("unknown permission 'cxengage/CONTACT_UPDATE'");
      expect(res.stderr).toContain("did you mean 'cxengage/CONTACTS_UPDATE'");
    });

    it("exits 2 on misuse: missing arguments, an unknown flag, an unknown command", async () => {
      const missing = await rolecall(["check", "demo", "dave", "--db", db]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("rolecall check --help");
      expect(
        (await rolecall(["check", "demo", "dave", "cxengage/CONTACTS_READ", "--bogus", "--db", db])).code,
      ).toBe(2);
      expect((await rolecall(["frobnicate"])).code).toBe(2);
    });

    it("exits 2 when there is no database, saying how to make one", async () => {
      const res = await rolecall([
        "check",
        "demo",
        "dave",
        "cxengage/CONTACTS_READ",
        "--db",
        join(dir, "none.db"),
      ]);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain("no database at");
      expect(existsSync(join(dir, "none.db"))).toBe(false);
    });

    it("effective --denied lists only what the user lacks, with reasons", async () => {
      const rows = json<{ permission: string; allowed: boolean; reason: string }[]>(
        await rolecall([
          "effective",
          "demo",
          "dave",
          "--denied",
          "--system",
          "cxengage",
          "--db",
          db,
          "--json",
        ]),
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => !r.allowed)).toBe(true);
      expect(rows).toContainEqual(
        expect.objectContaining({ permission: "cxengage/CONTACTS_UPDATE", reason: "NOT_GRANTED" }),
      );
      expect(rows.map((r) => r.permission)).not.toContain("cxengage/CONTACTS_READ");
      const all = json<{ permission: string; allowed: boolean }[]>(
        await rolecall(["effective", "demo", "dave", "--system", "cxengage", "--db", db, "--json"]),
      );
      expect(all).toContainEqual(
        expect.objectContaining({ permission: "cxengage/CONTACTS_READ", allowed: true }),
      );
      expect(all.filter((r) => !r.allowed)).toHaveLength(rows.length);
    });
  });

  describe("admin", () => {
    it("grant prints what was auto-granted and the new revision; the next check sees it", async () => {
      const before = await revisionNow();
      const out = json<{ granted: string[]; autoGranted: string[]; revision: number }>(
        await rolecall([
          "admin",
          "grant",
          "demo",
          "wallboard-viewer",
          "zoom-contact-center/CampaignManagement:Edit",
          "--db",
          db,
          "--json",
        ]),
      );
      // Edit requires Read in Zoom's catalog: granting one grants the other.
      expect(out.autoGranted).toEqual(["zoom-contact-center/CampaignManagement:Read"]);
      expect(out.granted).toEqual(
        expect.arrayContaining([
          "zoom-contact-center/CampaignManagement:Edit",
          "zoom-contact-center/CampaignManagement:Read",
        ]),
      );
      expect(out.revision).toBeGreaterThan(before);
      expect(await revisionNow()).toBe(out.revision);

      const roles = json<{ id: string; grants: string[] }[]>(
        await rolecall(["admin", "roles", "demo", "--db", db, "--json"]),
      );
      expect(roles.find((r) => r.id === "wallboard-viewer")?.grants).toEqual(
        expect.arrayContaining([
          "zoom-contact-center/CampaignManagement:Edit",
          "zoom-contact-center/CampaignManagement:Read",
        ]),
      );
      // The text form says the same for a person.
      const text = await rolecall([
        "admin",
        "grant",
        "demo",
        "wallboard-viewer",
        "zoom-contact-center/FlowManagement:Edit",
        "--db",
        db,
      ]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain("autoGranted");
      expect(text.stdout).toContain("zoom-contact-center/FlowManagement:Read");
      expect(text.stdout).toMatch(/"revision": \d+/);
    });

    it("revoke of a permission another grant requires exits 1 naming the dependents, changing nothing", async () => {
      const before = await revisionNow();
      const res = await rolecall([
        "admin",
        "revoke",
        "demo",
        "chat-agent",
        "iadvize/access-to-reports",
        "--db",
        db,
      ]);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain("still required by iadvize/access-to-production-report");
      expect(res.stderr).toContain("cascade");
      expect(await revisionNow()).toBe(before);
      const roles = json<{ id: string; grants: string[] }[]>(
        await rolecall(["admin", "roles", "demo", "--db", db, "--json"]),
      );
      expect(roles.find((r) => r.id === "chat-agent")?.grants).toContain("iadvize/access-to-reports");
    });

    it("refuses an unknown role with exit 1 naming it", async () => {
      const res = await rolecall([
        "admin",
        "grant",
        "demo",
        "no-such-role",
        "cxengage/CONTACTS_READ",
        "--db",
        db,
      ]);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain("no-such-role");
    });
  });

  describe("tokens", () => {
    it("token create prints a token a running sidecar accepts; token revoke makes it refused", async () => {
      const created = json<{ token: string; id: string }>(
        await rolecall([
          "token",
          "create",
          "--tenant",
          "demo",
          "--user",
          "dave",
          "--label",
          "cli test",
          "--db",
          db,
          "--json",
        ]),
      );
      expect(created.token).toMatch(/^rc_/);
      expect(created.id).toMatch(/^[0-9a-f]{64}$/);

      // The extension's use of a user token: dave reading his own decisions over Connect.
      const sidecar: SidecarProcess = await startSidecarProcess({ dbPath: db });
      const asDave = connectClient(PolicyService, sidecar.httpUrl, { token: created.token });
      const own = { tenantId: "demo", userId: "dave", permission: "cxengage/CONTACTS_UPDATE" };
      try {
        expect((await asDave.checkPermission(own)).allowed).toBe(false);
        // Authenticated as dave, not as an administrator: another user's decisions are refused.
        const other = await asDave.checkPermission({ ...own, userId: "carol" }).catch((e: unknown) => e);
        expect(ConnectError.from(other).code).toBe(Code.PermissionDenied);

        const revoked = await rolecall(["token", "revoke", created.token, "--db", db]);
        expect(revoked.code).toBe(0);
        expect(revoked.stdout).toContain("revoked");
        // The sidecar syncs the revocation from the store within its poll interval.
        const deadline = Date.now() + 5_000;
        let code: Code | undefined;
        while (Date.now() < deadline) {
          code = await asDave.checkPermission(own).then(
            () => undefined,
            (e: unknown) => ConnectError.from(e).code,
          );
          if (code === Code.Unauthenticated) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(code).toBe(Code.Unauthenticated);
      } finally {
        expect(await sidecar.stop()).toBe(0);
      }
      // A second revoke finds nothing live.
      const again = await rolecall(["token", "revoke", created.id, "--db", db]);
      expect(again.code).toBe(1);
      expect(again.stdout).toContain("no live token matched");
    });

    it("token create without a principal is misuse (exit 2)", async () => {
      expect((await rolecall(["token", "create", "--db", db])).code).toBe(2);
    });
  });

  describe("export and restore", () => {
    it("restores a backup: the revision goes up, and check answers from the backup's contents", async () => {
      const backup = join(dir, "backup.db");
      const exported = await rolecall(["export", backup, "--db", db]);
      expect(exported.code).toBe(0);
      expect(exported.stdout).toMatch(/exported revision \d+/);

      // A change after the backup: dave gets CONTACTS_UPDATE.
      expect(
        (await rolecall(["admin", "grant", "demo", "custom-agent", "cxengage/CONTACTS_UPDATE", "--db", db]))
          .code,
      ).toBe(0);
      expect((await rolecall(["check", "demo", "dave", "cxengage/CONTACTS_UPDATE", "--db", db])).code).toBe(
        0,
      );
      const beforeRestore = await revisionNow();

      const restored = await rolecall(["restore", backup, "--db", db]);
      expect(restored.code).toBe(0);
      expect(restored.stdout).toMatch(/restored revision \d+ as revision \d+/);
      // The revision never goes backwards, though the contents did.
      const after = await checkJson("dave", "cxengage/CONTACTS_UPDATE");
      expect(after.code).toBe(3);
      expect((JSON.parse(after.stdout) as CheckJson).revision).toBeGreaterThan(beforeRestore);
      expect((await rolecall(["check", "demo", "carol", "cxengage/CONTACTS_UPDATE", "--db", db])).code).toBe(
        0,
      );
    });

    it("refuses to restore a file that is not a rolecall database, leaving the store as it was", async () => {
      const before = await revisionNow();
      const text = join(dir, "notes.txt");
      writeFileSync(text, "not a database\n");
      const fromText = await rolecall(["restore", text, "--db", db]);
      expect(fromText.code).toBe(1);
      expect(fromText.stderr).toContain("not a SQLite database");

      // A real SQLite file, but some other program's.
      const other = join(dir, "other.sqlite");
      const foreign = new Database(other);
      foreign.exec(
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);",
      );
      foreign.close();
      const fromForeign = await rolecall(["restore", other, "--db", db]);
      expect(fromForeign.code).toBe(1);
      expect(fromForeign.stderr).toMatch(/not a rolecall database/);

      const missing = await rolecall(["restore", join(dir, "absent.db"), "--db", db]);
      expect(missing.code).not.toBe(0);

      expect(await revisionNow()).toBe(before);
      expect((await rolecall(["check", "demo", "dave", "cxengage/CONTACTS_UPDATE", "--db", db])).code).toBe(
        3,
      );
    });
  });

  describe("help", () => {
    it("every command's --help exits 0 with its usage", async () => {
      const commands = [
        "serve",
        "check",
        "effective",
        "admin",
        "token",
        "import-catalog",
        "export",
        "restore",
      ];
      // In parallel: each is a separate process start, and they share nothing.
      const results = await Promise.all(commands.map((c) => rolecall([c, "--help"])));
      results.forEach((res, i) => {
        expect(res.code, commands[i]).toBe(0);
        expect(res.stdout).toMatch(new RegExp(`^Usage: rolecall ${commands[i]}`));
      });
    });

    it("rolecall --help lists every command; bare rolecall is misuse", async () => {
      const res = await rolecall(["--help"]);
      expect(res.code).toBe(0);
      for (const c of ["serve", "check", "effective", "admin", "token", "export", "restore"])
        expect(res.stdout).toContain(c);
      expect((await rolecall([])).code).toBe(2);
    });
  });

  describe("serve refuses to start", () => {
    /** Runs `serve` with a flag that is wrong; expects exit 2 naming it, with no database made. */
    async function usageRefusal(db: string, flags: string[], named: string[]): Promise<void> {
      const fresh = join(dir, db);
      const res = await rolecall([
        "serve",
        "--grpc-addr",
        "127.0.0.1:0",
        "--http-addr",
        "127.0.0.1:0",
        "--db",
        fresh,
        ...flags,
      ]);
      expect(res.code).toBe(2);
      for (const text of named) expect(res.stderr).toContain(text);
      expect(existsSync(fresh)).toBe(false);
    }

    it("on a malformed --grpc-addr: exit 2 naming the flag, before touching the database", async () => {
      await usageRefusal("never.db", ["--grpc-addr", "nonsense"], ["--grpc-addr", "'nonsense'"]);
    });

    it("on a limit Node cannot honour (a timer past 2^31-1 ms fires at once): exit 2 naming the option", async () => {
      await usageRefusal(
        "never-2.db",
        ["--shutdown-grace-ms", "3000000000"],
        ["--shutdown-grace-ms must be a whole number from 1 to 2147483647"],
      );
    });

    it("on a catalog with a dangling requirement: non-zero exit naming the file and the permission, never listening", async () => {
      const catalog = join(dir, "catalog-broken");
      cpSync(join(ROOT, "catalog/data"), catalog, { recursive: true });
      const file = join(catalog, "iadvize.json");
      const data = JSON.parse(readFileSync(file, "utf8")) as {
        permissions: { key: string; requires: unknown }[];
      };
      const victim = data.permissions.find((p) => p.key === "access-to-production-report");
      expect(victim).toBeDefined();
      victim!.requires = "access-to-nowhere";
      writeFileSync(file, JSON.stringify(data, null, 2));

      const fresh = join(dir, "broken-catalog.db");
      const args = ["serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--db", fresh];
      for (const run of [
        () => rolecall([...args, "--catalog", catalog], { ROLECALL_ADMIN_TOKEN: "rc_test_bootstrap_token" }),
        () => rolecall(args, { ROLECALL_CATALOG: catalog, ROLECALL_ADMIN_TOKEN: "rc_test_bootstrap_token" }),
      ]) {
        const res = await run();
        expect(res.code).not.toBe(0);
        expect(res.code).not.toBeNull(); // it exited by itself, not by our timeout
        expect(res.stderr).toContain("iadvize.json");
        expect(res.stderr).toContain("access-to-production-report");
        expect(res.stderr).toContain("access-to-nowhere");
        expect(res.stdout).not.toContain("rolecall is serving");
        expect(existsSync(fresh)).toBe(false);
      }
    });

    it("with a good --catalog, serves that catalog", async () => {
      const catalog = join(dir, "catalog-edited");
      cpSync(join(ROOT, "catalog/data"), catalog, { recursive: true });
      const file = join(catalog, "cxengage.json");
      const data = JSON.parse(readFileSync(file, "utf8")) as {
        permissions: { key: string; summary: string }[];
      };
      data.permissions.find((p) => p.key === "CONTACTS_UPDATE")!.summary =
        "Edit contacts (from the edited copy)";
      writeFileSync(file, JSON.stringify(data, null, 2));

      const sidecar = await startSidecarProcess({ args: ["--catalog", catalog] });
      const clients = grpcClients(sidecar.grpcAddress);
      try {
        const res = await unary<{ permissions: { key: string; summary: string }[] }>(
          clients.catalog,
          "ListPermissions",
          {
            system: "cxengage",
          },
        );
        expect(res.permissions.find((p) => p.key === "cxengage/CONTACTS_UPDATE")?.summary).toBe(
          "Edit contacts (from the edited copy)",
        );
      } finally {
        clients.close();
        expect(await sidecar.stop()).toBe(0);
      }
    });
  });
});
