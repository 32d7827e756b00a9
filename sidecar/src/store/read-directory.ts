/**
 * What the sidecar keeps in memory besides the compiled policy: token principals (so a call's
 * authentication never touches SQLite) and the registered apps (for ResolveSurfaces).
 */

import type { Principal } from "../admin/principal.js";
import type { AppRegistration, SubjectSource } from "../apps/app-registry.js";
import type { Db } from "./database.js";
import { cachedStatement } from "./statement-cache.js";
import { principalOfRow, TOKEN_PRINCIPAL_COLUMNS, type TokenRow } from "./tokens.js";

/** Live tokens by SHA-256 hex. */
export function readTokenPrincipals(db: Db): Map<string, Principal> {
  const rows = cachedStatement(
    db,
    `SELECT hash, ${TOKEN_PRINCIPAL_COLUMNS} FROM admin_tokens WHERE revoked_at IS NULL`,
  ).all() as (TokenRow & { hash: string })[];
  const out = new Map<string, Principal>();
  for (const row of rows) {
    const principal = principalOfRow(row);
    if (principal !== undefined) out.set(row.hash, principal);
  }
  return out;
}

/** Each tenant's owners (user ids), for the reads they may make of other users' decisions. */
export function readTenantOwners(db: Db): Map<string, ReadonlySet<string>> {
  const rows = cachedStatement(db, "SELECT tenant_id, user_id FROM tenant_owners").all() as {
    tenant_id: string;
    user_id: string;
  }[];
  const out = new Map<string, Set<string>>();
  for (const row of rows) {
    const owners = out.get(row.tenant_id);
    if (owners) owners.add(row.user_id);
    else out.set(row.tenant_id, new Set([row.user_id]));
  }
  return out;
}

/** Stored shape of an app's pages (JSON in `app_registrations.url_patterns`). */
interface StoredPage {
  readonly pattern: string;
  readonly surfaces: readonly string[];
}

/** Registered apps by tenant. */
export function readAppRegistrations(db: Db): Map<string, AppRegistration[]> {
  const rows = cachedStatement(
    db,
    "SELECT tenant_id, app_id, name, base_url, url_patterns, selector_overrides, subject_source FROM app_registrations ORDER BY tenant_id, app_id",
  ).all() as {
    tenant_id: string;
    app_id: string;
    name: string;
    base_url: string;
    url_patterns: string;
    selector_overrides: string;
    subject_source: string;
  }[];
  const out = new Map<string, AppRegistration[]>();
  for (const row of rows) {
    const pages = JSON.parse(row.url_patterns) as StoredPage[];
    const selectors = JSON.parse(row.selector_overrides) as Record<string, string>;
    const app: AppRegistration = {
      appId: row.app_id,
      name: row.name,
      baseUrl: row.base_url,
      pages: pages.map((p) => ({ urlPattern: p.pattern, surfaceIds: p.surfaces })),
      selectors: Object.entries(selectors).map(([surfaceId, selector]) => ({ surfaceId, selector })),
      subject: JSON.parse(row.subject_source) as SubjectSource,
    };
    const list = out.get(row.tenant_id);
    if (list) list.push(app);
    else out.set(row.tenant_id, [app]);
  }
  return out;
}
