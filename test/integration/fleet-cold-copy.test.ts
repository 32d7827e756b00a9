/**
 * A follower's first copy (sidecar/src/fleet/cold-copy.ts), against a real PostgreSQL 15: built
 * in a file of its own beside the new, empty copy and renamed over it whole. The copy equals the
 * primary; a primary connection lost mid-copy, or a follower SIGKILLed mid-copy, leaves the empty
 * copy as it was — never half a copy a restart would serve — and the restart copies it whole; a
 * copy another process still holds open is refused, untouched.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Catalog } from "../../catalog/catalog.js";
import { loadCatalog } from "../../catalog/loader.js";
import { seedDemo } from "../../sidecar/src/admin/demo-seed.js";
import { createPolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import { buildingPathOf, copyPrimaryCold, holdsNothing } from "../../sidecar/src/fleet/cold-copy.js";
import type { Db } from "../../sidecar/src/store/database.js";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { importCatalogPg } from "../../sidecar/src/store/pg/pg-catalog-import.js";
import { openPgStore, type PgPolicyStore } from "../../sidecar/src/store/pg/pg-policy-store.js";
import { readPolicySource } from "../../sidecar/src/store/read-policy.js";
import { readDatabaseId, readRevision } from "../../sidecar/src/store/revision.js";
import { FLEET_ADMIN_TOKEN, startFleetSidecar } from "../support/fleet.js";
import { LOOPBACK_SERVE_ARGS } from "../support/sidecar-process.js";
import { usePostgres } from "../support/use-postgres.js";

const postgres = usePostgres();
const ROOT = join(import.meta.dirname, "..", "..");
/** Users added to the demo tenant: enough that a copy takes a moment to stream. */
const BULK_USERS = 60_000;

/** A new, empty copy as `serve --primary` creates it; returns its database id. */
function emptyCopy(path: string): string {
  const db = openStore(path);
  try {
    return readDatabaseId(db);
  } finally {
    db.close();
  }
}

/** The copy at `path` is the empty one with `databaseId`. */
function expectEmptyCopy(path: string, databaseId: string): void {
  const db = openStore(path, { readonly: true });
  try {
    expect(holdsNothing(db)).toBe(true);
    expect(readDatabaseId(db)).toBe(databaseId);
    expect(db.prepare("SELECT count(*) FROM users").pluck().get()).toBe(0);
  } finally {
    db.close();
  }
}

