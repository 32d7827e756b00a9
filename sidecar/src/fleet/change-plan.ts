/**
 * Which rows of the primary a follower copies to move its copy from one revision to another,
 * decided from the primary's change log: per tenant, its own rows, some roles and some users
 * (`detail.touched`, written by the PostgreSQL store), or the tenant whole — and everything
 * whole when the log cannot be trusted to say (a gap, a change to every tenant).
 */
import type { TouchedRecord } from "../store/pg/touched-rows.js";

/** What to copy of one tenant. */
export interface TenantPlan {
  /** Replace every row of the tenant (the fields below are then ignored). */
  whole: boolean;
  /** The tenant's own rows: its name, systems, owners, license pools, apps. */
  tenantRows: boolean;
  /** Every role of the tenant (a change logged without `touched`). */
  allRoles: boolean;
  /** Role ids whose rows, grants and licenses to copy. */
  readonly roles: Set<string>;
  /** User ids whose rows and role assignments to copy. */
  readonly users: Set<string>;
}

/** What to copy for a range of revisions. */
export interface ChangePlan {
  /** Replace the whole copy (catalog, tenants, logs). */
  readonly full: boolean;
  readonly tenants: ReadonlyMap<string, TenantPlan>;
}

/** A change-log row as the follower reads it. */
export interface ChangeRow {
  readonly revision: number;
  readonly tenant_id: string | null;
  readonly detail: string;
}

/** More named roles and users than this in one tenant and it is copied whole. */
export const MAX_NAMED_ROWS = 1_000;

/** The plan that copies everything. */
export const FULL_PLAN: ChangePlan = Object.freeze({ full: true, tenants: new Map() });

interface Detail {
  readonly users?: readonly string[];
  readonly touched?: TouchedRecord;
}

function parseDetail(text: string): Detail {
  try {
    const detail = JSON.parse(text) as unknown;
    return typeof detail === "object" && detail !== null ? (detail as Detail) : {};
  } catch {
    return {};
  }
}

function isTouched(value: unknown): value is TouchedRecord {
  const t = value as TouchedRecord | undefined;
  return (
    typeof t === "object" &&
    t !== null &&
    typeof t.tenant === "boolean" &&
    Array.isArray(t.roles) &&
    Array.isArray(t.users)
  );
}

/** The plan for the revisions (since, until], from every change-log row in that range. */
export function planChanges(rows: readonly ChangeRow[], since: number, until: number): ChangePlan {
  // Every revision logs at least one row: a missing one is a log that cannot be trusted.
  const revisions = new Set(rows.map((r) => r.revision));
  if (revisions.size !== until - since || rows.some((r) => r.revision <= since || r.revision > until)) {
    return FULL_PLAN;
  }
  const tenants = new Map<string, TenantPlan>();
  for (const row of rows) {
    if (row.tenant_id === null) return FULL_PLAN; // a catalog import, a restore: every tenant
    let plan = tenants.get(row.tenant_id);
    if (plan === undefined) {
      plan = { whole: false, tenantRows: false, allRoles: false, roles: new Set(), users: new Set() };
      tenants.set(row.tenant_id, plan);
    }
    const detail = parseDetail(row.detail);
    if (isTouched(detail.touched)) {
      plan.tenantRows ||= detail.touched.tenant;
      for (const r of detail.touched.roles) plan.roles.add(r);
      for (const u of detail.touched.users) plan.users.add(u);
    } else if (Array.isArray(detail.users)) {
      // Logged before `touched` was (a store copied from an older one): all but the users not named.
      plan.tenantRows = true;
      plan.allRoles = true;
      for (const u of detail.users) plan.users.add(u);
    } else {
      plan.whole = true;
    }
    if (plan.roles.size + plan.users.size > MAX_NAMED_ROWS) plan.whole = true;
  }
  return { full: false, tenants };
}
