/**
 * Versioned, forward-only schema migrations. Each runs in its own transaction and records itself
 * in `schema_version`; a database written by a newer rolecall is refused rather than misread.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "./database.js";
import { StoreError } from "./store-error.js";

/** One schema step. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly up: (db: Db) => void;
}

const V1_SCHEMA = `
-- One row: which database this is (a new id after a restore) and the policy revision.
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  database_id TEXT NOT NULL,
  revision INTEGER NOT NULL CHECK (revision >= 0),
  catalog_hash TEXT
);

-- The catalog, as last imported. Tenant data does not reference it by foreign key, so a new
-- catalog can replace it wholesale.
CREATE TABLE catalog_systems (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role_administration TEXT NOT NULL, -- JSON array of qualified keys
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
  pages TEXT NOT NULL, -- JSON array
  status TEXT NOT NULL CHECK (status IN ('active', 'unused')),
  mutual INTEGER NOT NULL,
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
  expr TEXT NOT NULL -- JSON RequirementExpr over qualified keys
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
  requires TEXT NOT NULL, -- JSON RequirementExpr
  position INTEGER NOT NULL
);
CREATE TABLE catalog_default_roles (
  system_id TEXT NOT NULL REFERENCES catalog_systems(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  grants TEXT NOT NULL, -- JSON arrays of qualified ids
  required TEXT NOT NULL,
  licenses TEXT NOT NULL,
  template INTEGER NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (system_id, id)
);

CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created_at TEXT NOT NULL
);
CREATE TABLE tenant_systems (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  system_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, system_id)
);
CREATE TABLE license_pools (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  license_id TEXT NOT NULL,
  seats INTEGER NOT NULL CHECK (seats >= 0),
  PRIMARY KEY (tenant_id, license_id)
);
CREATE TABLE users (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE roles (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  name TEXT NOT NULL COLLATE NOCASE,
  kind TEXT NOT NULL CHECK (kind IN ('default', 'custom')),
  based_on TEXT,
  default_system TEXT,
  default_role TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);
CREATE TABLE role_grants (
  tenant_id TEXT NOT NULL,
  role_id TEXT NOT NULL,
  permission_key TEXT NOT NULL,
  PRIMARY KEY (tenant_id, role_id, permission_key),
  FOREIGN KEY (tenant_id, role_id) REFERENCES roles(tenant_id, id) ON DELETE CASCADE
);
CREATE TABLE role_licenses (
  tenant_id TEXT NOT NULL,
  role_id TEXT NOT NULL,
  license_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, role_id, license_id),
  FOREIGN KEY (tenant_id, role_id) REFERENCES roles(tenant_id, id) ON DELETE CASCADE
);
-- No cascade from roles: deleting a held role must fail, in SQL as in the admin rules.
CREATE TABLE user_roles (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, user_id, role_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, role_id) REFERENCES roles(tenant_id, id)
);
CREATE INDEX user_roles_by_role ON user_roles (tenant_id, role_id);

-- What each revision changed, so a sidecar recompiles only the tenants concerned.
-- tenant_id NULL means "everything" (catalog import, restore).
CREATE TABLE change_log (
  revision INTEGER NOT NULL,
  tenant_id TEXT,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL -- JSON
);
CREATE INDEX change_log_by_revision ON change_log (revision);

-- Only the SHA-256 of a token is kept; the plaintext is shown once.
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

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  tenant_id TEXT,
  operation TEXT NOT NULL,
  before TEXT, -- JSON
  after TEXT, -- JSON
  revision INTEGER NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);

-- Customer web apps the browser extension overlays (the extension issue).
CREATE TABLE app_registrations (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  app_id TEXT NOT NULL,
  name TEXT NOT NULL,
  base_url TEXT NOT NULL,
  url_patterns TEXT NOT NULL, -- JSON [{pattern, surfaces: [qualified surface ids]}]
  selector_overrides TEXT NOT NULL, -- JSON {surfaceId: selector}
  subject_source TEXT NOT NULL, -- JSON: where the page's user id comes from
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, app_id)
);
`;

/** The indexes of schema v4, the same on PostgreSQL (pg-schema.ts). */
export const HISTORY_INDEXES = `
CREATE INDEX audit_log_by_time ON audit_log (time);
CREATE INDEX audit_log_by_operation ON audit_log (operation, revision);
CREATE INDEX change_log_by_tenant ON change_log (tenant_id, revision);
`;

/**
 * A tenant's own systems (PutSystem): the document as put, in the catalog files' schema, without
 * its defaults filled in. The system's id is also in `tenant_systems`, as a vendor system a
 * tenant enables is. The same text serves PostgreSQL (pg-schema.ts).
 */
export const CUSTOM_SYSTEMS_TABLE = `CREATE TABLE custom_systems (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  system_id TEXT NOT NULL,
  document TEXT NOT NULL, -- JSON
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, system_id)
)`;

