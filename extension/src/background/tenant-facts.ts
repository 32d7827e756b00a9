/**
 * What the background reads about a tenant besides one user's decisions: its roles (names,
 * grants, licenses, holder counts), its user ids and license seats. A token that may not read
 * them gets empty facts, never an error: the overlay and popup then show ids and no ranked fixes.
 */
import type { RoleRef } from "../messages.js";
import type { SidecarClients } from "./sidecar-client.js";

/** One role of the tenant. */
export interface RoleFacts {
  readonly id: string;
  readonly name: string;
  readonly permissions: ReadonlySet<string>;
  readonly licenseIds: readonly string[];
  readonly holderCount: number;
}

/** The tenant's roles by id. */
export type RoleTable = ReadonlyMap<string, RoleFacts>;

/** The tenant's roles, or an empty table when the token may not list them. */
export async function readRoles(clients: SidecarClients, tenantId: string): Promise<RoleTable> {
  try {
    const res = await clients.admin.listRoles({ tenantId });
    return new Map(
      res.roles.map((r) => [
        r.roleId,
        {
          id: r.roleId,
          name: r.name || r.roleId,
          permissions: new Set(r.permissions),
          licenseIds: [...r.licenseIds],
          holderCount: r.holderCount,
        },
      ]),
    );
  } catch {
    return new Map();
  }
}

/** The tenant's user ids, or none when the token may not list them. */
export async function readUserIds(clients: SidecarClients, tenantId: string): Promise<string[]> {
  try {
    return (await clients.admin.listUsers({ tenantId })).users.map((u) => u.userId);
  } catch {
    return [];
  }
}

/** Seats of one license, or undefined when the token may not read them. */
export async function readSeats(
  clients: SidecarClients,
  tenantId: string,
  licenseId: string,
): Promise<{ licenseId: string; used: number; seats: number } | undefined> {
  try {
    const res = await clients.admin.getLicenseUsage({ tenantId, licenseId });
    return { licenseId, used: res.used, seats: res.seats };
  } catch {
    return undefined;
  }
}

/** Role ids with their names; an id stands for its name when the table lacks it. */
export function roleRefs(roles: RoleTable, ids: readonly string[]): RoleRef[] {
  return ids.map((id) => ({ id, name: roles.get(id)?.name ?? id }));
}
