/**
 * The store backends a suite can run over, behind one small factory: `sqlite` (a temp file, as
 * every store test always had) and `postgres` (a fresh database on one real PostgreSQL server per
 * test file, started on first use). Each test store offers what the suites used to read straight
 * from SQLite: the revision, the change log, and a dump of every row to compare before and after
 * a refused write.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { catalogHash } from "../../../sidecar/src/store/catalog-import.js";
import { importCatalogPg } from "../../../sidecar/src/store/pg/pg-catalog-import.js";
import { openPgStore, type PgPolicyStore } from "../../../sidecar/src/store/pg/pg-policy-store.js";
import type { PolicyStore } from "../../../sidecar/src/store/policy-store.js";
import { readRevision } from "../../../sidecar/src/store/revision.js";
import { sqliteStore } from "../../../sidecar/src/store/sqlite-policy-store.js";
import { type PostgresServer, startPostgres } from "../postgres.js";
import { createTempDatabase, dumpDatabase } from "./test-database.js";

/** The backends every cross-backend suite runs over. */
export const STORE_BACKENDS = ["sqlite", "postgres"] as const;

/** One of `STORE_BACKENDS`. */
export type StoreBackendKind = (typeof STORE_BACKENDS)[number];

/** A change-log row as the suites compare it. */
export interface ChangeRow {
  readonly tenant_id: string | null;
  readonly kind: string;
}

/** A fresh, migrated store for one test. */
export interface TestStore {
  readonly kind: StoreBackendKind;
  readonly store: PolicyStore;
  /** The current revision, read outside any transaction. */
  revision(): Promise<number>;
  /** The change-log rows of one revision. */
  changes(revision: number): Promise<ChangeRow[]>;
  /** Every row of every table, as text: equal dumps mean nothing was written. */
  dump(): Promise<string>;
  /** Closes the store and removes its data. */
  cleanup(): Promise<void>;
}

/** Makes test stores of one kind; `close()` stops what it started (the PostgreSQL server). */
export interface StoreBackend {
  readonly kind: StoreBackendKind;
  /** A fresh migrated store, with `catalog` imported when given. */
  create(catalog?: Catalog): Promise<TestStore>;
  close(): Promise<void>;
}

function sqliteBackend(): StoreBackend {
  return {
    kind: "sqlite",
    async create(catalog) {
      const temp = createTempDatabase(catalog);
      return {
        kind: "sqlite",
        store: sqliteStore(temp.db),
        revision: async () => readRevision(temp.db),
        changes: async (revision) =>
          temp.db
            .prepare("SELECT tenant_id, kind FROM change_log WHERE revision = ? ORDER BY rowid")
            .all(revision) as ChangeRow[],
        dump: async () => dumpDatabase(temp.db),
        cleanup: async () => temp.cleanup(),
      };
    },
    async close() {},
  };
}

/** Every row of every table of the store's schema, each table's rows in a content order. */
export function dumpPg(store: PgPolicyStore): Promise<string> {
  return store.readSql(async (query) => {
    const tables = await query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = current_schema() ORDER BY table_name COLLATE "C"`,
    );
    const out: [string, unknown][] = [];
    for (const { name } of tables.rows) {
      const rows = await query<{ rows: unknown }>(
        `SELECT COALESCE(json_agg(r ORDER BY r COLLATE "C"), '[]') AS rows
         FROM (SELECT row_to_json(t)::text AS r FROM "${name}" t) s`,
      );
      out.push([name, rows.rows[0]?.rows]);
    }
    return JSON.stringify(out);
  });
}

/**
 * One server for the backend's suite. Each test gets a copy of a template database, migrated and
 * with the catalog imported once, with its own database id; the copies for the next tests are
 * made while the current one runs (CREATE DATABASE costs ~0.1 s; migrating and importing as much
 * again).
 */
/** How many databases are copied ahead of the tests that will use them. */
const PREFETCH = 2;

function postgresBackend(): StoreBackend {
  let server: Promise<PostgresServer> | undefined;
  let count = 0;
  const templates = new Map<string, Promise<string>>();
  /** Copies being made for the tests to come, of the template last asked for. */
  let ready: { key: string; names: Promise<string>[] } = { key: "", names: [] };

  const templateFor = (pgServer: PostgresServer, catalog: Catalog | undefined): Promise<string> => {
    const key = catalog === undefined ? "none" : catalogHash(catalog);
    let template = templates.get(key);
    if (template === undefined) {
      template = (async () => {
        const name = `template_${templates.size}`;
        const store = await openPgStore(await pgServer.createDatabase(name), { maxConnections: 1 });
        try {
          if (catalog !== undefined) await importCatalogPg(store, catalog);
        } finally {
          await store.close();
        }
        return name;
      })();
      templates.set(key, template);
    }
    return template;
  };

  const copy = async (pgServer: PostgresServer, catalog: Catalog | undefined): Promise<string> => {
    const name = `store_${++count}`;
    await pgServer.createDatabase(name, { template: await templateFor(pgServer, catalog) });
    return name;
  };

  return {
    kind: "postgres",
    async create(catalog) {
      server ??= startPostgres();
      const pgServer = await server;
      const key = catalog === undefined ? "none" : catalogHash(catalog);
      if (ready.key !== key) ready = { key, names: [] };
      while (ready.names.length < PREFETCH + 1) {
        const name = copy(pgServer, catalog);
        name.catch(() => undefined); // awaited by a later create, or by close
        ready.names.push(name);
      }
      const name = await ready.names.shift()!;
      const store = await openPgStore(pgServer.urlOf(name), { maxConnections: 2 });
      // Copies of one template would share its id; a store's id is its identity.
      await store.writeSql((query) =>
        query("UPDATE meta SET database_id = gen_random_uuid()::text WHERE id = 1"),
      );
      return {
        kind: "postgres",
        store,
        revision: () => store.read((tx) => Promise.resolve(tx.revision())),
        changes: (revision) =>
          store.readSql(
            async (query) =>
              (
                await query<{ tenant_id: string | null; kind: string }>(
                  "SELECT tenant_id, kind FROM change_log WHERE revision = $1 ORDER BY seq",
                  [revision],
                )
              ).rows,
          ),
        dump: () => dumpPg(store),
        async cleanup() {
          await store.close();
          await pgServer.dropDatabase(name);
        },
      };
    },
    async close() {
      const started = server;
      server = undefined;
      await Promise.all(ready.names.map((n) => n.catch(() => undefined)));
      ready = { key: "", names: [] };
      await (await started)?.destroy();
    },
  };
}

/** A backend of `kind`; call `close()` after the suite (afterAll). */
export function storeBackend(kind: StoreBackendKind): StoreBackend {
  return kind === "sqlite" ? sqliteBackend() : postgresBackend();
}
