/**
 * Writes a loaded catalog into the catalog tables, replacing what was there, in one transaction.
 * Importing the same catalog again changes nothing and keeps the revision.
 */
import { createHash } from "node:crypto";
import type { Catalog } from "../../../catalog/catalog.js";
import type { Db } from "./database.js";
import { appendChange, bumpRevision, readRevision } from "./revision.js";

/** What an import did. */
export interface CatalogImportResult {
  /** The revision after the import. */
  readonly revision: number;
  /** `false` when the stored catalog was already identical. */
  readonly changed: boolean;
}

/** A fingerprint of the catalog's content, to skip re-importing an identical one. */
export function catalogHash(catalog: Catalog): string {
  return createHash("sha256").update(JSON.stringify(catalog.systems)).digest("hex");
}

/** Replaces the stored catalog with `catalog`, bumping the revision when it differs. */
export function importCatalog(db: Db, catalog: Catalog): CatalogImportResult {
  const hash = catalogHash(catalog);
  const write = db.transaction((): CatalogImportResult => {
    const stored = db.prepare("SELECT catalog_hash FROM meta WHERE id = 1").pluck().get() as string | null;
    if (stored === hash) return { revision: readRevision(db), changed: false };
    // Child tables cascade from catalog_systems.
    db.prepare("DELETE FROM catalog_systems").run();
    const system = db.prepare(
      "INSERT INTO catalog_systems (id, name, role_administration, position) VALUES (?, ?, ?, ?)",
    );
    const category = db.prepare(
      "INSERT INTO catalog_categories (system_id, id, name, position) VALUES (?, ?, ?, ?)",
    );
    const license = db.prepare(
      "INSERT INTO catalog_licenses (id, system_id, name, position) VALUES (?, ?, ?, ?)",
    );
    const permission = db.prepare(
      `INSERT INTO catalog_permissions (key, system_id, local_key, name, category, category_name, summary, pages,
         status, mutual, scope, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const permissionLicense = db.prepare(
      "INSERT INTO catalog_permission_licenses (permission_key, license_id, position) VALUES (?, ?, ?)",
    );
    const requirement = db.prepare("INSERT INTO catalog_requirements (permission_key, expr) VALUES (?, ?)");
    const implication = db.prepare(
      "INSERT INTO catalog_implications (permission_key, implied_key, position) VALUES (?, ?, ?)",
    );
    const surface = db.prepare(
      `INSERT INTO catalog_surfaces (id, system_id, label, kind, location, url_pattern, selector, requires, position)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const defaultRole = db.prepare(
      `INSERT INTO catalog_default_roles (system_id, id, name, grants, required, licenses, template, position)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const [si, s] of catalog.systems.entries()) {
      // The column keeps its first name; it holds the system's admin rights (JSON) since schema v2.
      system.run(s.id, s.name, JSON.stringify(s.adminRights), si);
      for (const [i, c] of s.categories.entries()) category.run(s.id, c.id, c.name, i);
      for (const [i, l] of s.licenses.entries()) license.run(l.id, s.id, l.name, i);
      for (const [i, p] of s.permissions.entries()) {
        permission.run(
          p.key,
          s.id,
          p.localKey,
          p.name,
          p.category,
          p.categoryName,
          p.summary,
          JSON.stringify(p.pages),
          p.status,
          p.mutual ? 1 : 0,
          p.scope,
          i,
        );
        for (const [li, l] of p.licenses.entries()) permissionLicense.run(p.key, l, li);
        if (p.requires !== null) requirement.run(p.key, JSON.stringify(p.requires));
        for (const [ki, k] of p.implies.entries()) implication.run(p.key, k, ki);
      }
      for (const [i, x] of s.surfaces.entries()) {
        surface.run(
          x.id,
          s.id,
          x.label,
          x.kind,
          x.location,
          x.urlPattern,
          x.selector,
          JSON.stringify(x.requires),
          i,
        );
      }
      for (const [i, r] of s.defaultRoles.entries()) {
        const json = JSON.stringify;
        defaultRole.run(
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
    db.prepare("UPDATE meta SET catalog_hash = ? WHERE id = 1").run(hash);
    const revision = bumpRevision(db);
    appendChange(db, revision, null, "catalog", {
      systems: catalog.systems.map((s) => s.id),
      permissions: catalog.permissions.size,
    });
    return { revision, changed: true };
  });
  return write.immediate();
}
