/**
 * The access review of one tenant (Salesforce Inspector's "who has what, and from where"): per
 * user, one row per role held and one per allowed permission with the roles and licenses it
 * comes from. Decided on one compiled snapshot and produced lazily, user by user, so a
 * 100,000-user tenant is written out without ever holding its rows in memory.
 */

import { DomainError } from "../domain-error.js";
import { hasBit } from "./bitset.js";
import { tenantView } from "./custom-catalog.js";
import { computeEffective } from "./effective-set.js";
import { actorRequirementHolds, tenantOf } from "./evaluator.js";
import {
  type CompiledTenant,
  FLAG_ACTOR_REQUIRES,
  FLAG_LICENSED,
  FLAG_TENANT_LICENSED,
  type Snapshot,
} from "./snapshot.js";
import { userNameAt } from "./user-columns.js";

/** One row of the review. */
export interface ReviewRow {
  readonly tenant: string;
  readonly userId: string;
  readonly userName: string;
  readonly active: boolean;
  /** `role`: the user holds the role; `permission`: the permission is allowed for the user. */
  readonly kind: "role" | "permission";
  /** The permission's system; for a role, the systems its grants reach. */
  readonly systems: readonly string[];
  /** The permission key; empty for a role row. */
  readonly permission: string;
  /** The role held, or the user's roles granting the permission (implications included). */
  readonly roleIds: readonly string[];
  /** Display names of `roleIds`, in the same order. */
  readonly roleNames: readonly string[];
  /** The role's licenses, or the licenses through which the user is licensed for the permission. */
  readonly licenses: readonly string[];
}

/** Column names of the review's flat form (CSV header), in order. */
export const REVIEW_COLUMNS = [
  "tenant",
  "user_id",
  "user_name",
  "active",
  "kind",
  "system",
  "permission",
  "role_ids",
  "role_names",
  "licenses",
] as const;

/** Separator of several values in one CSV cell. */
const LIST_SEPARATOR = "; ";

/** A row as the CSV's cells, in `REVIEW_COLUMNS` order. */
export function reviewCells(row: ReviewRow): string[] {
  return [
    row.tenant,
    row.userId,
    row.userName,
    row.active ? "true" : "false",
    row.kind,
    row.systems.join(LIST_SEPARATOR),
    row.permission,
    row.roleIds.join(LIST_SEPARATOR),
    row.roleNames.join(LIST_SEPARATOR),
    row.licenses.join(LIST_SEPARATOR),
  ];
}

/** Thrown for a `system` the tenant does not enable. */
export class UnknownReviewSystemError extends DomainError {
  override readonly name = "UnknownReviewSystemError";
  readonly code = "INVALID_ARGUMENT";
}

/** What the review covers: the tenant, optionally one system. */
export interface ReviewScope {
  readonly tenantId: string;
  /** Only this system's permissions, and only roles granting some of them. */
  readonly system?: string | undefined;
}

/** A prepared review: its revision, then its rows on demand. */
export interface Review {
  readonly tenantId: string;
  readonly revision: number;
  readonly system: string | undefined;
  /** The rows, user by user in id order; each call starts over on the same snapshot. */
  rows(): Generator<ReviewRow>;
}

/**
 * Prepares the review of `scope` on `snapshot`. Throws `UnknownTenantError` or
 * `UnknownReviewSystemError` at once, before any row, so a caller can still answer with an error.
 */
export function prepareReview(shared: Snapshot, scope: ReviewScope): Review {
  const tenant = tenantOf(shared, scope.tenantId);
  // A tenant with systems of its own is compiled on its own catalog: rows come from its view.
  const snapshot = tenantView(shared, scope.tenantId);
  const system = scope.system;
  if (system !== undefined && !tenant.systems.includes(system)) {
    throw new UnknownReviewSystemError(
      `tenant '${tenant.id}' does not enable system '${system}'; use one of ${tenant.systems.join(", ")}`,
    );
  }
  return {
    tenantId: tenant.id,
    revision: snapshot.revision,
    system,
    rows: () => reviewRows(snapshot, tenant, system),
  };
}

/** Per role, the systems its grants reach (a role reaching none of `system` is left out of a filtered review). */
function roleSystems(snapshot: Snapshot, tenant: CompiledTenant): string[][] {
  const { systemIds, systemPermissions, words } = snapshot.catalog;
  return tenant.roleIds.map((_, r) =>
    systemIds.filter((_, i) => systemPermissions[i]!.some((p) => hasBit(tenant.roleClosure, p, r * words))),
  );
}

