/**
 * Writes a loaded catalog into PostgreSQL's catalog tables, replacing what was there, in one
 * write transaction — as catalog-import.ts does on SQLite, with the same hash, rows, revision
 * bump and change-log entry (plus the commit notification). Each table is one statement over
 * arrays, so a catalog of thousands of permissions costs a handful of round trips.
 */
import type { Catalog } from "../../../../catalog/catalog.js";
import { type CatalogImportResult, catalogHash } from "../catalog-import.js";
import { CHANGES_CHANNEL, type PgPolicyStore, type PgQuery } from "./pg-policy-store.js";

/** Column name → PostgreSQL array type and its values, one per row. */
type Columns = Record<string, { readonly type: "text" | "integer"; readonly values: unknown[] }>;

/** Inserts every row of `columns` (all of equal length) into `table` with one statement. */
async function insertRows(query: PgQuery, table: string, columns: Columns): Promise<void> {
  const names = Object.keys(columns);
  const first = columns[names[0]!]!;
  if (first.values.length === 0) return;
  const unnest = names.map((n, i) => `$${i + 1}::${columns[n]!.type}[]`).join(", ");
  await query(
    `INSERT INTO ${table} (${names.join(", ")}) SELECT * FROM unnest(${unnest})`,
    names.map((n) => columns[n]!.values),
  );
}

/** Empty column arrays of the given types. */
function columnsOf(spec: Record<string, "text" | "integer">): Columns {
  return Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type, values: [] }]));
}

/** Appends one row (values in the columns' order). */
function push(columns: Columns, ...values: unknown[]): void {
  Object.values(columns).forEach((c, i) => {
    c.values.push(values[i]);
  });
}

/** Replaces the stored catalog with `catalog`, bumping the revision when it differs. */
export function importCatalogPg(store: PgPolicyStore, catalog: Catalog): Promise<CatalogImportResult> {
  const hash = catalogHash(catalog);
  return store.writeSql(async (query): Promise<CatalogImportResult> => {
    const stored = (
      await query<{ catalog_hash: string | null; revision: number }>(
        "SELECT catalog_hash, revision FROM meta WHERE id = 1",
      )
    ).rows[0];
    if (stored?.catalog_hash === hash) return { revision: stored.revision, changed: false };
    const json = JSON.stringify;
    const systems = columnsOf({ id: "text", name: "text", role_administration: "text", position: "integer" });
    const categories = columnsOf({ system_id: "text", id: "text", name: "text", position: "integer" });
    const licenses = columnsOf({ id: "text", system_id: "text", name: "text", position: "integer" });
    const permissions = columnsOf({
      key: "text",
      system_id: "text",
      local_key: "text",
      name: "text",
      category: "text",
      category_name: "text",
      summary: "text",
      pages: "text",
      status: "text",
      mutual: "integer",
      scope: "text",
      position: "integer",
    });
    const permissionLicenses = columnsOf({ permission_key: "text", license_id: "text", position: "integer" });
    const requirements = columnsOf({ permission_key: "text", expr: "text" });
    const implications = columnsOf({ permission_key: "text", implied_key: "text", position: "integer" });
    const surfaces = columnsOf({
      id: "text",
      system_id: "text",
      label: "text",
      kind: "text",
      location: "text",
      url_pattern: "text",
      selector: "text",
      requires: "text",
      position: "integer",
    });
    const defaultRoles = columnsOf({
      system_id: "text",
      id: "text",
      name: "text",
      grants: "text",
      required: "text",
      licenses: "text",
      template: "integer",
      position: "integer",
    });
    for (const [si, s] of catalog.systems.entries()) {
      // The column keeps its first name; it holds the system's admin rights (JSON), as on SQLite.
      push(systems, s.id, s.name, json(s.adminRights), si);
      for (const [i, c] of s.categories.entries()) push(categories, s.id, c.id, c.name, i);
      for (const [i, l] of s.licenses.entries()) push(licenses, l.id, s.id, l.name, i);
      for (const [i, p] of s.permissions.entries()) {
        push(
          permissions,
          p.key,
          s.id,
          p.localKey,
          p.name,
          p.category,
          p.categoryName,
          p.summary,
          json(p.pages),
          p.status,
          p.mutual ? 1 : 0,
          p.scope,
          i,
        );
        for (const [li, l] of p.licenses.entries()) push(permissionLicenses, p.key, l, li);
        if (p.requires !== null) push(requirements, p.key, json(p.requires));
        for (const [ki, k] of p.implies.entries()) push(implications, p.key, k, ki);
      }
      for (const [i, x] of s.surfaces.entries()) {
        push(
          surfaces,
          x.id,
          s.id,
          x.label,
          x.kind,
          x.location,
          x.urlPattern,
          x.selector,
          json(x.requires),
          i,
        );
      }
      for (const [i, r] of s.defaultRoles.entries()) {
        push(
          defaultRoles,
          s.id,
          r.id,
          r.name,
          json(r.grants),
          json(r.required),
          json(r.licenses),
          r.template ? 1 : 0,
          i,
        );
      }
    }
    // Child tables cascade from catalog_systems.
    await query("DELETE FROM catalog_systems");
    await insertRows(query, "catalog_systems", systems);
    await insertRows(query, "catalog_categories", categories);
    await insertRows(query, "catalog_licenses", licenses);
    await insertRows(query, "catalog_permissions", permissions);
    await insertRows(query, "catalog_permission_licenses", permissionLicenses);
    await insertRows(query, "catalog_requirements", requirements);
    await insertRows(query, "catalog_implications", implications);
    await insertRows(query, "catalog_surfaces", surfaces);
    await insertRows(query, "catalog_default_roles", defaultRoles);
    const bumped = await query<{ revision: number }>(
      `WITH bumped AS (UPDATE meta SET revision = revision + 1, catalog_hash = $1 WHERE id = 1 RETURNING revision),
         logged AS (INSERT INTO change_log (revision, tenant_id, kind, detail)
           SELECT revision, NULL, 'catalog', $2 FROM bumped)
       SELECT revision, pg_notify('${CHANGES_CHANNEL}', revision::text) FROM bumped`,
      [hash, json({ systems: catalog.systems.map((s) => s.id), permissions: catalog.permissions.size })],
    );
    return { revision: bumped.rows[0]!.revision, changed: true };
  });
}
