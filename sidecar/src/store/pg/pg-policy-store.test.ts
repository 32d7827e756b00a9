import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PostgresServer } from "../../../../test/support/postgres.js";
import { testCatalog } from "../../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../../test/support/store/test-database.js";
import { usePostgres } from "../../../../test/support/use-postgres.js";
import { createPolicyAdmin, type PolicyAdmin } from "../../admin/policy-admin.js";
import type { Principal } from "../../admin/principal.js";
import { SCHEMA_VERSION } from "../migrations.js";
import type { PolicyStore, PolicyStoreTx } from "../policy-store.js";
import { sqliteStore } from "../sqlite-policy-store.js";
import { StoreError } from "../store-error.js";
import { importCatalogPg } from "./pg-catalog-import.js";
import {
  CHANGES_CHANNEL,
  openPgStore,
  type PgPolicyStore,
  pgAddress,
  withStoreDeadline,
} from "./pg-policy-store.js";
import { migratePg, PG_MIGRATIONS, PG_SCHEMA_VERSION, type PgMigration } from "./pg-schema.js";

const catalog = testCatalog();
const boot: Principal = { kind: "bootstrap" };
const server = usePostgres();
let dbCount = 0;
const opened: PgPolicyStore[] = [];

/** A fresh empty database on the file's server. */
async function freshUrl(): Promise<string> {
  return server().createDatabase(`t${++dbCount}`);
}

/** A migrated store on a fresh database, closed after the test. */
async function freshStore(
  options: Parameters<typeof openPgStore>[1] = {},
  url?: string,
): Promise<PgPolicyStore> {
  const store = await openPgStore(url ?? (await freshUrl()), options);
  opened.push(store);
  return store;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs `fn`, expecting a StoreError. */
async function storeFailure(fn: () => Promise<unknown>): Promise<StoreError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof StoreError) return e;
    throw e;
  }
  throw new Error("expected a StoreError");
}

const tenant = (id: string) => ({ id, name: id.toUpperCase(), systems: ["iadvize"], owners: [] });
const record = (tenantId: string) => ({
  tenantId,
  operation: "Test",
  detail: { operation: "Test" },
  time: "2026-01-02T03:04:05.000Z",
  actor: "bootstrap",
  before: null,
  after: { id: tenantId },
});