/** Every migration, in order. Append only: a released step is never edited. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "initial schema",
    up: (db) => {
      db.exec(V1_SCHEMA);
      db.prepare("INSERT INTO meta (id, database_id, revision) VALUES (1, ?, 0)").run(randomUUID());
    },
  },
  {
    version: 2,
    description: "tenant owners",
    // An owner may be named before the user exists (a tenant's users come after it): no user FK.
    up: (db) =>
      db.exec(`CREATE TABLE tenant_owners (
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
      )`),
  },
  {
    version: 3,
    description: "copy marker",
    // Set on a sidecar's local copy of a PostgreSQL primary (its host:port): such a file is not
    // written by local tools, only by the follower that keeps it in step with the primary.
    up: (db) => db.exec("ALTER TABLE meta ADD COLUMN primary_address TEXT"),
  },
  {
    version: 4,
    description: "history indexes",
    // History (history/) asks which write came first after a time, where history was pruned,
    // and when the last store-wide change was: each an index lookup rather than a table scan.
    up: (db) => db.exec(HISTORY_INDEXES),
  },
  {
    version: 5,
    description: "service tokens",
    // A third principal kind: a tenant's service (a PEP) asks decisions about any of its users.
    // SQLite cannot change a CHECK in place: the table is rebuilt (nothing references it).
    up: (db) =>
      db.exec(`CREATE TABLE admin_tokens_v5 (
        hash TEXT PRIMARY KEY,
        principal_kind TEXT NOT NULL CHECK (principal_kind IN ('bootstrap', 'user', 'service')),
        tenant_id TEXT,
        user_id TEXT,
        label TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        revoked_at TEXT,
        service_name TEXT,
        explanations INTEGER NOT NULL DEFAULT 0 CHECK (explanations IN (0, 1)),
        CHECK ((principal_kind = 'user') = (tenant_id IS NOT NULL AND user_id IS NOT NULL)),
        CHECK ((principal_kind = 'service') = (tenant_id IS NOT NULL AND service_name IS NOT NULL))
      );
      INSERT INTO admin_tokens_v5 (hash, principal_kind, tenant_id, user_id, label, created_at, revoked_at)
        SELECT hash, principal_kind, tenant_id, user_id, label, created_at, revoked_at FROM admin_tokens;
      DROP TABLE admin_tokens;
      ALTER TABLE admin_tokens_v5 RENAME TO admin_tokens;`),
  },
  {
    version: 6,
    description: "copy read time",
    // On a copy: when its follower last read the primary (epoch ms), so that a sidecar restarted
    // while the primary is down counts staleness from then, not from its own start.
    up: (db) => db.exec("ALTER TABLE meta ADD COLUMN primary_read_at INTEGER"),
  },
  {
    version: 7,
    description: "custom systems",
    up: (db) => db.exec(CUSTOM_SYSTEMS_TABLE),
  },
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Options of `migrate`. */
export interface MigrateOptions {
  /** Returns the current time; recorded per applied step. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** The steps to apply (tests pass their own). Default `MIGRATIONS`. */
  readonly migrations?: readonly Migration[];
}

/** The schema version recorded in the database: 0 for a fresh file, `null` for a file that is not a rolecall database. */
export function readSchemaVersion(db: Db): number | null {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[];
  if (!tables.includes("schema_version")) return tables.length === 0 ? 0 : null;
  const version = db.prepare("SELECT MAX(version) FROM schema_version").pluck().get() as number | null;
  return version ?? 0;
}

function refuseNewer(version: number, supported: number): never {
  throw new StoreError(
    "FAILED_PRECONDITION",
    `the policy database is at schema version ${version}, newer than this rolecall supports (${supported}); upgrade rolecall or restore an older backup`,
  );
}

/** Brings a read-write database up to the code's schema version; returns the versions before and after. */
export function migrate(db: Db, options: MigrateOptions = {}): { from: number; to: number } {
  const clock = options.clock ?? (() => new Date());
  const migrations = options.migrations ?? MIGRATIONS;
  const target = migrations[migrations.length - 1]?.version ?? 0;
  // IMMEDIATE: two processes starting at once must not both apply the same step.
  const run = db.transaction(() => {
    const from = readSchemaVersion(db);
    if (from === null) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        "this file is not a rolecall database (it has tables but no schema_version); point ROLECALL_DB elsewhere",
      );
    }
    if (from > target) refuseNewer(from, target);
    if (from === 0) {
      db.exec(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
      );
    }
    return from;
  });
  const from = run.immediate();
  for (const step of migrations) {
    const apply = db.transaction(() => {
      // Re-read inside the lock: another process may have applied this step meanwhile.
      const current = readSchemaVersion(db) ?? 0;
      if (current >= step.version) return;
      step.up(db);
      db.prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)").run(
        step.version,
        step.description,
        clock().toISOString(),
      );
    });
    apply.immediate();
  }
  return { from, to: target };
}

/** Throws unless the database is exactly at the code's schema version (for read-only connections, which cannot migrate). */
export function assertSchemaCurrent(db: Db): void {
  const version = readSchemaVersion(db);
  if (version === null || version === 0) {
    throw new StoreError("FAILED_PRECONDITION", "the file is not an initialized rolecall database");
  }
  if (version > SCHEMA_VERSION) refuseNewer(version, SCHEMA_VERSION);
  if (version < SCHEMA_VERSION) {
    throw new StoreError(
      "UNAVAILABLE",
      `the policy database is at schema version ${version}; it needs migrating to ${SCHEMA_VERSION} by a read-write rolecall first`,
    );
  }
}
