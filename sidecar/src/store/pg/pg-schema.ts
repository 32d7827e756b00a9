/**
 * The PostgreSQL schema of the store of record, and its forward-only migrations. It holds the
 * same data as the SQLite schema (migrations.ts), under the same table and column names, so that
 * copying a store and applying changes into a local SQLite copy move rows column for column:
 *
 * - JSON, times and flags keep SQLite's representation (JSON and ISO-8601 as TEXT, flags as
 *   0/1 INTEGER): audit rows read back byte for byte, and a row from PostgreSQL binds into
 *   better-sqlite3 as it is (which binds no booleans).
 * - Rows that SQLite orders by `rowid` (insertion order) get an explicit identity column `seq`.
 * - SQLite's `COLLATE NOCASE` (ASCII case folding) is `rolecall_nocase()` in unique indexes and
 *   lookups, so "Acme" and "ACME" clash on both backends and "É" and "é" on neither.
 *
 * Version numbers match SQLite's: a PostgreSQL database at version N holds what a SQLite file at
 * version N holds. Migrations run under an advisory lock, so sidecars starting together do not race.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { CUSTOM_SYSTEMS_TABLE, HISTORY_INDEXES } from "../migrations.js";
import { StoreError } from "../store-error.js";

/** One forward-only schema step, run inside the migration's transaction. */
export interface PgMigration {
  readonly version: number;
  readonly description: string;
  readonly up: (client: pg.ClientBase) => Promise<void>;
}