describe("a follower's first copy, built aside and renamed into place", () => {
  let catalog: Catalog;
  let url: string;
  let primary: PgPolicyStore;
  let dir: string;
  let users: number;

  beforeAll(async () => {
    catalog = loadCatalog();
    url = await postgres().createDatabase("cold");
    primary = await openPgStore(url);
    await importCatalogPg(primary, catalog);
    await seedDemo(createPolicyAdmin(primary, catalog), catalog);
    // Many users, each holding a role: written straight in SQL, a bulk the admin API would take minutes for.
    await primary.writeSql(async (query) => {
      const role = (await query<{ id: string }>("SELECT id FROM roles WHERE tenant_id = 'demo' LIMIT 1"))
        .rows[0]!.id;
      await query(
        `INSERT INTO users (tenant_id, id, display_name, active, created_at)
         SELECT 'demo', 'bulk-' || g, 'Bulk ' || g, 1, '2026-01-01T00:00:00.000Z' FROM generate_series(1, $1) g`,
        [BULK_USERS],
      );
      await query(
        `INSERT INTO user_roles (tenant_id, user_id, role_id)
         SELECT 'demo', 'bulk-' || g, $2 FROM generate_series(1, $1) g`,
        [BULK_USERS, role],
      );
      users = Number((await query<{ n: string }>("SELECT count(*) AS n FROM users")).rows[0]!.n);
    });
    dir = mkdtempSync(join(tmpdir(), "rolecall-cold-copy-"));
  }, 60_000);

  afterAll(async () => {
    await primary?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("copies the primary whole: the same policy at the same revision, served in WAL mode", async () => {
    const path = join(dir, "whole.db");
    emptyCopy(path);
    const { head, rows, sideRows } = await copyPrimaryCold({
      primaryUrl: url,
      path,
      primaryAddress: "primary.example:5432",
      readAt: 1_234,
    });
    expect(existsSync(buildingPathOf(path))).toBe(false);
    expect(existsSync(`${buildingPathOf(path)}-side`)).toBe(false);
    // Users, grants and role licenses came through the second thread's file.
    expect(sideRows).toBeGreaterThanOrEqual(users);
    expect(rows).toBeGreaterThan(sideRows);
    const copy: Db = openStore(path, { readonly: true });
    try {
      expect(copy.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(copy.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(copy.prepare("SELECT primary_address, primary_read_at FROM meta").get()).toEqual({
        primary_address: "primary.example:5432",
        primary_read_at: 1_234,
      });
      expect(copy.prepare("SELECT count(*) FROM users").pluck().get()).toBe(users);
      const remote = await primary.read(async (tx) => tx.policySource(catalog, await tx.tenantIds()));
      const local = readPolicySource(copy, catalog);
      expect(readRevision(copy)).toBe(Number(head.revision));
      expect(local.revision).toBe(remote.revision);
      expect(local.databaseId).toBe(remote.databaseId);
      expect(local.tenants).toEqual(remote.tenants);
    } finally {
      copy.close();
    }
  });

  it("copies the same whole on one thread (no second thread, or no exported snapshot)", async () => {
    const path = join(dir, "one-thread.db");
    emptyCopy(path);
    const { sideRows } = await copyPrimaryCold({
      primaryUrl: url,
      path,
      primaryAddress: "p",
      readAt: 1,
      secondThread: false,
    });
    expect(sideRows).toBe(0);
    const copy = openStore(path, { readonly: true });
    try {
      expect(copy.prepare("SELECT count(*) FROM users").pluck().get()).toBe(users);
      const remote = await primary.read(async (tx) => tx.policySource(catalog, await tx.tenantIds()));
      expect(readPolicySource(copy, catalog).tenants).toEqual(remote.tenants);
    } finally {
      copy.close();
    }
  });

  it("loses its primary connection mid-copy: the empty copy is left as it was, with no build file", async () => {
    const path = join(dir, "dropped.db");
    const databaseId = emptyCopy(path);
    const killer = new pg.Client({ connectionString: url });
    await killer.connect();
    try {
      const copying = copyPrimaryCold({ primaryUrl: url, path, primaryAddress: "p", readAt: 1 });
      let terminated = false;
      const watch = (async () => {
        for (let i = 0; i < 2_000 && !terminated; i++) {
          const r = await killer.query(
            `SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity
             WHERE application_name = 'rolecall-follower-copy' AND query LIKE 'COPY (SELECT%FROM users%'`,
          );
          terminated = r.rows.length > 0;
        }
      })();
      await expect(copying).rejects.toThrow(/terminat|connection/i);
      await watch;
      expect(terminated).toBe(true);
    } finally {
      await killer.end();
    }
    expect(existsSync(buildingPathOf(path))).toBe(false);
    expect(existsSync(`${buildingPathOf(path)}-side`)).toBe(false);
    expectEmptyCopy(path, databaseId);
  });

  it("refuses a second build of the same copy while one runs; the first completes whole", async () => {
    const path = join(dir, "twice.db");
    emptyCopy(path);
    const first = copyPrimaryCold({ primaryUrl: url, path, primaryAddress: "p", readAt: 1 });
    await expect(copyPrimaryCold({ primaryUrl: url, path, primaryAddress: "p", readAt: 1 })).rejects.toThrow(
      `another process is copying the primary into '${path}'`,
    );
    await first;
    const copy = openStore(path, { readonly: true });
    try {
      expect(copy.prepare("SELECT count(*) FROM users").pluck().get()).toBe(users);
    } finally {
      copy.close();
    }
    // Once it is done the lock is free again (the copy now holds data: a start serves it).
    await expect(
      copyPrimaryCold({ primaryUrl: url, path: join(dir, "after.db"), primaryAddress: "p", readAt: 1 }),
    ).resolves.toMatchObject({ head: expect.anything() });
  });

  it("refuses a copy another process holds open, leaving it untouched", async () => {
    const path = join(dir, "held.db");
    const databaseId = emptyCopy(path);
    const holder = openStore(path);
    try {
      await expect(
        copyPrimaryCold({ primaryUrl: url, path, primaryAddress: "p", readAt: 1 }),
      ).rejects.toThrow(`'${path}' is open in another process`);
      expect(readDatabaseId(holder)).toBe(databaseId);
    } finally {
      holder.close();
    }
    expect(existsSync(buildingPathOf(path))).toBe(false);
    expect(existsSync(`${buildingPathOf(path)}-side`)).toBe(false);
    expectEmptyCopy(path, databaseId);
  });

  it("a follower SIGKILLed mid-copy leaves the empty copy; restarted, it copies whole and serves", async () => {
    const path = join(dir, "killed.db");
    let kills = 0;
    let databaseId: string | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const child = spawn(
        process.execPath,
        [
          join(ROOT, "bin/rolecall.js"),
          "serve",
          "--primary",
          url,
          "--db",
          path,
          "--no-demo",
          ...LOOPBACK_SERVE_ARGS,
        ],
        { cwd: ROOT, env: { ...process.env, ROLECALL_ADMIN_TOKEN: FLEET_ADMIN_TOKEN }, stdio: "ignore" },
      );
      const exited = new Promise((resolve) => child.once("exit", resolve));
      try {
        // Killed a moment after the build file appears: mid-copy.
        const started = Date.now();
        while (!existsSync(buildingPathOf(path)) && child.exitCode === null && Date.now() - started < 20_000)
          await new Promise((resolve) => setTimeout(resolve, 2));
        await new Promise((resolve) => setTimeout(resolve, 20 + attempt * 30));
      } finally {
        if (child.exitCode === null) {
          process.kill(child.pid!, "SIGKILL");
          kills++;
        }
        await exited;
      }
      databaseId ??= emptyCopy(path); // the file the killed start created (opened, never written)
      expectEmptyCopy(path, databaseId);
    }
    expect(kills).toBe(3);
    expect(existsSync(buildingPathOf(path))).toBe(true); // left by the last kill; the restart removes it

    const follower = await startFleetSidecar({ primary: url, dbPath: path, args: ["--no-demo"] });
    try {
      expect(existsSync(buildingPathOf(path))).toBe(false);
      expect(existsSync(`${buildingPathOf(path)}-side`)).toBe(false);
      const copy = openStore(path, { readonly: true });
      try {
        expect(copy.prepare("SELECT count(*) FROM users").pluck().get()).toBe(users);
      } finally {
        copy.close();
      }
    } finally {
      await follower.stop();
    }
  }, 90_000);
});