function* reviewRows(
  snapshot: Snapshot,
  tenant: CompiledTenant,
  system: string | undefined,
): Generator<ReviewRow> {
  const catalog = snapshot.catalog;
  const W = catalog.words;
  const { licenseIds, permissionKeys, flags } = catalog;
  // The permissions to list (the tenant's systems, or the one asked for) as a mask over the
  // effective bits, each with its system: a user's rows are then the set bits of one AND.
  const listed = new Uint32Array(W);
  const systemOf: (readonly string[])[] = [];
  for (const [s, systemId] of catalog.systemIds.entries()) {
    if (!tenant.systems.includes(systemId) || (system !== undefined && system !== systemId)) continue;
    const systems = [systemId];
    for (const p of catalog.systemPermissions[s]!) {
      listed[p >>> 5]! |= 1 << (p & 31);
      systemOf[p] = systems;
    }
  }
  const reach = roleSystems(snapshot, tenant);
  const roleLicenses = tenant.roleIds.map((_, r) =>
    licenseIds.filter((_, l) => hasBit(tenant.roleLicenses, l, r * catalog.licenseWords)),
  );
  for (const u of tenant.usersById) {
    const tenantId = tenant.id;
    const userId = tenant.userIds[u]!;
    const userName = userNameAt(tenant.users, u);
    const active = tenant.userActive[u] === 1;
    const start = tenant.userRoleStart[u]!;
    const end = tenant.userRoleStart[u + 1]!;
    for (let i = start; i < end; i++) {
      const r = tenant.userRoles[i]!;
      if (system !== undefined && !reach[r]!.includes(system)) continue;
      yield {
        tenant: tenantId,
        userId,
        userName,
        active,
        kind: "role",
        systems: reach[r]!,
        permission: "",
        roleIds: [tenant.roleIds[r]!],
        roleNames: [tenant.roleNames[r]!],
        licenses: roleLicenses[r]!,
      };
    }
    if (!active) continue;
    // Computed afresh, not through the serving cache: a review must not evict the hot users.
    const bits = computeEffective(catalog, tenant, u);
    for (let w = 0; w < W; w++) {
      let word = bits[w]! & listed[w]!;
      while (word !== 0) {
        const low = word & -word;
        const p = (w << 5) + (31 - Math.clz32(low));
        word ^= low;
        // Held is allowed, unless only the acting user's own requirement fails (rule 4b).
        if ((flags[p]! & FLAG_ACTOR_REQUIRES) !== 0 && !actorRequirementHolds(snapshot, p, bits)) continue;
        const roleIds: string[] = [];
        const roleNames: string[] = [];
        for (let i = start; i < end; i++) {
          const r = tenant.userRoles[i]!;
          if (((tenant.roleClosure[r * W + w]! >>> (p & 31)) & 1) === 1) {
            roleIds.push(tenant.roleIds[r]!);
            roleNames.push(tenant.roleNames[r]!);
          }
        }
        yield {
          tenant: tenantId,
          userId,
          userName,
          active,
          kind: "permission",
          systems: systemOf[p]!,
          permission: permissionKeys[p]!,
          roleIds,
          roleNames,
          licenses: licensesFor(snapshot, tenant, p, bits, flags[p]!),
        };
      }
    }
  }
}

/** The licenses that license `p` for the user whose effective bits are `bits`. */
function licensesFor(
  snapshot: Snapshot,
  tenant: CompiledTenant,
  p: number,
  bits: Uint32Array,
  flags: number,
): string[] {
  if ((flags & (FLAG_LICENSED | FLAG_TENANT_LICENSED)) === 0) return [];
  const c = snapshot.catalog;
  const out: string[] = [];
  if ((flags & FLAG_LICENSED) !== 0) {
    for (let i = c.permissionLicenseStart[p]!; i < c.permissionLicenseStart[p + 1]!; i++) {
      const l = c.permissionLicenses[i]!;
      if (hasBit(bits, l, 2 * c.words)) out.push(c.licenseIds[l]!);
    }
  }
  if ((flags & FLAG_TENANT_LICENSED) !== 0) {
    for (let i = c.permissionTenantLicenseStart[p]!; i < c.permissionTenantLicenseStart[p + 1]!; i++) {
      const l = c.permissionTenantLicenses[i]!;
      if (hasBit(tenant.pool, l) && !out.includes(c.licenseIds[l]!)) out.push(c.licenseIds[l]!);
    }
  }
  return out;
}