const V1_SCHEMA = `
-- SQLite's NOCASE: ASCII letters only, whatever the database's locale.
CREATE FUNCTION rolecall_nocase(text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;

CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  database_id TEXT NOT NULL,
  revision BIGINT NOT NULL CHECK (revision >= 0),
  catalog_hash TEXT
);

CREATE TABLE catalog_systems (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role_administration TEXT NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE catalog_categories (
  system_id TEXT NOT NULL REFERENCES catalog_systems(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (system_id, id)
);
CREATE TABLE catalog_licenses (
  id TEXT PRIMARY KEY,
  system_id TEXT NOT NULL REFERENCES catalog_systems(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE catalog_permissions (
  key TEXT PRIMARY KEY,
  system_id TEXT NOT NULL REFERENCES catalog_systems(id) ON DELETE CASCADE,
  local_key TEXT NOT NULL,
  name TEXT NOT NULL,
  category TEXT NOT NULL,
  category_name TEXT NOT NULL,
  summary TEXT NOT NULL,
  pages TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'unused')),
  mutual INTEGER NOT NULL CHECK (mutual IN (0, 1)),
  scope TEXT CHECK (scope IN ('all', 'self')),
  position INTEGER NOT NULL
);
CREATE TABLE catalog_permission_licenses (
  permission_key TEXT NOT NULL REFERENCES catalog_permissions(key) ON DELETE CASCADE,
  license_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (permission_key, license_id)
);
CREATE TABLE catalog_requirements (
  permission_key TEXT PRIMARY KEY REFERENCES catalog_permissions(key) ON DELETE CASCADE,
  expr TEXT NOT NULL
);
CREATE TABLE catalog_implications (
  permission_key TEXT NOT NULL REFERENCES catalog_permissions(key) ON DELETE CASCADE,
  implied_key TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (permission_key, implied_key)
);
CREATE TABLE catalog_surfaces (
  id TEXT PRIMARY KEY,
  system_id TEXT NOT NULL REFERENCES catalog_systems(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  kind TEXT NOT NULL,
  location TEXT NOT NULL,
  url_pattern TEXT NOT NULL,
  selector TEXT NOT NULL,
  requires TEXT NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE catalog_default_roles (
  system_id TEXT NOT NULL REFERENCES catalog_systems(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  grants TEXT NOT NULL,
  required TEXT NOT NULL,
  licenses TEXT NOT NULL,
  template INTEGER NOT NULL CHECK (template IN (0, 1)),
  position INTEGER NOT NULL,
  PRIMARY KEY (system_id, id)
);

CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX tenants_name_nocase ON tenants (rolecall_nocase(name));
CREATE TABLE tenant_systems (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  system_id TEXT NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, system_id)
);
CREATE TABLE license_pools (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  license_id TEXT NOT NULL,
  seats BIGINT NOT NULL CHECK (seats >= 0),
  PRIMARY KEY (tenant_id, license_id)
);
CREATE TABLE users (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE roles (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('default', 'custom')),
  based_on TEXT,
  default_system TEXT,
  default_role TEXT,
  created_at TEXT NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX roles_name_nocase ON roles (tenant_id, rolecall_nocase(name));
CREATE TABLE role_grants (
  tenant_id TEXT NOT NULL,
  role_id TEXT NOT NULL,
  permission_key TEXT NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, role_id, permission_key),
  FOREIGN KEY (tenant_id, role_id) REFERENCES roles(tenant_id, id) ON DELETE CASCADE
);
CREATE TABLE role_licenses (
  tenant_id TEXT NOT NULL,
  role_id TEXT NOT NULL,
  license_id TEXT NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, role_id, license_id),
  FOREIGN KEY (tenant_id, role_id) REFERENCES roles(tenant_id, id) ON DELETE CASCADE
);
-- No cascade from roles: deleting a held role must fail, in SQL as in the admin rules.
CREATE TABLE user_roles (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role_id TEXT NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, user_id, role_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, role_id) REFERENCES roles(tenant_id, id)
);
CREATE INDEX user_roles_by_role ON user_roles (tenant_id, role_id);

-- tenant_id NULL means "everything" (catalog import, restore).
CREATE TABLE change_log (
  revision BIGINT NOT NULL,
  tenant_id TEXT,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX change_log_by_revision ON change_log (revision);

CREATE TABLE admin_tokens (
  hash TEXT PRIMARY KEY,
  principal_kind TEXT NOT NULL CHECK (principal_kind IN ('bootstrap', 'user')),
  tenant_id TEXT,
  user_id TEXT,
  label TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  revoked_at TEXT,
  CHECK ((principal_kind = 'user') = (tenant_id IS NOT NULL AND user_id IS NOT NULL))
);

-- BY DEFAULT, not ALWAYS: copying a store keeps audit ids (they are page tokens).
CREATE TABLE audit_log (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  tenant_id TEXT,
  operation TEXT NOT NULL,
  before TEXT,
  after TEXT,
  revision BIGINT NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);

CREATE TABLE app_registrations (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  app_id TEXT NOT NULL,
  name TEXT NOT NULL,
  base_url TEXT NOT NULL,
  url_patterns TEXT NOT NULL,
  selector_overrides TEXT NOT NULL,
  subject_source TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, app_id)
);
`;

