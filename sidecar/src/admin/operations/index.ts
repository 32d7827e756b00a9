/**
 * Every admin operation, once. The keys are AdminService's method names (lowerCamelCase), so the
 * RPC handlers, the CLI and `PolicyAdmin` all reach the same definition.
 */
import { deleteApp, listApps, putApp } from "./apps.js";
import { listAuditEvents } from "./audit.js";
import { grantPermissions, revokePermissions } from "./grants.js";
import { getLicenseUsage, setLicenseSeats, setRoleLicenses } from "./licenses.js";
import { createRole, deleteRole, listRoles, renameRole } from "./roles.js";
import { deleteSystem, listSystems, putSystem } from "./systems.js";
import { createTenant, listTenants, setTenantOwners } from "./tenants.js";
import { assignRoles, createUser, listUsers, setUserActive, unassignRoles } from "./users.js";

/** The admin operations by AdminService method name. */
export const ADMIN_OPERATIONS = Object.freeze({
  listTenants,
  listUsers,
  listRoles,
  getLicenseUsage,
  listAuditEvents,
  createTenant,
  setTenantOwners,
  createUser,
  setUserActive,
  createRole,
  renameRole,
  deleteRole,
  grantPermissions,
  revokePermissions,
  setRoleLicenses,
  setLicenseSeats,
  assignRoles,
  unassignRoles,
  listApps,
  putApp,
  deleteApp,
  putSystem,
  deleteSystem,
  listSystems,
});

/** The name of an admin operation. */
export type AdminOperationName = keyof typeof ADMIN_OPERATIONS;

export type { AuditEvent } from "./audit.js";
export type { RoleSummary } from "./roles.js";
export type { SystemDocument, TenantSystemSummary } from "./systems.js";
export type { TenantSummary } from "./tenants.js";
