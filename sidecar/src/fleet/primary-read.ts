/**
 * The follower's reads of the primary, in few round trips: one statement for the head (meta,
 * the token fingerprint and the change log above the copy's revision), and one for all the rows
 * a plan names — every table a column of one result row, each a JSON array of rows in insertion
 * order, each row an array of the copy's columns. Both run in the follower's one REPEATABLE READ
 * transaction, so they see one revision.
 */
import type { Db } from "../store/database.js";
import type { PgQuery } from "../store/pg/pg-policy-store.js";
import type { ChangePlan } from "./change-plan.js";
import { CATALOG_TABLES, LOG_TABLES, type StoreTable, sqliteColumns, TENANT_TABLES } from "./store-tables.js";

/** A row as an array of the copy's columns, in their order. */
export type RowValues = readonly unknown[];

/** Every table the follower copies, with the copy's columns. */
export type CopyColumns = ReadonlyMap<string, readonly string[]>;

/** The columns of every copied table, as the copy's SQLite schema has them. */
export function copyColumns(db: Db): CopyColumns {
  const tables = [...CATALOG_TABLES, ...TENANT_TABLES, ...Object.values(LOG_TABLES)];
  return new Map(tables.map((t) => [t.name, sqliteColumns(db, t.name)]));
}

/** The primary's state, and its change log above the copy's revision when the copy is of it. */
export interface PrimaryHead {
  readonly database_id: string;
  readonly revision: number;
  readonly catalog_hash: string | null;
  /** Changes with token rows (issued, revoked) — tokens do not move the revision. */
  readonly tokens: string;
  /** change_log rows above the copy's revision; null when the copy is of another database. */
  readonly changes: RowValues[] | null;
}

/** One table's rows as a JSON array (of arrays), for a column of a SELECT. */
function jsonRows(table: StoreTable, columns: readonly string[], where: string): string {
  const values = columns.map((c) => `"${c}"`).join(", ");
  return `(SELECT coalesce(json_agg(json_build_array(${values}) ORDER BY ${table.order}), '[]'::json)
    FROM ${table.name} WHERE ${where})`;
}

/** The token table's fingerprint: tokens are issued and revoked without moving the revision. */
const TOKENS_FINGERPRINT = `(SELECT count(*) || ':' || coalesce(max(created_at), '') || ':' || coalesce(max(revoked_at), '')
  FROM admin_tokens)`;

/** Reads the head: one statement. */
export async function readHead(
  query: PgQuery,
  columns: CopyColumns,
  local: { readonly databaseId: string; readonly revision: number },
): Promise<PrimaryHead> {
  const changes = jsonRows(LOG_TABLES.changeLog, columns.get("change_log")!, "revision > $2");
  const head = (
    await query<PrimaryHead>(
      `SELECT m.database_id, m.revision, m.catalog_hash,
         ${TOKENS_FINGERPRINT} AS tokens,
         CASE WHEN m.database_id = $1 AND m.revision > $2 THEN ${changes} END AS changes
       FROM meta m WHERE m.id = 1`,
      [local.databaseId, local.revision],
      { prepared: true },
    )
  ).rows[0];
  if (head === undefined) throw new Error("the primary has no meta row; it is damaged");
  return head;
}

/** Rows read for a plan, per table name (tables not read are absent). */
export type TableRows = ReadonlyMap<string, RowValues[]>;

interface TableRead {
  readonly table: StoreTable;
  readonly where: string;
}

/** Tables read by one statement, and the head that statement saw. */
interface TablesRead {
  readonly tables: Map<string, RowValues[]>;
  /** The primary's revision, database id, catalog hash and token fingerprint in the statement's snapshot. */
  readonly revision: number;
  readonly databaseId: string;
  readonly catalogHash: string | null;
  readonly tokens: string;
}