/** Every PostgreSQL migration, in order, numbered as SQLite's. Append only: a released step is never edited. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: "initial schema",
    up: async (client) => {
      await client.query(V1_SCHEMA);
      await client.query("INSERT INTO meta (id, database_id, revision) VALUES (1, $1, 0)", [randomUUID()]);
    },
  },
  {
    version: 2,
    description: "tenant owners",
    // An owner may be named before the user exists (a tenant's users come after it): no user FK.
    up: async (client) => {
      await client.query(`CREATE TABLE tenant_owners (
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
      )`);
    },
  },
  {
    version: 3,
    description: "copy marker",
    // Meaningful on a SQLite copy only (whose primary it follows); kept so both schemas number alike.
    up: async (client) => {
      await client.query("ALTER TABLE meta ADD COLUMN primary_address TEXT");
    },
  },
  {
    version: 4,
    description: "history indexes",
    // The same indexes as SQLite's v4: history's lookups by time, operation and store-wide change.
    up: async (client) => {
      await client.query(HISTORY_INDEXES);
    },
  },
  {
    version: 5,
    description: "service tokens",
    // As SQLite's step 5: a tenant's service (a PEP) is a third principal kind. The CHECKs of
    // version 1 carry PostgreSQL's default names.
    up: async (client) => {
      await client.query(`ALTER TABLE admin_tokens
        DROP CONSTRAINT admin_tokens_principal_kind_check,
        DROP CONSTRAINT admin_tokens_check,
        ADD COLUMN service_name TEXT,
        ADD COLUMN explanations INTEGER NOT NULL DEFAULT 0 CHECK (explanations IN (0, 1)),
        ADD CHECK (principal_kind IN ('bootstrap', 'user', 'service')),
        ADD CHECK ((principal_kind = 'user') = (tenant_id IS NOT NULL AND user_id IS NOT NULL)),
        ADD CHECK ((principal_kind = 'service') = (tenant_id IS NOT NULL AND service_name IS NOT NULL))`);
    },
  },
  {
    version: 6,
    description: "copy read time",
    // Meaningful on a SQLite copy only (when it last read its primary); kept so both schemas number alike.
    up: async (client) => {
      await client.query("ALTER TABLE meta ADD COLUMN primary_read_at BIGINT");
    },
  },
  {
    version: 7,
    description: "custom systems",
    up: async (client) => {
      await client.query(CUSTOM_SYSTEMS_TABLE);
    },
  },
];

/** The schema version this code reads and writes on PostgreSQL. */
export const PG_SCHEMA_VERSION: number = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]?.version ?? 0;

/** Held (for its transaction) by whoever migrates this database. */
const MIGRATION_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('rolecall:migrate', 0))";

/** Options of `migratePg`. */
export interface PgMigrateOptions {
  /** Returns the current time; recorded per applied step. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** The steps to apply (tests pass their own). Default `PG_MIGRATIONS`. */
  readonly migrations?: readonly PgMigration[];
  /** How long to wait for another migrator, and for each statement, in ms. Default `60000`. */
  readonly timeoutMs?: number;
}

/**
 * The schema version recorded in the database's current schema: 0 for an empty one, `null` for
 * one that holds tables but is not a rolecall database.
 */
export async function readPgSchemaVersion(client: pg.ClientBase): Promise<number | null> {
  const tables = await client.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()",
  );
  const names = tables.rows.map((r) => r.name);
  if (!names.includes("schema_version")) return names.length === 0 ? 0 : null;
  const row = await client.query<{ version: number | null }>(
    "SELECT MAX(version) AS version FROM schema_version",
  );
  return row.rows[0]?.version ?? 0;
}

/** The refusal of a database migrated by a newer rolecall. */
export function newerSchemaError(version: number, supported: number): StoreError {
  return new StoreError(
    "FAILED_PRECONDITION",
    `the PostgreSQL database is at schema version ${version}, newer than this rolecall supports (${supported}); upgrade rolecall`,
  );
}

/**
 * Brings the database up to the code's schema version in one transaction, under an advisory
 * lock (a second sidecar starting at the same time waits, then finds nothing to do). Returns the
 * versions before and after.
 */
export async function migratePg(
  client: pg.ClientBase,
  options: PgMigrateOptions = {},
): Promise<{ from: number; to: number }> {
  const clock = options.clock ?? (() => new Date());
  const migrations = options.migrations ?? PG_MIGRATIONS;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const target = migrations[migrations.length - 1]?.version ?? 0;
  await client.query("BEGIN ISOLATION LEVEL READ COMMITTED");
  try {
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.trunc(timeoutMs))}`);
    await client.query(MIGRATION_LOCK_SQL);
    // Read after taking the lock: whoever held it before may have migrated meanwhile.
    const from = await readPgSchemaVersion(client);
    if (from === null) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        "this PostgreSQL database is not a rolecall database (it has tables but no schema_version); point --primary at an empty database",
      );
    }
    if (from > target) throw newerSchemaError(from, target);
    if (from === 0) {
      await client.query(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
      );
    }
    for (const step of migrations) {
      if (step.version <= from) continue;
      await step.up(client);
      await client.query(
        "INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)",
        [step.version, step.description, clock().toISOString()],
      );
    }
    await client.query("COMMIT");
    return { from, to: target };
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}
