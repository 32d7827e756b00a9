/**
 * Writes what the follower read from the primary into the local SQLite copy, inside the one
 * transaction the follower opens for a revision (so it lands whole or not at all). Statements
 * are prepared once per copy and kept.
 *
 * A tenant is updated in place where it can be: its own rows are replaced, the roles and users
 * named are deleted and inserted again as the primary has them. Roles are listed in insertion
 * order (rowid), so a role that is rewritten keeps its rowid — unless the primary deleted and
 * created it again (a new `created_at`), when it moves to the end as it did on the primary.
 */
import type { Statement } from "better-sqlite3";
import type { Db } from "../store/database.js";
import type { TenantPlan } from "./change-plan.js";
import type { CopyColumns, RowValues, TableRows } from "./primary-read.js";
import { CATALOG_TABLES, TENANT_TABLES } from "./store-tables.js";

/** A tenant's own rows besides its `tenants` row (replaced together). */
const OWN_TABLES = [
  "tenant_systems",
  "tenant_owners",
  "license_pools",
  "app_registrations",
  "custom_systems",
] as const;

/** Rows of one table grouped by tenant id, in the order read. */
type ByTenant = Map<string, RowValues[]>;

/** Writes into one copy; call inside a transaction. */
export class CopyWriter {
  readonly #db: Db;
  readonly #columns: CopyColumns;
  readonly #statements = new Map<string, Statement>();

  constructor(db: Db, columns: CopyColumns) {
    this.#db = db;
    this.#columns = columns;
  }

