/**
 * The admin operations bound to one store: `admin.grantPermissions(actor, request)` and so on,
 * each defined once in operations/. Each write is one transaction that authorizes the actor,
 * validates everything, applies the change, checks the admin rules of the five systems, bumps
 * the revision once and appends change-log and audit rows; any failure rolls the whole write
 * back. A write that changes nothing commits nothing.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { PolicyStore } from "../store/policy-store.js";
import type { AdminContext } from "./admin-context.js";
import type { HoldsFn } from "./authorize.js";
import { createCurrentHolds } from "./current-holds.js";
import { ADMIN_OPERATIONS } from "./operations/index.js";
import type { Principal } from "./principal.js";

export type { AuditEvent, RoleSummary, TenantSummary } from "./operations/index.js";
export type { WriteResult } from "./write.js";

/** Options of `createPolicyAdmin`. */
export interface PolicyAdminOptions {
  /** Returns the current time, recorded in audit rows and creation times. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Decides whether an acting user holds a permission (its admin rights, what it may hand out). Default: `createCurrentHolds(store, catalog)`, the store as it is now. */
  readonly holds?: HoldsFn;
  /** Systems whose permissions a role may only grant while associated with one of the system's licenses. Default `["calabrio-one"]`. */
  readonly licenseBoundSystems?: readonly string[];
}

const DEFAULTS = Object.freeze({ licenseBoundSystems: ["calabrio-one"] as readonly string[] });

type Operations = typeof ADMIN_OPERATIONS;
type Bound<F> = F extends (ctx: AdminContext, actor: Principal, ...rest: infer R) => infer O
  ? (actor: Principal, ...rest: R) => O
  : never;

/** The admin operations over one store, plus `atomically` to group several writes into one commit. */
export type PolicyAdmin = { readonly [K in keyof Operations]: Bound<Operations[K]> } & {
  /** The store and catalog the operations run on. */
  readonly context: AdminContext;
  /** Runs several writes as one commit (each still bumps the revision): all of them land, or none. */
  atomically<T>(fn: () => Promise<T>): Promise<T>;
};

/** Binds every admin operation to `store` and `catalog`. */
export function createPolicyAdmin(
  store: PolicyStore,
  catalog: Catalog,
  options: PolicyAdminOptions = {},
): PolicyAdmin {
  const context: AdminContext = {
    store,
    catalog,
    clock: options.clock ?? (() => new Date()),
    holds: options.holds ?? createCurrentHolds(store, catalog),
    licenseBound: new Set(options.licenseBoundSystems ?? DEFAULTS.licenseBoundSystems),
  };
  const bound: Record<string, unknown> = {
    context,
    atomically: <T>(fn: () => Promise<T>) => store.write(() => fn()),
  };
  for (const [name, op] of Object.entries(ADMIN_OPERATIONS)) {
    bound[name] = (actor: Principal, ...rest: unknown[]) =>
      (op as (ctx: AdminContext, actor: Principal, ...rest: unknown[]) => unknown)(context, actor, ...rest);
  }
  return bound as PolicyAdmin;
}
