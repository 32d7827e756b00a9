/**
 * An AuthZEN `action.name` to the qualified permission key rolecall decides on. A name is either
 * qualified (`cxengage/CONTACTS_READ`) or bare (`CONTACTS_READ`), resolved when exactly one of
 * the tenant's systems has it. Only the tenant's own systems count, read from the compiled
 * snapshot (whatever systems it holds, vendors' or its own), so a caller never learns another
 * tenant's permissions from an error message.
 */
import { closestKey } from "../../../../catalog/closest-key.js";
import { UnknownTenantError } from "../../policy/decision.js";
import {
  type CompiledCatalog,
  type CompiledTenant,
  FLAG_MUTUAL,
  type Snapshot,
} from "../../policy/snapshot.js";
import { AuthzenError } from "./authzen-error.js";

/** A tenant's permission keys, as an action name may spell them. */
interface TenantActions {
  /** Every qualified key of the tenant's systems, sorted (action search pages over it). */
  readonly keys: readonly string[];
  readonly qualified: ReadonlySet<string>;
  /** Bare key → the qualified keys that end in it (more than one: ambiguous). */
  readonly bare: ReadonlyMap<string, readonly string[]>;
}

// Built once per compiled catalog and tenant; both are immutable and replaced on change.
const indexes = new WeakMap<CompiledCatalog, WeakMap<CompiledTenant, TenantActions>>();

function buildIndex(catalog: CompiledCatalog, tenant: CompiledTenant): TenantActions {
  const keys: string[] = [];
  for (const system of tenant.systems) {
    const s = catalog.systemIds.indexOf(system);
    if (s >= 0) for (const p of catalog.systemPermissions[s]!) keys.push(catalog.permissionKeys[p]!);
  }
  keys.sort();
  const bare = new Map<string, string[]>();
  for (const key of keys) {
    const name = key.slice(key.indexOf("/") + 1);
    const list = bare.get(name);
    if (list) list.push(key);
    else bare.set(name, [key]);
  }
  return { keys, qualified: new Set(keys), bare };
}

/** The tenant's permission names; throws NOT_FOUND for a tenant the snapshot does not hold. */
export function tenantActions(snapshot: Snapshot, tenantId: string): TenantActions {
  const tenant = snapshot.tenants.get(tenantId);
  if (tenant === undefined) throw new UnknownTenantError(tenantId);
  // The tenant's catalog, not the snapshot's: it holds the tenant's own systems (PutSystem).
  let byTenant = indexes.get(tenant.catalog);
  if (byTenant === undefined) {
    byTenant = new WeakMap();
    indexes.set(tenant.catalog, byTenant);
  }
  let index = byTenant.get(tenant);
  if (index === undefined) {
    index = buildIndex(tenant.catalog, tenant);
    byTenant.set(tenant, index);
  }
  return index;
}

/**
 * The qualified key `name` stands for in the tenant. Throws a 400 naming the candidates when a
 * bare name is in several systems, or the closest key when the name is in none.
 */
export function resolveAction(snapshot: Snapshot, tenantId: string, name: string): string {
  const actions = tenantActions(snapshot, tenantId);
  if (actions.qualified.has(name)) return name;
  const candidates = name.includes("/") ? undefined : actions.bare.get(name);
  if (candidates?.length === 1) return candidates[0]!;
  if (candidates !== undefined) {
    throw new AuthzenError(
      400,
      `action '${name}' is ambiguous in tenant '${tenantId}': ${candidates.join(", ")} all have it; send the qualified name`,
    );
  }
  throw new AuthzenError(
    400,
    `action '${name}' is not a permission of tenant '${tenantId}'` +
      (suggest(actions, name) ?? "; search /access/v1/search/action for the names it knows"),
  );
}

/** "; did you mean 'system/KEY'?" for the tenant's closest key, qualified; undefined when none is close. */
function suggest(actions: TenantActions, name: string): string | undefined {
  if (name.includes("/")) {
    const closest = closestKey(name, actions.keys);
    return closest === null ? undefined : `; did you mean '${closest}'?`;
  }
  const closest = closestKey(name, actions.bare.keys());
  if (closest === null) return undefined;
  return `; did you mean ${actions.bare
    .get(closest)!
    .map((k) => `'${k}'`)
    .join(" or ")}?`;
}

/** Whether a permission of tenant `tenantId` is mutual (decided against a target user as well). */
export function isMutual(snapshot: Snapshot, tenantId: string, permission: string): boolean {
  const catalog = snapshot.tenants.get(tenantId)?.catalog ?? snapshot.catalog;
  const p = catalog.permissionIndex.get(permission);
  return p !== undefined && (catalog.flags[p]! & FLAG_MUTUAL) !== 0;
}