  #stmt(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #cols(table: string): readonly string[] {
    const columns = this.#columns.get(table);
    if (columns === undefined) throw new Error(`the copy has no table '${table}'`);
    return columns;
  }

  /** Inserts rows (arrays in the copy's column order), with an explicit rowid when `rowids` gives one. */
  insert(table: string, rows: readonly RowValues[]): void {
    if (rows.length === 0) return;
    const columns = this.#cols(table);
    const insert = this.#stmt(
      `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
    );
    for (const row of rows) insert.run(...row);
  }

  #insertWithRowid(table: string, row: RowValues, rowid: number | null): void {
    const columns = this.#cols(table);
    this.#stmt(
      `INSERT INTO ${table} (rowid, ${columns.map((c) => `"${c}"`).join(", ")}) VALUES (?, ${columns.map(() => "?").join(", ")})`,
    ).run(rowid, ...row);
  }

  /** Replaces the catalog. */
  replaceCatalog(rows: TableRows): void {
    this.#stmt("DELETE FROM catalog_systems").run(); // its children cascade
    for (const t of CATALOG_TABLES) this.insert(t.name, rows.get(t.name) ?? []);
  }

  /** Replaces the API tokens. */
  replaceTokens(rows: readonly RowValues[]): void {
    this.#stmt("DELETE FROM admin_tokens").run();
    this.insert("admin_tokens", rows);
  }

  /** Groups each tenant table's rows by tenant. */
  groupByTenant(rows: TableRows): Map<string, ByTenant> {
    const grouped = new Map<string, ByTenant>();
    for (const t of TENANT_TABLES) {
      const at = this.#cols(t.name).indexOf(t.name === "tenants" ? "id" : "tenant_id");
      const byTenant: ByTenant = new Map();
      for (const row of rows.get(t.name) ?? []) {
        const id = row[at] as string;
        const list = byTenant.get(id);
        if (list === undefined) byTenant.set(id, [row]);
        else list.push(row);
      }
      grouped.set(t.name, byTenant);
    }
    return grouped;
  }

  /** Whether the copy holds this tenant. */
  hasTenant(tenantId: string): boolean {
    return this.#stmt("SELECT 1 FROM tenants WHERE id = ?").get(tenantId) !== undefined;
  }

  /** Brings one tenant to the primary's rows (`rows`: grouped by groupByTenant). */
  applyTenant(tenantId: string, plan: TenantPlan, rows: Map<string, ByTenant>): void {
    const of = (table: string) => rows.get(table)?.get(tenantId) ?? [];
    const tenantRow = of("tenants")[0];
    // A tenant the copy does not hold is planned whole by the follower (it reads all its rows).
    if (plan.whole || tenantRow === undefined) {
      this.#stmt("DELETE FROM tenants WHERE id = ?").run(tenantId); // everything cascades
      if (tenantRow === undefined) return; // gone on the primary (a restore)
      for (const t of TENANT_TABLES) this.insert(t.name, of(t.name));
      return;
    }
    if (plan.tenantRows) {
      const columns = this.#cols("tenants").filter((c) => c !== "id");
      const at = this.#cols("tenants");
      this.#stmt(`UPDATE tenants SET ${columns.map((c) => `"${c}" = ?`).join(", ")} WHERE id = ?`).run(
        ...columns.map((c) => tenantRow[at.indexOf(c)]),
        tenantId,
      );
      for (const table of OWN_TABLES) {
        this.#stmt(`DELETE FROM ${table} WHERE tenant_id = ?`).run(tenantId);
        this.insert(table, of(table));
      }
    }
    this.#applyRoles(tenantId, plan, of);
    this.#applyUsers(tenantId, plan, of);
  }

  #applyRoles(tenantId: string, plan: TenantPlan, of: (table: string) => RowValues[]): void {
    if (!plan.allRoles && plan.roles.size === 0) return;
    const columns = this.#cols("roles");
    const idAt = columns.indexOf("id");
    const createdAt = columns.indexOf("created_at");
    const fresh = of("roles");
    const ids = plan.allRoles
      ? new Set([
          ...(this.#stmt("SELECT id FROM roles WHERE tenant_id = ?").pluck().all(tenantId) as string[]),
          ...fresh.map((r) => r[idAt] as string),
        ])
      : plan.roles;
    // The rowid of each role that stays where it is.
    const kept = new Map<string, { rowid: number; created_at: string }>();
    for (const id of ids) {
      const row = this.#stmt("SELECT rowid, created_at FROM roles WHERE tenant_id = ? AND id = ?").get(
        tenantId,
        id,
      ) as { rowid: number; created_at: string } | undefined;
      if (row !== undefined) kept.set(id, row);
      // Grants and licenses cascade; users keep holding the role until commit (deferred keys).
      this.#stmt("DELETE FROM roles WHERE tenant_id = ? AND id = ?").run(tenantId, id);
    }
    for (const row of fresh) {
      const before = kept.get(row[idAt] as string);
      const rowid = before !== undefined && before.created_at === row[createdAt] ? before.rowid : null;
      this.#insertWithRowid("roles", row, rowid);
    }
    this.insert("role_grants", of("role_grants"));
    this.insert("role_licenses", of("role_licenses"));
  }

  #applyUsers(tenantId: string, plan: TenantPlan, of: (table: string) => RowValues[]): void {
    if (plan.users.size === 0) return;
    // Users are listed by id: their rowid does not matter. Their assignments cascade.
    for (const id of plan.users)
      this.#stmt("DELETE FROM users WHERE tenant_id = ? AND id = ?").run(tenantId, id);
    this.insert("users", of("users"));
    this.insert("user_roles", of("user_roles"));
  }

  /** Appends change-log and audit rows. */
  appendLogs(changes: readonly RowValues[], audit: readonly RowValues[]): void {
    this.insert("change_log", changes);
    this.insert("audit_log", audit);
  }

  /** Records the primary's revision the copy now holds. */
  setHead(head: { database_id: string; revision: number; catalog_hash: string | null }): void {
    this.#stmt("UPDATE meta SET database_id = ?, revision = ?, catalog_hash = ? WHERE id = 1").run(
      head.database_id,
      head.revision,
      head.catalog_hash,
    );
  }

  /** Records when the primary was last read (epoch ms). */
  setReadAt(readAt: number): void {
    this.#stmt("UPDATE meta SET primary_read_at = ? WHERE id = 1").run(readAt);
  }

  /** The copy's highest audit id (rows above it are read from the primary). */
  maxAuditId(): number {
    return (this.#stmt("SELECT max(id) FROM audit_log").pluck().get() as number | null) ?? 0;
  }
}
