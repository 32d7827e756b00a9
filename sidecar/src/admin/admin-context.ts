/** What every admin operation runs with: the store, the catalog, the clock and the rights check. */
import type { Catalog } from "../../../catalog/catalog.js";
import type { PolicyStore, PolicyStoreReads, TenantRow } from "../store/policy-store.js";
import { authorizeAdmin, type HoldsFn } from "./authorize.js";
import type { Principal } from "./principal.js";

/** The services an admin operation needs. */
export interface AdminContext {
  readonly store: PolicyStore;
  readonly catalog: Catalog;
  /** The time recorded in audit rows and creation times. */
  readonly clock: () => Date;
  /** Whether an acting user holds a permission, decided on the store as it is now. */
  readonly holds: HoldsFn;
  /** Systems whose permissions a role may only grant while associated with one of their licenses. */
  readonly licenseBound: ReadonlySet<string>;
}

/** The reads an operation's body may make (a write's transaction offers them too). */
export type AdminReads = PolicyStoreReads;

/** Rejects unless `actor` may administer `tenant` for every system named (any, when none is). */
export function authorize(
  ctx: AdminContext,
  actor: Principal,
  tenant: TenantRow,
  systems: readonly string[],
): Promise<void> {
  return authorizeAdmin(ctx.catalog, ctx.holds, actor, tenant, systems);
}
