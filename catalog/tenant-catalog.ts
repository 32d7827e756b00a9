/**
 * A tenant's own systems (its agent desktop back end, a reporting API): documents in the same
 * schema as `catalog/data/*.json`, validated by the loader's phases with the same messages, and
 * merged after the vendor systems into the catalog that tenant is decided on. Only `id`, `name`
 * and each permission's `key` and `name` are required (`load/custom-defaults.ts`).
 */
import type { Catalog, CatalogSystem } from "./catalog.js";
import { assemble } from "./load/assemble.js";
import { withCustomDefaults } from "./load/custom-defaults.js";
import { checkCycles } from "./load/cycles.js";
import { CatalogError, formatCatalogIssue, IssueList } from "./load/issues.js";
import { checkReferences, References } from "./load/references.js";
import { checkSystemShape, type SystemDraft } from "./load/shape.js";
import type { CatalogSource } from "./loader.js";
import type { PermissionEntry } from "./schema.js";

/**
 * Validates a tenant's own system documents against the vendor catalog `base` and returns their
 * systems (qualified, in id order). References may name the vendor systems' permissions and
 * licenses (qualified) and each other's. A custom id may not be a vendor system's. Throws
 * `CatalogError` listing every problem, each naming the source's `file`.
 */
export function buildCustomSystems(base: Catalog, sources: readonly CatalogSource[]): CatalogSystem[] {
  const issues = new IssueList();
  const drafts: SystemDraft[] = [];
  const broken = new Set<string>();
  const fileOfSystem = new Map<string, string>();
  const vendor = new Set(base.systems.map((s) => s.id));
  for (const source of sources) {
    const data = withCustomDefaults(source.data);
    // The id the file declares is the one expected: an uploaded document has no file name to match.
    const declared =
      typeof (data as { id?: unknown } | null)?.id === "string" ? (data as { id: string }).id : "";
    const draft = checkSystemShape(source.file, data, declared, issues);
    if (draft === null) continue;
    if (vendor.has(draft.id)) {
      issues.add(
        draft.file,
        undefined,
        `system: id '${draft.id}' is a vendor system of the catalog; choose another id for your own system`,
      );
      continue;
    }
    const previous = fileOfSystem.get(draft.id);
    if (previous !== undefined) {
      issues.add(draft.file, undefined, `system id '${draft.id}' is already used by ${previous}`);
      continue;
    }
    fileOfSystem.set(draft.id, draft.file);
    if (draft.dropped.all) broken.add(draft.id);
    drafts.push(draft);
  }
  const all = [...base.systems.map(draftOfVendor), ...drafts];
  const refs = new References(all, broken);
  for (const draft of drafts) checkReferences(draft, refs, issues);
  checkCycles(all, refs, issues);
  if (issues.list.length > 0) throw new CatalogError(issues.list);
  return [...assemble(drafts).systems];
}

/** Each extended catalog's vendor catalog. */
const vendorCatalogs = new WeakMap<Catalog, Catalog>();

/**
 * The vendor catalog under `catalog`: itself unless `extendCatalog` made it. A policy read is
 * always compiled on the vendor catalog, so one tenant's systems never reach another tenant.
 */
export function vendorCatalogOf(catalog: Catalog): Catalog {
  return vendorCatalogs.get(catalog) ?? catalog;
}

/** `base` with `custom` systems after its own, every lookup map covering both. */
export function extendCatalog(base: Catalog, custom: readonly CatalogSystem[]): Catalog {
  if (custom.length === 0) return base;
  const permissions = new Map(base.permissions);
  const licenses = new Map(base.licenses);
  const surfaces = new Map(base.surfaces);
  for (const system of custom) {
    for (const p of system.permissions) permissions.set(p.key, p);
    for (const l of system.licenses) licenses.set(l.id, l);
    for (const s of system.surfaces) surfaces.set(s.id, s);
  }
  const extended = { systems: [...base.systems, ...custom], permissions, licenses, surfaces };
  vendorCatalogs.set(extended, vendorCatalogOf(base));
  return extended;
}

