/**
 * The tables of a policy store as rows to move between backends: which rows belong to a tenant,
 * in which order they were written (SQLite's rowid is PostgreSQL's `seq`), and in which order to
 * insert them so that foreign keys hold. Both schemas use the same table and column names.
 */
import type { Db } from "../store/database.js";
import type { PgQuery } from "../store/pg/pg-policy-store.js";

/** A row as both drivers return it: column name → value. */
export type Row = Record<string, unknown>;

/** One table of the store. */
export interface StoreTable {
  readonly name: string;
  /** The PostgreSQL ORDER BY that reproduces SQLite's insertion (rowid) order. */
  readonly order: string;
}

const t = (name: string, order: string): StoreTable => ({ name, order });

/** The catalog's tables, parents first (children cascade from catalog_systems). */
export const CATALOG_TABLES: readonly StoreTable[] = [
  t("catalog_systems", "position, id"),
  t("catalog_categories", "system_id, position"),
  t("catalog_licenses", "position, id"),
  t("catalog_permissions", "position, key"),
  t("catalog_permission_licenses", "permission_key, position"),
  t("catalog_requirements", "permission_key"),
  t("catalog_implications", "permission_key, implied_key"),
  t("catalog_surfaces", "position, id"),
  t("catalog_default_roles", "system_id, position"),
];

/** A tenant's tables, parents first (every one cascades from `tenants`). */
export const TENANT_TABLES: readonly StoreTable[] = [
  t("tenants", "id"),
  t("tenant_systems", "seq"),
  t("tenant_owners", "user_id"),
  t("license_pools", "license_id"),
  t("users", "id"),
  t("roles", "seq"),
  t("role_grants", "seq"),
  t("role_licenses", "seq"),
  t("user_roles", "seq"),
  t("app_registrations", "app_id"),
  t("custom_systems", "system_id"),
];

/** The tables written around the policy: the change log, the audit log and API tokens. */
export const LOG_TABLES = {
  changeLog: t("change_log", "revision, seq"),
  auditLog: t("audit_log", "id"),
  adminTokens: t("admin_tokens", "created_at, hash"),
} as const;

/** A table's columns as the SQLite schema has them (the rows moved carry exactly these). */
export function sqliteColumns(db: Db, table: string): string[] {
  const columns = db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[];
  if (columns.length === 0) throw new Error(`the SQLite store has no table '${table}'`);
  return columns;
}

/** Reads rows of `table` from PostgreSQL in insertion order (`where` with $1.. parameters). */
export async function readPgRows(
  query: PgQuery,
  table: StoreTable,
  columns: readonly string[],
  where = "TRUE",
  params: readonly unknown[] = [],
): Promise<Row[]> {
  const list = columns.map((c) => `"${c}"`).join(", ");
  const result = await query(
    `SELECT ${list} FROM ${table.name} WHERE ${where} ORDER BY ${table.order}`,
    params,
  );
  return result.rows;
}

/** Inserts rows into a SQLite table, in the order given. */
export function insertSqliteRows(
  db: Db,
  table: string,
  columns: readonly string[],
  rows: readonly Row[],
): void {
  if (rows.length === 0) return;
  const insert = db.prepare(
    `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
  );
  for (const row of rows) insert.run(...columns.map((c) => row[c] ?? null));
}
