/**
 * Tenants' policy rows as both backends read them (table-wide reads grouped in memory), and how
 * they become the compiler's TenantPolicy records — one assembly, whatever the database.
 */
import type { RoleRecord, TenantPolicy, UserRecord } from "../policy/policy-source.js";
import type { RoleRow } from "./policy-store.js";

/** A role row as stored. */
export interface StoredRole {
  readonly tenant_id: string;
  readonly id: string;
  readonly name: string;
  readonly kind: "default" | "custom";
  readonly based_on: string | null;
  readonly default_system: string | null;
  readonly default_role: string | null;
}

/** The columns of a role row, in StoredRole's order (without tenant_id). */
export const ROLE_COLUMNS = "id, name, kind, based_on, default_system, default_role";

/** A stored role row as the PolicyStore's RoleRow. */
export function toRoleRow(r: Omit<StoredRole, "tenant_id">): RoleRow {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    basedOn: r.based_on,
    defaultSystem: r.default_system,
    defaultRole: r.default_role,
  };
}

/** A user row as stored (without roles). */
export interface StoredUser {
  readonly tenant_id: string;
  readonly id: string;
  readonly display_name: string;
  readonly active: number;
}

/** The rows of some tenants, grouped: per tenant id, or per `pairKey(tenant, id)`. */
export interface TenantRowGroups {
  readonly tenants: readonly { readonly id: string; readonly name: string }[];
  readonly systems: ReadonlyMap<string, readonly { readonly system_id: string }[]>;
  readonly pools: ReadonlyMap<string, readonly { readonly license_id: string; readonly seats: number }[]>;
  readonly users: ReadonlyMap<string, readonly StoredUser[]>;
  readonly roles: ReadonlyMap<string, readonly StoredRole[]>;
  /** Role ids per (tenant, user). */
  readonly userRoles: ReadonlyMap<string, readonly string[]>;
  /** Permission keys per (tenant, role). */
  readonly grants: ReadonlyMap<string, readonly string[]>;
  /** License ids per (tenant, role). */
  readonly roleLicenses: ReadonlyMap<string, readonly string[]>;
  /** The tenants' own systems, in id order. */
  readonly customSystems: ReadonlyMap<string, readonly StoredCustomSystem[]>;
}

/** A custom system row as the policy read takes it. */
export interface StoredCustomSystem {
  readonly tenant_id: string;
  readonly system_id: string;
  readonly document: string;
}

/** The key of a (tenant, id) pair in the grouped maps. */
export function pairKey(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}

/** Groups rows by their tenant id, keeping their order. */
export function groupByTenant<T extends { readonly tenant_id: string }>(rows: Iterable<T>): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const list = map.get(row.tenant_id);
    if (list === undefined) map.set(row.tenant_id, [row]);
    else list.push(row);
  }
  return map;
}

/**
 * Collects (tenant, id, value) triples into per-pair lists. Role ids, permission keys and license
 * ids repeat across thousands of rows: each distinct value is kept as one string (a 100,000-user
 * read shrinks by a third, and the sync worker keeps its last read).
 */
export function createPairCollector(): (
  rows: Iterable<readonly [string, string, string]>,
) => Map<string, string[]> {
  const interned = new Map<string, string>();
  const intern = (value: string): string => {
    const known = interned.get(value);
    if (known !== undefined) return known;
    interned.set(value, value);
    return value;
  };
  return (rows) => {
    const map = new Map<string, string[]>();
    for (const [tenant, id, raw] of rows) {
      const key = pairKey(tenant, id);
      const value = intern(raw);
      const list = map.get(key);
      if (list === undefined) map.set(key, [value]);
      else list.push(value);
    }
    return map;
  };
}

/** The tenants' policy records, in the order of `groups.tenants`. */
export function assembleTenants(groups: TenantRowGroups): TenantPolicy[] {
  const { systems, pools, users, roles, userRoles, grants, roleLicenses, customSystems } = groups;
  return groups.tenants.map((t) => ({
    ...customSystemsOf(customSystems.get(t.id)),
    id: t.id,
    name: t.name,
    systems: (systems.get(t.id) ?? []).map((r) => r.system_id),
    licenseSeats: new Map((pools.get(t.id) ?? []).map((r) => [r.license_id, r.seats])),
    users: (users.get(t.id) ?? []).map(
      (u): UserRecord => ({
        id: u.id,
        displayName: u.display_name,
        active: u.active === 1,
        roleIds: userRoles.get(pairKey(t.id, u.id)) ?? [],
      }),
    ),
    roles: (roles.get(t.id) ?? []).map(
      (r): RoleRecord => ({
        id: r.id,
        name: r.name,
        kind: r.kind,
        basedOn: r.based_on,
        defaultOf:
          r.default_system === null || r.default_role === null
            ? null
            : { system: r.default_system, roleId: r.default_role },
        grants: grants.get(pairKey(t.id, r.id)) ?? [],
        licenseIds: roleLicenses.get(pairKey(t.id, r.id)) ?? [],
      }),
    ),
  }));
}

/** `{ customSystems }` when the tenant has any, `{}` otherwise (absent means none). */
function customSystemsOf(
  rows: readonly StoredCustomSystem[] | undefined,
): Pick<TenantPolicy, "customSystems"> {
  return rows === undefined || rows.length === 0
    ? {}
    : { customSystems: rows.map((r) => ({ id: r.system_id, document: r.document })) };
}
