/**
 * Default roles (Calabrio ONE's administrator/agent/supervisor, CxEngage's three, iAdvize's
 * Manager): created with each enabled system, renamable, never deletable (role-rules.ts), and
 * they keep the permissions the catalog marks as required.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { PolicyStoreTx, RoleRow } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";
import { closeGrants } from "./grant-closure.js";
import { defaultGrantsOf } from "./license-rules.js";

/**
 * Creates the default roles of `systems` that the tenant lacks (all of them in a new tenant);
 * returns the ids created (`<system>.<role>`).
 */
export async function createDefaultRoles(
  tx: PolicyStoreTx,
  catalog: Catalog,
  tenantId: string,
  systems: readonly string[],
  now: string,
): Promise<string[]> {
  const defaults = catalog.systems
    .filter((s) => systems.includes(s.id))
    .flatMap((s) => s.defaultRoles.map((r) => ({ system: s, role: r })));
  const nameCount = new Map<string, number>();
  for (const { role } of defaults)
    nameCount.set(role.name.toLowerCase(), (nameCount.get(role.name.toLowerCase()) ?? 0) + 1);
  const roleIds: string[] = [];
  for (const { system, role } of defaults) {
    const roleId = `${system.id}.${role.id}`;
    // A system put again (PutSystem) keeps the default roles it created before, as they are now.
    if ((await tx.role(tenantId, roleId)) !== undefined) continue;
    // Two systems may both have an "Administrator"; the system name tells them apart.
    let name =
      (nameCount.get(role.name.toLowerCase()) ?? 0) > 1 ? `${role.name} (${system.name})` : role.name;
    if ((await tx.roleNamed(tenantId, name)) !== undefined) name = `${role.name} (${system.name})`;
    const taken = await tx.roleNamed(tenantId, name);
    if (taken !== undefined) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        `default role '${role.id}' of ${system.id} would be named '${name}', which role '${taken}' already is; rename that role first`,
        { field: "system" },
      );
    }
    await tx.insertRole(
      tenantId,
      { id: roleId, name, kind: "default", basedOn: null, defaultSystem: system.id, defaultRole: role.id },
      now,
    );
    // Closed under requirements and implications, like any role the admin writes produce, and
    // with what its licenses grant by default, as when any role is associated with them.
    const grants = closeGrants(catalog, new Set(), role.grants);
    await tx.addGrants(tenantId, roleId, [...grants, ...defaultGrantsOf(catalog, grants, role.licenses)]);
    await tx.setRoleLicenses(tenantId, roleId, role.licenses);
    roleIds.push(roleId);
  }
  return roleIds;
}

/** FAILED_PRECONDITION when a revoke would take from a default role a permission it must keep. */
export function checkDefaultRoleKeeps(catalog: Catalog, role: RoleRow, removing: ReadonlySet<string>): void {
  if (role.kind !== "default") return;
  const system = catalog.systems.find((s) => s.id === role.defaultSystem);
  const required = system?.defaultRoles.find((r) => r.id === role.defaultRole)?.required ?? [];
  const lost = required.filter((k) => removing.has(k));
  if (lost.length > 0) {
    throw new StoreError(
      "FAILED_PRECONDITION",
      `default role '${role.id}' must keep ${lost.join(", ")}; it cannot be revoked`,
      { field: "permissions" },
    );
  }
}