/** Creates tenant `id` and commits it, in `tx`. */
async function createTenantIn(tx: PolicyStoreTx, id: string): Promise<number> {
  await tx.insertTenant(tenant(id), "2026-01-02T03:04:05.000Z");
  return tx.commit(record(id));
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

describe("migrations", () => {
  it("create the schema on an empty database, at the same version number as SQLite's", async () => {
    const url = await freshUrl();
    const store = await freshStore({}, url);
    expect(PG_SCHEMA_VERSION).toBe(SCHEMA_VERSION);
    const versions = await withClient(
      url,
      async (c) => (await c.query("SELECT version FROM schema_version ORDER BY version")).rows,
    );
    expect(versions).toEqual(PG_MIGRATIONS.map((m) => ({ version: m.version })));
    expect(await store.read(async (tx) => tx.revision())).toBe(0);
    expect(await store.read(async (tx) => tx.databaseId())).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("are idempotent: opening again applies nothing and keeps the database id", async () => {
    const url = await freshUrl();
    const first = await freshStore({}, url);
    const id = await first.read(async (tx) => tx.databaseId());
    const second = await freshStore({}, url);
    expect(await second.read(async (tx) => tx.databaseId())).toBe(id);
    const result = await withClient(url, (c) => migratePg(c));
    expect(result).toEqual({ from: PG_SCHEMA_VERSION, to: PG_SCHEMA_VERSION });
  });

  it("serialise two migrators starting together: one applies each step, the other waits and finds it done", async () => {
    const url = await freshUrl();
    let applied = 0;
    const slow: PgMigration[] = [
      ...PG_MIGRATIONS,
      {
        version: PG_SCHEMA_VERSION + 1,
        description: "slow step",
        up: async (client) => {
          applied++;
          await client.query("SELECT pg_sleep(0.3)");
          await client.query("CREATE TABLE slow_step (id INTEGER)");
        },
      },
    ];
    const results = await Promise.all([
      withClient(url, (c) => migratePg(c, { migrations: slow })),
      withClient(url, (c) => migratePg(c, { migrations: slow })),
    ]);
    expect(applied).toBe(1);
    expect(results.map((r) => r.from).sort()).toEqual([0, PG_SCHEMA_VERSION + 1]);
    // And the real migrations, raced by two stores opening at once.
    const other = await freshUrl();
    await Promise.all([freshStore({}, other), freshStore({}, other)]);
    const count = await withClient(
      other,
      async (c) => (await c.query("SELECT COUNT(*)::int AS n FROM schema_version")).rows[0],
    );
    expect(count).toEqual({ n: PG_MIGRATIONS.length });
  });

  it("refuse a database at a newer schema version, naming both versions", async () => {
    const url = await freshUrl();
    await freshStore({}, url);
    await withClient(url, (c) =>
      c.query("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 'now')"),
    );
    const err = await storeFailure(() => openPgStore(url));
    expect(err.code).toBe("FAILED_PRECONDITION");
    expect(err.message).toMatch(
      new RegExp(
        `schema version 99, newer than this rolecall supports \\(${PG_SCHEMA_VERSION}\\); upgrade rolecall`,
      ),
    );
  });

  it("refuse a database that holds other tables", async () => {
    const url = await freshUrl();
    await withClient(url, (c) => c.query("CREATE TABLE orders (id INTEGER)"));
    const err = await storeFailure(() => openPgStore(url));
    expect(err.message).toMatch(/not a rolecall database/);
  });
});

describe("transactions", () => {
  let store: PgPolicyStore;
  beforeAll(async () => {
    store = await openPgStore(await freshUrl());
  });
  afterAll(() => store.close());

  const tenantIds = () => store.read(async (tx) => tx.tenantIds());

  it("roll back everything when the body throws: rows, revision, change log, audit", async () => {
    const before = await store.read(async (tx) => tx.revision());
    await expect(
      store.write(async (tx) => {
        await createTenantIn(tx, "doomed");
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await tenantIds()).not.toContain("doomed");
    expect(await store.read(async (tx) => tx.revision())).toBe(before);
    expect(await store.read(async (tx) => tx.auditPage(null, Number.MAX_SAFE_INTEGER, 10))).toEqual([]);
  });

  it("join a nested write with a savepoint: the inner failure undoes only its own rows", async () => {
    const revision = await store.write(async (tx) => {
      await createTenantIn(tx, "outer");
      await expect(
        store.write(async (inner) => {
          await createTenantIn(inner, "inner");
          // The inner write sees the outer one's uncommitted rows: one transaction.
          expect(await inner.tenantIds()).toEqual(expect.arrayContaining(["outer", "inner"]));
          throw new Error("inner fails");
        }),
      ).rejects.toThrow("inner fails");
      return tx.revision();
    });
    expect(await tenantIds()).toContain("outer");
    expect(await tenantIds()).not.toContain("inner");
    expect(await store.read(async (tx) => tx.revision())).toBe(revision);
    // A failing outer write takes a succeeding inner one with it.
    await expect(
      store.write(async () => {
        await store.write((inner) => createTenantIn(inner, "inner-ok"));
        throw new Error("outer fails");
      }),
    ).rejects.toThrow("outer fails");
    expect(await tenantIds()).not.toContain("inner-ok");
  });

  it("never commits a transaction that a swallowed SQL error aborted", async () => {
    await expect(
      store.writeSql(async (query) => {
        await query("INSERT INTO tenants (id, name, created_at) VALUES ('half', 'Half', 'now')");
        await query("SELECT no_such_column FROM tenants").catch(() => undefined);
      }),
    ).rejects.toThrow(/aborted by an earlier error/);
    expect(await tenantIds()).not.toContain("half");
  });

  it("serialise writers across stores (two sidecars): every check sees what it commits on", async () => {
    const other = await freshStore({}, server().urlOf(`t${dbCount}`));
    const start = await store.read(async (tx) => tx.revision());
    // Each write reads the tenant count and creates the next tenant: without the lock two would
    // read the same count and collide on the id.
    const writes = Array.from({ length: 12 }, (_, i) =>
      (i % 2 === 0 ? store : other).write(async (tx) => {
        const n = (await tx.tenantIds()).filter((id) => id.startsWith("n-")).length;
        return createTenantIn(tx, `n-${String(n).padStart(2, "0")}`);
      }),
    );
    const revisions = await Promise.all(writes);
    expect(revisions.slice().sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => start + i + 1),
    );
    expect((await tenantIds()).filter((id) => id.startsWith("n-"))).toHaveLength(12);
  });

  it("read in one snapshot: a commit during a read is not seen by it", async () => {
    const seen = await store.read(async (tx) => {
      const first = await tx.revision();
      await store.write((w) => createTenantIn(w, "during-read")).catch((e: unknown) => e);
      return [first, await tx.revision(), (await tx.tenantIds()).includes("during-read")];
    });
    // The write above ran inside read()'s async context: it is refused, not run outside it.
    expect(seen[0]).toBe(seen[1]);
    expect(seen[2]).toBe(false);
    const other = await freshStore({}, server().urlOf(`t${dbCount}`));
    const snapshot = await store.read(async (tx) => {
      const first = await tx.revision();
      await other.write((w) => createTenantIn(w, "concurrent"));
      return [first, await tx.revision(), (await tx.tenantIds()).includes("concurrent")];
    });
    expect(snapshot[0]).toBe(snapshot[1]);
    expect(snapshot[2]).toBe(false);
    expect(await tenantIds()).toContain("concurrent");
  });

  it("import a catalog once: the same catalog again changes nothing", async () => {
    const first = await importCatalogPg(store, catalog);
    expect(first.changed).toBe(true);
    const again = await importCatalogPg(store, catalog);
    expect(again).toEqual({ revision: first.revision, changed: false });
    const permissions = await store.readSql(
      async (query) =>
        (await query<{ n: number }>("SELECT COUNT(*) AS n FROM catalog_permissions")).rows[0]?.n,
    );
    expect(permissions).toBe(catalog.permissions.size);
  });
});

describe("the same admin writes give the same rows on both backends", () => {
  let sqlite: TempDatabase;
  afterEach(() => sqlite.cleanup());

  async function script(admin: PolicyAdmin): Promise<void> {
    await admin.createTenant(boot, {
      tenantId: "acme",
      name: "Acme",
      systems: ["calabrio-one", "cxengage", "iadvize"],
      licenseSeats: { "calabrio-one/quality-management": 3, "calabrio-one/analytics": 1 },
      ownerUserIds: ["olga"],
    });
    await admin.createTenant(boot, { tenantId: "beta", name: "Beta", systems: ["iadvize"] });
    const { roleId } = await admin.createRole(boot, {
      tenantId: "acme",
      name: "QA",
      licenseIds: ["calabrio-one/quality-management"],
    });
    await admin.grantPermissions(boot, {
      tenantId: "acme",
      roleId,
      permissions: ["calabrio-one/edit-evaluations", "cxengage/NOTES_READ_ALL"],
    });
    for (const u of ["zed", "amy", "Bob"]) {
      await admin.createUser(boot, { tenantId: "acme", userId: u, displayName: u });
    }
    await admin.assignRoles(boot, { tenantId: "acme", userId: "zed", roleIds: [roleId, "iadvize.manager"] });
    await admin.assignRoles(boot, { tenantId: "acme", userId: "amy", roleIds: ["calabrio-one.agent"] });
    await admin.setUserActive(boot, { tenantId: "acme", userId: "amy", active: false });
    await admin.revokePermissions(boot, {
      tenantId: "acme",
      roleId,
      permissions: ["cxengage/NOTES_READ_ALL"],
    });
    await admin.putApp(boot, {
      tenantId: "acme",
      app: {
        appId: "desk",
        name: "Desk",
        baseUrl: "https://desk.example.com",
        pages: [{ urlPattern: "/contacts/*", surfaceIds: ["cxengage/contact-management-panel"] }],
        selectors: [{ surfaceId: "cxengage/contact-management-panel", selector: "#contacts" }],
        subject: { kind: "meta" },
      },
    });
  }

  async function observe(store: PolicyStore) {
    return store.read(async (tx) => {
      const { databaseId: _, ...source } = await tx.policySource(catalog, ["acme", "beta", "ghost"]);
      return {
        source,
        tenant: await tx.tenant("acme"),
        roles: await tx.roles("acme"),
        users: await tx.userIds("acme"),
        audit: await tx.auditPage(null, Number.MAX_SAFE_INTEGER, 100),
        apps: await tx.apps("acme"),
        pools: await tx.licensePools("acme"),
        named: [await tx.tenantNamed("ACME"), await tx.roleNamed("acme", "qa")],
      };
    });
  }

  it("policySource, audit, apps and lookups read back identically", async () => {
    const clock = () => new Date("2026-01-02T03:04:05Z");
    sqlite = createTempDatabase(catalog);
    const pgStore = await freshStore();
    await importCatalogPg(pgStore, catalog);
    await script(createPolicyAdmin(sqliteStore(sqlite.db), catalog, { clock }));
    await script(createPolicyAdmin(pgStore, catalog, { clock }));
    const fromSqlite = await observe(sqliteStore(sqlite.db));
    const fromPg = await observe(pgStore);
    expect(fromPg).toEqual(fromSqlite);
    expect(fromPg.source.removedTenantIds).toEqual(["ghost"]);
    expect(fromPg.users).toEqual(["Bob", "amy", "zed"]);
  });
});

describe("notifications", () => {
  it("are delivered after commit only, with the revision and its change-log row, and never for a rollback", async () => {
    const url = await freshUrl();
    const store = await freshStore({}, url);
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const received: string[] = [];
    listener.on("notification", (n) => {
      // A write's commit sends [database id, revision, tenant, kind, detail] (fleet/change-hints.ts).
      if (n.channel === CHANGES_CHANNEL) received.push(n.payload ?? "");
    });
    const revisions = () => received.map((p) => (JSON.parse(p) as [string, number])[1]);
    const databaseId = await store.read(async (tx) => tx.databaseId());
    await listener.query(`LISTEN ${CHANGES_CHANNEL}`);
    try {
      const revision = await store.write(async (tx) => {
        const committed = await createTenantIn(tx, "acme");
        await new Promise((r) => setTimeout(r, 150));
        expect(received).toEqual([]); // committed inside the transaction, not yet delivered
        return committed;
      });
      await expect.poll(revisions, { timeout: 2000 }).toEqual([revision]);
      const [db, , tenant, kind, detail] = JSON.parse(received[0]!) as [
        string,
        number,
        string,
        string,
        string,
      ];
      expect([db, tenant, kind]).toEqual([databaseId, "acme", "Test"]);
      expect(JSON.parse(detail)).toMatchObject({ touched: { tenant: true } });
      await store
        .write(async (tx) => {
          await createTenantIn(tx, "beta");
          throw new Error("rolled back");
        })
        .catch(() => undefined);
      await store.write((tx) => createTenantIn(tx, "gamma"));
      await expect.poll(revisions, { timeout: 2000 }).toEqual([revision, revision + 1]);
    } finally {
      await listener.end();
    }
  });
});

// Last: these stop and pause the file's server.
describe("an unreachable primary", () => {
  it("fails UNAVAILABLE at once when the server is stopped, and recovers when it is back", async () => {
    const pgServer: PostgresServer = server();
    const store = await freshStore();
    await store.write((tx) => createTenantIn(tx, "before"));
    await pgServer.stop({ mode: "immediate" });
    try {
      const started = Date.now();
      const err = await storeFailure(() => store.write((tx) => createTenantIn(tx, "during")));
      expect(err.code).toBe("UNAVAILABLE");
      expect(err.message).toMatch(
        new RegExp(`^the PostgreSQL primary at 127\\.0\\.0\\.1:${pgServer.port} is unreachable: `),
      );
      const read = await storeFailure(() => store.read(async (tx) => tx.revision()));
      expect(read.code).toBe("UNAVAILABLE");
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await pgServer.start();
    }
    await store.write((tx) => createTenantIn(tx, "after"));
    expect(await store.read(async (tx) => tx.tenantIds())).toEqual(["after", "before"]);
  });

  it("never hangs on a server that stopped answering: the store's timeout, or the caller's deadline", async () => {
    const pgServer = server();
    const store = await freshStore({ timeoutMs: 600 });
    await store.write((tx) => createTenantIn(tx, "acme")); // leaves an idle pooled connection
    pgServer.pause();
    try {
      let started = Date.now();
      const err = await storeFailure(() => store.write((tx) => createTenantIn(tx, "hung")));
      expect(err.code).toBe("UNAVAILABLE");
      expect(err.message).toMatch(/PostgreSQL primary at 127\.0\.0\.1:\d+ is unreachable/);
      expect(Date.now() - started).toBeLessThan(3000);
      const patient = await freshStore({ timeoutMs: 600 }, pgServer.urlOf("postgres")).catch(
        (e: unknown) => e,
      );
      expect(patient).toBeInstanceOf(StoreError); // opening gives up too
      started = Date.now();
      const late = await storeFailure(() =>
        withStoreDeadline(Date.now() + 300, () => store.read(async (tx) => tx.revision())),
      );
      expect(late.code).toBe("UNAVAILABLE");
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      pgServer.resume();
    }
    expect(await store.read(async (tx) => tx.tenantIds())).toEqual(["acme"]);
  });

  it("names host and port, never the URL's password", () => {
    expect(pgAddress("postgresql://u:secret@db.internal:6543/rolecall")).toBe("db.internal:6543");
    expect(pgAddress("postgresql://db.internal/rolecall")).toBe("db.internal:5432");
  });
});