async function readTables(
  query: PgQuery,
  columns: CopyColumns,
  reads: readonly TableRead[],
  params: readonly unknown[],
): Promise<TablesRead> {
  const select = reads.map((r, i) => `${jsonRows(r.table, columns.get(r.table.name)!, r.where)} AS t${i}`);
  // The revision in the same snapshot: a read outside a transaction checks it matches the head.
  select.push("(SELECT revision FROM meta WHERE id = 1) AS at_revision");
  select.push("(SELECT database_id FROM meta WHERE id = 1) AS at_database");
  select.push("(SELECT catalog_hash FROM meta WHERE id = 1) AS at_catalog");
  select.push(`${TOKENS_FINGERPRINT} AS at_tokens`);
  const row = (
    await query<Record<string, unknown>>(`SELECT ${select.join(",\n")}`, [...params], { prepared: true })
  ).rows[0]!;
  return {
    tables: new Map(reads.map((r, i) => [r.table.name, (row[`t${i}`] as RowValues[] | null) ?? []])),
    revision: Number(row.at_revision),
    databaseId: row.at_database as string,
    catalogHash: row.at_catalog as string | null,
    tokens: row.at_tokens as string,
  };
}

/** The catalog's tables. */
export async function readCatalog(query: PgQuery, columns: CopyColumns): Promise<TableRows> {
  const reads = CATALOG_TABLES.map((table) => ({ table, where: "TRUE" }));
  return (await readTables(query, columns, reads, [])).tables;
}

/** The token table. */
export async function readTokens(query: PgQuery, columns: CopyColumns): Promise<RowValues[]> {
  return (
    (await readTables(query, columns, [{ table: LOG_TABLES.adminTokens, where: "TRUE" }], [])).tables.get(
      "admin_tokens",
    ) ?? []
  );
}

const PAIRS = (a: number, b: number) => `(SELECT t, i FROM unnest($${a}::text[], $${b}::text[]) AS p(t, i))`;

/**
 * The rows a (not full) plan names: each planned tenant's row; the own rows of tenants copied
 * whole or with `tenantRows`; the named roles and users (all of them for a whole tenant) with
 * their grants, licenses and assignments; audit rows above `auditAbove`; the tokens if asked.
 * One statement, so one snapshot: with the revision it saw, which the caller compares with the
 * head's when it reads outside a transaction.
 */
export function readPlanned(
  query: PgQuery,
  columns: CopyColumns,
  plan: ChangePlan,
  auditAbove: number,
  tokens: boolean,
): Promise<TablesRead> {
  const planned = [...plan.tenants.entries()];
  const ids = (keep: (p: (typeof planned)[number][1]) => boolean) =>
    planned.filter(([, p]) => keep(p)).map(([id]) => id);
  const pairs = (pick: (p: (typeof planned)[number][1]) => Iterable<string>) => {
    const tenants: string[] = [];
    const keys: string[] = [];
    for (const [id, p] of planned) {
      if (p.whole) continue;
      for (const key of pick(p)) {
        tenants.push(id);
        keys.push(key);
      }
    }
    return [tenants, keys];
  };
  const [roleTenants, roleIds] = pairs((p) => (p.allRoles ? [] : p.roles));
  const [userTenants, userIds] = pairs((p) => p.users);
  const params = [
    planned.map(([id]) => id), // $1 every planned tenant
    ids((p) => p.whole || p.tenantRows), // $2 own rows
    ids((p) => p.whole || p.allRoles), // $3 every role
    roleTenants, // $4, $5 named roles
    roleIds,
    ids((p) => p.whole), // $6 every user
    userTenants, // $7, $8 named users
    userIds,
    auditAbove, // $9
    tokens, // $10
  ];
  const ownRows = "tenant_id = ANY($2::text[])";
  const roles = (column: string) => `tenant_id = ANY($3::text[]) OR (tenant_id, ${column}) IN ${PAIRS(4, 5)}`;
  const users = (column: string) => `tenant_id = ANY($6::text[]) OR (tenant_id, ${column}) IN ${PAIRS(7, 8)}`;
  const where: Record<string, string> = {
    tenants: "id = ANY($1::text[])",
    tenant_systems: ownRows,
    tenant_owners: ownRows,
    license_pools: ownRows,
    app_registrations: ownRows,
    custom_systems: ownRows,
    roles: roles("id"),
    role_grants: roles("role_id"),
    role_licenses: roles("role_id"),
    users: users("id"),
    user_roles: users("user_id"),
  };
  return readTables(
    query,
    columns,
    [
      ...TENANT_TABLES.map((table) => ({ table, where: where[table.name]! })),
      { table: LOG_TABLES.auditLog, where: "id > $9" },
      { table: LOG_TABLES.adminTokens, where: "$10::boolean" },
    ],
    params,
  );
}