/**
 * A vendor system as the reference and cycle phases see a draft: only what they read (keys,
 * license ids, implications), since the vendor catalog itself was validated when it was loaded.
 */
function draftOfVendor(system: CatalogSystem): SystemDraft {
  const permissions = system.permissions.map(
    (p): PermissionEntry => ({
      key: p.localKey,
      name: p.name,
      category: p.category,
      summary: p.summary,
      pages: p.pages,
      licenses: p.licenses,
      requires: p.requires,
      implies: p.implies,
      status: p.status,
      mutual: p.mutual,
      scope: p.scope,
    }),
  );
  return {
    file: `${system.id}.json`,
    id: system.id,
    name: system.name,
    adminRights: [],
    roleAdministration: null,
    categories: [],
    licenses: system.licenses.map((l) => ({ id: l.id.slice(system.id.length + 1), name: l.name })),
    defaultRoles: [],
    permissions,
    surfaces: [],
    dropped: { permissions: new Set(), licenses: new Set(), categories: new Set(), all: false },
  };
}

/** A tenant's own system as stored: its id and the JSON text put. */
export interface CustomSystemText {
  readonly id: string;
  readonly document: string;
}

/** Extended catalogs kept per vendor catalog, so a tenant recompiled on each write rebuilds nothing. */
const MAX_CACHED_PER_BASE = 64;
interface Extended {
  readonly catalog: Catalog;
  /** Why each stored system left out of `catalog` is not in force, by system id. */
  readonly problems: ReadonlyMap<string, string>;
}
const extendedCache = new WeakMap<Catalog, Map<string, Extended>>();

/**
 * The catalog a tenant with systems of its own is decided on: `base` extended with them,
 * memoised on the documents. A stored document that no longer validates (the vendor catalog
 * changed under it) is left out rather than failing the whole tenant, and `customSystemProblems`
 * says why; PutSystem never stores one.
 */
export function catalogWithCustomSystems(base: Catalog, stored: readonly CustomSystemText[]): Catalog {
  return stored.length === 0 ? base : extended(base, stored).catalog;
}

/**
 * The stored systems `catalogWithCustomSystems` leaves out (a vendor system now has their id, or
 * a permission they name is gone), each with the loader's messages. Empty when all are in force.
 */
export function customSystemProblems(
  base: Catalog,
  stored: readonly CustomSystemText[],
): ReadonlyMap<string, string> {
  return stored.length === 0 ? new Map() : extended(base, stored).problems;
}

function extended(base: Catalog, stored: readonly CustomSystemText[]): Extended {
  const key = JSON.stringify(stored.map((s) => [s.id, s.document]));
  let cache = extendedCache.get(base);
  if (cache === undefined) {
    cache = new Map();
    extendedCache.set(base, cache);
  }
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const { systems, problems } = customSystemsOf(base, stored);
  const built = { catalog: extendCatalog(base, systems), problems };
  if (cache.size >= MAX_CACHED_PER_BASE) cache.delete(cache.keys().next().value as string);
  cache.set(key, built);
  return built;
}

function customSystemsOf(
  base: Catalog,
  stored: readonly CustomSystemText[],
): {
  systems: CatalogSystem[];
  problems: Map<string, string>;
} {
  const sources = stored.map((s) => ({ id: s.id, file: `${s.id}.json`, data: parseOrNull(s.document) }));
  const problems = new Map<string, string>();
  try {
    return { systems: buildCustomSystems(base, sources), problems };
  } catch (err) {
    if (!(err instanceof CatalogError)) throw err;
    // Keep every system that stands on its own; references between custom systems are rare.
    const systems = sources.flatMap((source) => {
      try {
        return buildCustomSystems(base, [source]);
      } catch (one) {
        if (!(one instanceof CatalogError)) throw one;
        problems.set(source.id, one.issues.map(formatCatalogIssue).join("; "));
        return [];
      }
    });
    return { systems, problems };
  }
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
