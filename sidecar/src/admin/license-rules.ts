/**
 * License rules: a role granting permissions of a license-bound system (Calabrio ONE: every role
 * must be associated with a license type) carries one of its licenses; seats are counted per
 * active user holding a role associated with the license, and a write that would use more seats
 * than the tenant has is refused, as is lowering seats below those in use.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { PolicyStoreReads } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";

/** Each license-bound system the role grants permissions of needs one of its licenses on the role. */
export async function checkLicenseBound(
  tx: PolicyStoreReads,
  catalog: Catalog,
  licenseBound: ReadonlySet<string>,
  tenantId: string,
  roleId: string,
): Promise<void> {
  const grants = await tx.grants(tenantId, roleId);
  const licenses = await tx.roleLicenses(tenantId, roleId);
  for (const system of licenseBound) {
    const granted = grants.filter((k) => catalog.permissions.get(k)?.system === system);
    if (granted.length === 0) continue;
    if (licenses.some((l) => catalog.licenses.get(l)?.system === system)) continue;
    const choices = catalog.systems.find((s) => s.id === system)?.licenses.map((l) => l.id) ?? [];
    throw new StoreError(
      "FAILED_PRECONDITION",
      `role '${roleId}' grants ${system} permissions (${granted.slice(0, 3).join(", ")}${granted.length > 3 ? ", ..." : ""}) so it must be associated with a ${system} license (one of: ${choices.join(", ")})`,
      { field: "license_ids" },
    );
  }
}

/** The licenses the given roles are associated with. */
export async function licensesOfRoles(
  tx: PolicyStoreReads,
  tenantId: string,
  roleIds: readonly string[],
): Promise<string[]> {
  const all: string[] = [];
  for (const r of roleIds) all.push(...(await tx.roleLicenses(tenantId, r)));
  return [...new Set(all)];
}

/** Seats in use now, per license: take it before a change, pass it to checkSeatsNotExceeded after. */
export async function seatUsage(
  tx: PolicyStoreReads,
  tenantId: string,
  licenseIds: readonly string[],
): Promise<Map<string, number>> {
  const usage = new Map<string, number>();
  for (const l of licenseIds) usage.set(l, await tx.licenseUsed(tenantId, l));
  return usage;
}

/** After a change: a license whose usage grew past its seats fails the write, naming used/seats. */
export async function checkSeatsNotExceeded(
  tx: PolicyStoreReads,
  tenantId: string,
  before: ReadonlyMap<string, number>,
  doing: string,
  field: string,
): Promise<void> {
  for (const [licenseId, usedBefore] of before) {
    const used = await tx.licenseUsed(tenantId, licenseId);
    const seats = (await tx.poolSeats(tenantId, licenseId)) ?? 0;
    if (used > usedBefore && used > seats) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        `license '${licenseId}' has no free seat (${usedBefore}/${seats} used) for ${doing}; raise its seats or free one`,
        { field },
      );
    }
  }
}

/** FAILED_PRECONDITION when `seats` is below the seats active users already use. */
export async function checkSeatsCoverUse(
  tx: PolicyStoreReads,
  tenantId: string,
  licenseId: string,
  seats: number,
): Promise<void> {
  const used = await tx.licenseUsed(tenantId, licenseId);
  if (seats < used) {
    throw new StoreError(
      "FAILED_PRECONDITION",
      `license '${licenseId}' is used by ${used} active user${used === 1 ? "" : "s"}; cannot lower its seats to ${seats} (deactivate or unassign users first)`,
      { field: "seats" },
    );
  }
}
