/**
 * Compiles the catalog once: interns permission keys and license ids, closes implications
 * transitively, builds license masks and the requirement program (requirements, acting-user
 * requirements and surfaces). Every tenant of every snapshot
 * built from the same catalog shares the result.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import type { RequirementExpr } from "../../../catalog/schema.js";
import { orInto, setBit, wordsFor } from "./bitset.js";
import { ProgramBuilder } from "./requirement-program.js";
import {
  type CompiledCatalog,
  FLAG_ACTOR_REQUIRES,
  FLAG_ALL,
  FLAG_LICENSED,
  FLAG_MUTUAL,
  FLAG_REQUIRES,
  FLAG_SELF,
  FLAG_TENANT_LICENSED,
} from "./snapshot.js";

/** A string that changes whenever anything the compiled form depends on changes. */
export function catalogFingerprint(catalog: Catalog): string {
  return JSON.stringify(
    catalog.systems.map((s) => [
      s.id,
      s.licenses.map((l) => l.id),
      s.licenses.map((l) => l.heldBy ?? "role"),
      s.permissions.map((p) => [
        p.key,
        p.licenses,
        p.requires,
        p.implies,
        p.mutual,
        p.scope,
        p.actorRequires ?? null,
        p.tenantLicenses ?? [],
      ]),
      s.surfaces.map((x) => [x.id, x.requires]),
    ]),
  );
}

/** Compiles `catalog`. */
export function compileCatalog(catalog: Catalog): CompiledCatalog {
  const permissions = catalog.systems.flatMap((s) => s.permissions);
  const permissionKeys: string[] = permissions.map((p) => p.key);
  const permissionIndex = new Map<string, number>();
  for (const [i, key] of permissionKeys.entries()) permissionIndex.set(key, i);
  const permissionCount = permissionKeys.length;

  // A requirement naming a key the catalog lacks is interned as a phantom that nobody can hold,
  // rather than failing the compile: a bad catalog row must not stop the sidecar from serving.
  const phantoms = new Map<string, number>();
  const indexOf = (key: string): number => {
    let i = permissionIndex.get(key) ?? phantoms.get(key);
    if (i === undefined) {
      i = permissionKeys.length;
      permissionKeys.push(key);
      phantoms.set(key, i);
    }
    return i;
  };
  const program = new ProgramBuilder();
  const requirementStart = new Int32Array(permissionCount).fill(-1);
  const actorRequirementStart = new Int32Array(permissionCount).fill(-1);
  for (const [i, p] of permissions.entries()) {
    if (p.requires !== null) requirementStart[i] = program.add(p.requires, indexOf);
    if (p.actorRequires !== undefined) actorRequirementStart[i] = program.add(p.actorRequires, indexOf);
  }
  const surfaceStart = new Map<string, number>();
  for (const system of catalog.systems) {
    for (const s of system.surfaces) surfaceStart.set(s.id, program.add(s.requires, indexOf));
  }
  const words = wordsFor(permissionKeys.length);

  // Licenses a permission lists but the catalog does not define are interned too: a role and a
  // pool naming the same id must still match, exactly as the semantics read.
  const licenseIds = catalog.systems.flatMap((s) => s.licenses.map((l) => l.id));
  const licenseIndex = new Map<string, number>();
  for (const [i, id] of licenseIds.entries()) licenseIndex.set(id, i);
  for (const p of permissions) {
    for (const id of [...p.licenses, ...(p.tenantLicenses ?? [])]) {
      if (!licenseIndex.has(id)) {
        licenseIndex.set(id, licenseIds.length);
        licenseIds.push(id);
      }
    }
  }
  const licenseWords = wordsFor(licenseIds.length);
  const tenantHeldLicenses = new Uint32Array(licenseWords);
  for (const system of catalog.systems) {
    for (const l of system.licenses)
      if (l.heldBy === "tenant") setBit(tenantHeldLicenses, licenseIndex.get(l.id)!);
  }

  const flags = new Uint8Array(permissionKeys.length);
  const licensePermissions = new Uint32Array(licenseIds.length * words);
  const licenseFree = new Uint32Array(words);
  const permissionLicenseStart = new Int32Array(permissionCount + 1);
  const permissionLicenses: number[] = [];
  const permissionTenantLicenseStart = new Int32Array(permissionCount + 1);
  const permissionTenantLicenses: number[] = [];
  for (const [i, p] of permissions.entries()) {
    let f = 0;
    if (p.mutual) f |= FLAG_MUTUAL;
    if (p.scope === "self") f |= FLAG_SELF;
    if (p.scope === "all") f |= FLAG_ALL;
    if (p.requires !== null) f |= FLAG_REQUIRES;
    if (p.actorRequires !== undefined) f |= FLAG_ACTOR_REQUIRES;
    permissionTenantLicenseStart[i] = permissionTenantLicenses.length;
    for (const id of new Set(p.tenantLicenses ?? [])) {
      f |= FLAG_TENANT_LICENSED;
      permissionTenantLicenses.push(licenseIndex.get(id)!);
    }
    permissionLicenseStart[i] = permissionLicenses.length;
    for (const id of p.licenses) {
      const l = licenseIndex.get(id)!;
      f |= FLAG_LICENSED;
      if (permissionLicenses.indexOf(l, permissionLicenseStart[i]) >= 0) continue;
      permissionLicenses.push(l);
      setBit(licensePermissions, i, l * words);
    }
    if ((f & FLAG_LICENSED) === 0) setBit(licenseFree, i);
    flags[i] = f;
  }
  permissionLicenseStart[permissionCount] = permissionLicenses.length;
  permissionTenantLicenseStart[permissionCount] = permissionTenantLicenses.length;

  const closure = closeImplications(permissions, permissionIndex, permissionKeys.length, words);
  const { selfTwinStart, selfTwins } = findSelfTwins(flags, closure, permissionCount, words);
  const requirements = orderRequirements(permissions, permissionIndex);

  return {
    source: catalog,
    fingerprint: catalogFingerprint(catalog),
    permissionKeys,
    permissionCount,
    permissionIndex,
    words,
    flags,
    closure,
    selfTwinStart,
    selfTwins,
    licenseIds,
    licenseIndex,
    licenseWords,
    permissionLicenseStart,
    permissionLicenses: Int32Array.from(permissionLicenses),
    licensePermissions,
    licenseFree,
    tenantHeldLicenses,
    permissionTenantLicenseStart,
    permissionTenantLicenses: Int32Array.from(permissionTenantLicenses),
    program: program.build(),
    requirementStart,
    actorRequirementStart,
    requirementOrder: requirements.order,
    requirementsAcyclic: requirements.acyclic,
    surfaceStart,
    systemIds: catalog.systems.map((s) => s.id),
    systemPermissions: catalog.systems.map((s) =>
      Int32Array.from(s.permissions.map((p) => permissionIndex.get(p.key)!)),
    ),
  };
}

