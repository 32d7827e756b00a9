/** The catalog's public API: the data-file contract, the loaded catalog, the loader and requirement utilities. */
export type {
  Catalog,
  CatalogDefaultRole,
  CatalogLicense,
  CatalogPermission,
  CatalogSurface,
  CatalogSystem,
} from "./catalog.js";
export { closestKey, didYouMean, editDistance } from "./closest-key.js";
export {
  buildCatalog,
  CatalogError,
  type CatalogIssue,
  type CatalogSource,
  defaultCatalogDir,
  formatCatalogIssue,
  loadCatalog,
} from "./loader.js";
export {
  evaluateRequirement,
  formatRequirement,
  missingForRequirement,
  normalizeRequirement,
  parseRequirement,
  qualifyKey,
  qualifyRequirement,
  REQUIREMENT_KEY_PATTERN,
  REQUIREMENT_KEYWORDS,
  RequirementSyntaxError,
  requirementKeys,
  unmetRequirement,
} from "./requirement.js";
export type {
  CategoryEntry,
  DefaultRoleEntry,
  LicenseEntry,
  PermissionEntry,
  PermissionScope,
  PermissionStatus,
  RequirementExpr,
  SurfaceEntry,
  SurfaceKind,
  SystemFile,
} from "./schema.js";
export { SYSTEM_IDS, slugify } from "./schema.js";
