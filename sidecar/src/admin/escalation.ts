/**
 * No escalation (the Kubernetes RBAC rule): a principal who is not an owner may grant to a role
 * only permissions in its own effective set, assign (to anyone, itself included) only roles whose
 * grants all lie in its own effective set, and associate only licenses it holds through its own
 * roles. Otherwise an ordinary supervisor with a role-editing right could promote himself.
 */
import { compileSnapshot } from "../policy/compiler.js";
import { effectiveKeysByUser } from "../policy/effective-keys.js";
import type { PolicyStoreReads, RoleState, TenantRow } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";
import type { AdminContext } from "./admin-context.js";
import { refuseService } from "./authorize.js";
import { type Principal, principalLabel } from "./principal.js";

/** The user a check applies to, or undefined for principals the rule does not bind. */
function boundUser(actor: Principal, tenant: TenantRow): string | undefined {
  if (actor.kind === "bootstrap") return undefined;
  refuseService(actor); // never bound by "what it holds": it may give nothing at all
  if (tenant.owners.includes(actor.userId)) return undefined;
  return actor.userId;
}

/** PERMISSION_DENIED naming the first of `keys` outside the actor's effective set. */
export async function checkGrantable(
  ctx: AdminContext,
  actor: Principal,
  tenant: TenantRow,
  keys: Iterable<string>,
  doing: string,
): Promise<void> {
  const userId = boundUser(actor, tenant);
  if (userId === undefined) return;
  for (const key of keys) {
    if (!(await ctx.holds(tenant.id, userId, key))) {
      throw new StoreError(
        "PERMISSION_DENIED",
        `${principalLabel(actor)} may not ${doing}: it would hand out '${key}', which ${userId} does not hold (no one may give what they do not have)`,
      );
    }
  }
}

/** PERMISSION_DENIED unless every role's grants lie in the actor's effective set. */
export async function checkAssignable(
  ctx: AdminContext,
  actor: Principal,
  tenant: TenantRow,
  roles: readonly RoleState[],
): Promise<void> {
  for (const role of roles) await checkGrantable(ctx, actor, tenant, role.grants, `assign role '${role.id}'`);
}

/** PERMISSION_DENIED naming the first license the actor does not hold through its own roles. */
export async function checkAssociable(
  tx: PolicyStoreReads,
  actor: Principal,
  tenant: TenantRow,
  licenseIds: readonly string[],
  doing: string,
): Promise<void> {
  const userId = boundUser(actor, tenant);
  if (userId === undefined || licenseIds.length === 0) return;
  const held = new Set<string>();
  for (const roleId of await tx.userRoles(tenant.id, userId)) {
    for (const l of await tx.roleLicenses(tenant.id, roleId)) held.add(l);
  }
  const missing = licenseIds.find((l) => !held.has(l));
  if (missing !== undefined) {
    throw new StoreError(
      "PERMISSION_DENIED",
      `${principalLabel(actor)} may not ${doing}: license '${missing}' is not on any of ${userId}'s roles (no one may give what they do not have)`,
    );
  }
}

/**
 * The rule checked by its effect, which the checks above cannot see alone: granting one
 * permission can complete another's requirement, and a license can unlock permissions a role
 * already grants. Call before a non-owner's write changes anything; the returned function, after
 * the changes, refuses the write if any user would gain a permission outside the actor's own
 * effective set as it stood before.
 */
export async function watchForGains(
  ctx: AdminContext,
  tx: PolicyStoreReads,
  actor: Principal,
  tenantId: string,
): Promise<(() => Promise<void>) | undefined> {
  if (actor.kind === "bootstrap") return undefined;
  refuseService(actor);
  if (actor.tenantId !== tenantId) return undefined;
  const tenant = await tx.tenant(tenantId);
  if (tenant === undefined || boundUser(actor, tenant) === undefined) return undefined;
  const read = async () =>
    effectiveKeysByUser(compileSnapshot(await tx.policySource(ctx.catalog, [tenantId])), tenantId);
  const before = await read();
  const own = before.get(actor.userId) ?? new Set<string>();
  return async () => {
    for (const [userId, keys] of await read()) {
      const had = before.get(userId);
      for (const key of keys) {
        if (had?.has(key) === true || own.has(key)) continue;
        throw new StoreError(
          "PERMISSION_DENIED",
          `${principalLabel(actor)} may not make this change: ${userId} would gain '${key}', which ${actor.userId} does not hold (no one may give what they do not have)`,
        );
      }
    }
  };
}