/** Per permission, the bitset of everything it implies, transitively, itself included. */
function closeImplications(
  permissions: readonly { readonly implies: readonly string[] }[],
  index: ReadonlyMap<string, number>,
  count: number,
  words: number,
): Uint32Array {
  const closure = new Uint32Array(count * words);
  // 0 = not started, 1 = in progress, 2 = done. A cycle member in progress contributes what it has
  // so far; the fix-up loop below completes cycles.
  const state = new Uint8Array(count);
  const visit = (i: number): void => {
    if (state[i] !== 0) return;
    state[i] = 1;
    setBit(closure, i, i * words);
    for (const key of permissions[i]?.implies ?? []) {
      const j = index.get(key);
      if (j === undefined) continue;
      visit(j);
      orInto(closure, i * words, closure, j * words, words);
    }
    state[i] = 2;
  };
  for (let i = 0; i < count; i++) visit(i);
  // Implication cycles are rare; iterate until nothing grows so their members end up equal.
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < permissions.length; i++) {
      for (const key of permissions[i]!.implies) {
        const j = index.get(key);
        if (j === undefined) continue;
        for (let w = 0; w < words; w++) {
          // `>>> 0`: `|` yields a signed int, the array holds unsigned words (bit 31 would never compare equal).
          const merged = (closure[i * words + w]! | closure[j * words + w]!) >>> 0;
          if (merged !== closure[i * words + w]) {
            closure[i * words + w] = merged;
            changed = true;
          }
        }
      }
    }
  }
  return closure;
}

/** For each `self` permission, the `all` permissions that imply it (its `_ALL` twins). */
function findSelfTwins(
  flags: Uint8Array,
  closure: Uint32Array,
  count: number,
  words: number,
): { selfTwinStart: Int32Array; selfTwins: Int32Array } {
  const start = new Int32Array(count + 1);
  const twins: number[] = [];
  for (let p = 0; p < count; p++) {
    start[p] = twins.length;
    if ((flags[p]! & FLAG_SELF) === 0) continue;
    for (let q = 0; q < count; q++) {
      if (
        q !== p &&
        (flags[q]! & FLAG_ALL) !== 0 &&
        ((closure[q * words + (p >>> 5)]! >>> (p & 31)) & 1) === 1
      ) {
        twins.push(q);
      }
    }
  }
  start[count] = twins.length;
  return { selfTwinStart: start, selfTwins: Int32Array.from(twins) };
}

/**
 * Permissions with requirements, each after the ones its requirement mentions, and whether that
 * order is a true topological order (no requirement cycle), in which case one fixpoint pass is exact.
 */
function orderRequirements(
  permissions: readonly { readonly requires: RequirementExpr | null }[],
  index: ReadonlyMap<string, number>,
): { order: Int32Array; acyclic: boolean } {
  const order: number[] = [];
  // 0 = unvisited, 1 = on the DFS stack, 2 = done.
  const state = new Uint8Array(permissions.length);
  let acyclic = true;
  const keysOf = (e: RequirementExpr, out: string[]): string[] => {
    if (typeof e === "string") out.push(e);
    else for (const item of "all" in e ? e.all : e.any) keysOf(item, out);
    return out;
  };
  const visit = (i: number): void => {
    if (state[i] === 1) acyclic = false;
    if (state[i] !== 0) return;
    state[i] = 1;
    const requires = permissions[i]!.requires;
    if (requires !== null) {
      for (const key of keysOf(requires, [])) {
        const j = index.get(key);
        if (j !== undefined) visit(j);
      }
      order.push(i);
    }
    state[i] = 2;
  };
  for (let i = 0; i < permissions.length; i++) visit(i);
  return { order: Int32Array.from(order), acyclic };
}
