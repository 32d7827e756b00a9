/**
 * Where an effective permission comes from besides its granting roles: the user's licenses it
 * works under and the requirement it needs, so a per-user matrix can show the source of each right.
 */
import type { CatalogPermission } from "../../../catalog/catalog.js";
import { formatRequirement } from "../../../catalog/requirement.js";

/** The sources of one row of ListEffectivePermissions. */
export function permissionSources(
  permission: CatalogPermission,
  allowed: boolean,
  userLicenseIds: readonly string[],
): { licensedBy: string[]; requirement: string } {
  const held = new Set(userLicenseIds);
  return {
    // A denied permission is licensed by nothing the user could rely on.
    licensedBy: allowed ? permission.licenses.filter((l) => held.has(l)) : [],
    requirement: permission.requires === null ? "" : formatRequirement(permission.requires),
  };
}
