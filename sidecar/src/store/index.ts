/** The policy store's public surface: open, migrate, import the catalog, admin writes, policy reads, tokens, backup. */
export {
  type AuditEvent,
  PolicyAdmin,
  type PolicyAdminOptions,
  type RoleSummary,
  type TenantSummary,
  type WriteResult,
} from "./admin.js";
export {
  authorizeAdmin,
  type HoldsFn,
  type Principal,
  principalLabel,
} from "./authorize.js";
export { exportDatabase, type RestoreOptions, type RestoreResult, restoreDatabase } from "./backup.js";
export { type CatalogImportResult, catalogHash, importCatalog } from "./catalog-import.js";
export { type Db, type OpenDatabaseOptions, openDatabase } from "./database.js";
export { DEMO_TENANT_ID, type DemoSeedResult, seedDemo } from "./demo.js";
export {
  assertSchemaCurrent,
  MIGRATIONS,
  type Migration,
  migrate,
  readSchemaVersion,
  SCHEMA_VERSION,
} from "./migrations.js";
export { type OpenStoreOptions, openStore } from "./open-store.js";
export {
  type ChangeSet,
  readChangesSince,
  readPolicySource,
  readPolicySourceForTenants,
} from "./read-policy.js";
export { readDatabaseId, readRevision } from "./revision.js";
export { StoreError, type StoreErrorCode } from "./store-error.js";
export { createToken, hashToken, revokeToken, TOKEN_PREFIX, verifyToken } from "./tokens.js";
