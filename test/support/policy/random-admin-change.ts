/**
 * Random admin writes for the randomized suites: grants (sometimes two keys), cascading revokes,
 * role license changes, role assignments and removals, user (de)activations — as a
 * `ProposedChange`, so the same write can be simulated (SimulateChanges) and then really
 * committed (`applyChange`).
 */
import type { PolicyAdmin } from "../../../sidecar/src/admin/policy-admin.js";
import type { Principal } from "../../../sidecar/src/admin/principal.js";
import type { ProposedChange } from "../../../sidecar/src/admin/simulate.js";
import type { TenantPolicy } from "../../../sidecar/src/policy/policy-source.js";

/** What the generator draws from. */
export interface ChangeSpace {
  /** Permission keys a grant may name. */
  readonly keys: readonly string[];
  /** License ids a role may be associated with. */
  readonly licenseIds: readonly string[];
}

/** One random write on `tenant` as it stands. */
export function randomChange(random: () => number, tenant: TenantPolicy, space: ChangeSpace): ProposedChange {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const tenantId = tenant.id;
  const role = pick(tenant.roles);
  const user = pick(tenant.users);
  const op = random();
  const change = (operation: ProposedChange["operation"], request: object): ProposedChange => ({
    operation,
    request: { tenantId, ...request },
  });
  if (op < 0.35) {
    const permissions = [pick(space.keys), ...(random() < 0.3 ? [pick(space.keys)] : [])];
    return change("grantPermissions", { roleId: role.id, permissions });
  }
  if (op < 0.6 && role.grants.length > 0)
    return change("revokePermissions", { roleId: role.id, permissions: [pick(role.grants)], cascade: true });
  if (op < 0.66) {
    const licenses = [pick(space.licenseIds), ...(random() < 0.5 ? [pick(space.licenseIds)] : [])];
    return change("setRoleLicenses", { roleId: role.id, licenseIds: [...new Set(licenses)] });
  }
  if (op < 0.8) return change("assignRoles", { userId: user.id, roleIds: [role.id] });
  if (op < 0.93 && user.roleIds.length > 0)
    return change("unassignRoles", { userId: user.id, roleIds: [pick(user.roleIds)] });
  return change("setUserActive", { userId: user.id, active: !user.active });
}

/** Commits `change` through the admin operations as `actor`. */
export function applyChange(
  admin: PolicyAdmin,
  actor: Principal,
  change: ProposedChange,
): Promise<{ readonly revision: number }> {
  const op = admin[change.operation] as (actor: Principal, request: unknown) => Promise<{ revision: number }>;
  return op(actor, change.request);
}
