/**
 * License rules: every role of a license-bound system (Calabrio ONE: "all roles must be
 * associated with one or more license types") carries one of its licenses, whether it is one of
 * the system's default roles or grants its permissions; associating a role with a license gives
 * it the permissions the license grants by default; a license the vendor no longer sells gets no
 * more seats; seats are counted per active user holding a role associated with the license, and a
 * write that would use more seats than the tenant has is refused, as is lowering seats below
 * those in use.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { PolicyStoreReads } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";
import { closeGrants } from "./grant-closure.js";

/**
 * Each license-bound system the role belongs to needs one of its licenses on the role: a system
 * whose permissions it grants, or whose default role it is (a Calabrio default role keeps a
 * Calabrio license even when its grants are revoked).
 */
export async function checkLicenseBound(
  tx: PolicyStoreReads,
  catalog: Catalog,
  licenseBound: ReadonlySet<string>,
  tenantId: string,
  roleId: string,
): Promise<void> {
  const grants = await tx.grants(tenantId, roleId);
  const licenses = await tx.roleLicenses(tenantId, roleId);
  const role = await tx.role(tenantId, roleId);
  for (const system of licenseBound) {
    const granted = grants.filter((k) => catalog.permissions.get(k)?.system === system);
    const defaultRole = role?.kind === "default" && role.defaultSystem === system;
    if (granted.length === 0 && !defaultRole) continue;
    if (licenses.some((l) => catalog.licenses.get(l)?.system === system)) continue;
    const choices = catalog.systems.find((s) => s.id === system)?.licenses.map((l) => l.id) ?? [];
    const why =
      granted.length > 0
        ? `grants ${system} permissions (${granted.slice(0, 3).join(", ")}${granted.length > 3 ? ", ..." : ""})`
        : `is a default role of ${system}`;
    throw new StoreError(
      "FAILED_PRECONDITION",
      `role '${roleId}' ${why} so it must be associated with a ${system} license (one of: ${choices.join(", ")}); every ${system} role keeps at least one`,
      { field: "license_ids" },
    );
  }
}

/**
 * What associating a role holding `grants` with `added` licenses gives it: the permissions those
 * licenses grant by default (Calabrio: Coachable Performance User for roles with Performance
 * Coaching), with what they require and imply, minus what the role holds. Like any grant they
 * can be revoked afterwards; the association only ticks them once.
 */
export function defaultGrantsOf(
  catalog: Catalog,
  grants: readonly string[],
  added: readonly string[],
): string[] {
  const keys = added.flatMap((l) => catalog.licenses.get(l)?.defaultGrants ?? []);
  return keys.length === 0 ? [] : closeGrants(catalog, new Set(grants), keys);
}

/**
 * FAILED_PRECONDITION when `seats` adds seats of a license the vendor no longer sells (Calabrio:
 * Performance Coaching); lowering them, or setting the same number, is allowed.
 */
export function checkSeatsPurchasable(
  catalog: Catalog,
  licenseId: string,
  before: number | null,
  seats: number,
): void {
  const license = catalog.licenses.get(licenseId);
  if (license?.purchasable !== false || seats <= (before ?? 0)) return;
  throw new StoreError(
    "FAILED_PRECONDITION",
    `license '${licenseId}' (${license.name}) is not available for purchase: no seats can be added (the tenant has ${before ?? 0}; ${seats} asked); it can only be lowered`,
    { field: "seats" },
  );
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
