/** What every admin operation runs with: the store, the catalog, the clock and the rights checks. */
import type { AdminAction, Catalog } from "../../../catalog/catalog.js";
import {
  type CustomSystemText,
  catalogWithCustomSystems,
  vendorCatalogOf,
} from "../../../catalog/tenant-catalog.js";
import type { CustomSystemRow, PolicyStore, PolicyStoreReads, TenantRow } from "../store/policy-store.js";
import { type AdminNeed, authorizeSystems, authorizeTenant, type HoldsFn } from "./authorize.js";
import type { Principal } from "./principal.js";

/** The services an admin operation needs. */
export interface AdminContext {
  readonly store: PolicyStore;
  /**
   * The catalog the operation decides on: the vendor catalog, or — inside a write on one tenant
   * (`runWrite` passes it) — that tenant's, its own systems included.
   */
  readonly catalog: Catalog;
  /** The time recorded in audit rows and creation times. */
  readonly clock: () => Date;
  /** Whether an acting user holds a permission, decided on the store as it is now. */
  readonly holds: HoldsFn;
  /** Systems whose permissions a role may only grant while associated with one of their licenses. */
  readonly licenseBound: ReadonlySet<string>;
}

/**
 * The first step of every operation, before its request is looked at: may `actor` take `need`
 * in this tenant at all? A user of another tenant, or without the right, is refused here whatever
 * else is wrong with the request. (The bootstrap principal passes; its request is then validated
 * as before, naming an unknown tenant as NOT_FOUND.)
 */
export async function gate(
  ctx: AdminContext,
  tx: PolicyStoreReads,
  actor: Principal,
  tenantId: unknown,
  need: AdminNeed,
): Promise<void> {
  if (actor.kind === "bootstrap") return;
  const id = typeof tenantId === "string" ? tenantId : "";
  const tenant = id === actor.tenantId ? await tx.tenant(id) : undefined;
  // A right may come from the adminRights of one of the tenant's own systems.
  const catalog = tenant === undefined ? ctx.catalog : (await forTenant(ctx, tx, id)).catalog;
  await authorizeTenant(catalog, ctx.holds, actor, id, tenant, need);
}

/** Rejects unless `actor` may take `action` for every system the write touches. */
export function authorize(
  ctx: AdminContext,
  actor: Principal,
  tenant: TenantRow,
  action: AdminAction,
  systems: readonly string[],
): Promise<void> {
  return authorizeSystems(ctx.catalog, ctx.holds, actor, tenant, action, systems);
}

/**
 * `ctx` as a write on `tenantId` runs: its catalog extended with the tenant's own systems as the
 * store holds them now (the same context when it has none).
 */
export async function forTenant(
  ctx: AdminContext,
  tx: PolicyStoreReads,
  tenantId: string,
): Promise<AdminContext> {
  const catalog = await tenantCatalog(tx, ctx.catalog, tenantId);
  return catalog === ctx.catalog ? ctx : { ...ctx, catalog };
}

/** The catalog `tenantId` is decided on: the vendor catalog under `catalog`, with the tenant's own systems. */
export async function tenantCatalog(
  tx: PolicyStoreReads,
  catalog: Catalog,
  tenantId: string,
): Promise<Catalog> {
  return catalogWithCustomSystems(
    vendorCatalogOf(catalog),
    customSystemTexts(await tx.customSystems(tenantId)),
  );
}

/** Stored systems as the catalog reads them. */
export function customSystemTexts(rows: readonly CustomSystemRow[]): CustomSystemText[] {
  return rows.map((s) => ({ id: s.systemId, document: s.document }));
}
