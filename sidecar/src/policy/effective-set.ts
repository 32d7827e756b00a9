/**
 * A user's effective set per the decision semantics: granted (union of the roles' implication
 * closures), filtered to what is licensed (a license held through a role or by the tenant, and
 * the tenant licenses in the pool), then shrunk to the greatest fixpoint on which every remaining
 * permission's requirement holds. Acting-user requirements are not part of it: they decide whether
 * the user may act with a permission, not whether the user holds it (evaluator.ts).
 */
import { holds, LEAF } from "./requirement-program.js";
import type { CompiledCatalog, CompiledTenant, Snapshot } from "./snapshot.js";

// Module-local copy: some loaders (tsx, vitest) compile imported bindings to getter calls, which
// the fixpoint loop would pay on every requirement it evaluates.
const holdsOn = holds;
const LEAF_OP = LEAF;

/**
 * One buffer per user, laid out `[effective | granted | licenses held]`: effective at word 0 so
 * the hot path and requirement programs read it without an offset; granted at `words`; the
 * user's licenses (through roles, within the tenant pool) at `2 * words`.
 */
export type EffectiveBits = Uint32Array;

/** Where a user's effective bits come from: computed afresh, or from a cache. */
export type EffectiveLookup = (
  snapshot: Snapshot,
  tenant: CompiledTenant,
  userIndex: number,
) => EffectiveBits;

/** Computes the user's effective bits, with no cache. */
export const computeFresh: EffectiveLookup = (snapshot, tenant, userIndex) =>
  computeEffective(snapshot.catalog, tenant, userIndex);

/** Words of one user's effective bits (`[effective | granted | licenses held]`). */
export function effectiveWords(catalog: CompiledCatalog): number {
  return 2 * catalog.words + catalog.licenseWords;
}

/**
 * Computes the effective bits of user `u` of `tenant`. Allocates only the result buffer — or
 * none, given `bits`: `effectiveWords(catalog)` zeroed words (a view into a larger slab, when
 * thousands are computed at once: one allocation instead of one per user).
 */
export function computeEffective(
  catalog: CompiledCatalog,
  tenant: CompiledTenant,
  u: number,
  bits: Uint32Array = new Uint32Array(effectiveWords(catalog)),
): EffectiveBits {
  const W = catalog.words;
  const LW = catalog.licenseWords;
  const L = 2 * W;
  const { roleClosure, roleLicenses, userRoles } = tenant;
  const end = tenant.userRoleStart[u + 1]!;
  for (let i = tenant.userRoleStart[u]!; i < end; i++) {
    const r = userRoles[i]!;
    for (let w = 0, o = r * W; w < W; w++) bits[W + w]! |= roleClosure[o + w]!;
    for (let w = 0, o = r * LW; w < LW; w++) bits[L + w]! |= roleLicenses[o + w]!;
  }
  const { licensePermissions, licenseFree } = catalog;
  const { pool, poolHeld, tenantBlocked } = tenant;
  for (let w = 0; w < W; w++) bits[w] = licenseFree[w]!;
  for (let w = 0; w < LW; w++) {
    // Role licenses count only while the tenant has them; tenant-held ones need no role.
    bits[L + w] = (bits[L + w]! & pool[w]!) | poolHeld[w]!;
    let word = bits[L + w]!;
    while (word !== 0) {
      const low = word & -word;
      const l = (w << 5) + (31 - Math.clz32(low));
      word ^= low;
      for (let x = 0, o = l * W; x < W; x++) bits[x]! |= licensePermissions[o + x]!;
    }
  }
  for (let w = 0; w < W; w++) bits[w]! &= bits[W + w]! & ~tenantBlocked[w]!;

  // Greatest fixpoint: requirements are monotone (all/any over held permissions), so removing what
  // fails until nothing changes yields the largest self-consistent set. `requirementOrder` puts
  // dependencies first; without cycles every requirement then reads final values and one pass is
  // exact, with cycles we repeat until a pass removes nothing.
  const { program, requirementStart, requirementOrder, requirementsAcyclic } = catalog;
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < requirementOrder.length; i++) {
      const p = requirementOrder[i]!;
      const word = p >>> 5;
      const mask = 1 << (p & 31);
      if ((bits[word]! & mask) === 0) continue;
      const start = requirementStart[p]!;
      // Most requirements are a single permission: test its bit here rather than call the interpreter.
      const ok =
        program[start] === LEAF_OP
          ? ((bits[program[start + 1]! >>> 5]! >>> (program[start + 1]! & 31)) & 1) === 1
          : holdsOn(program, start, bits);
      if (!ok) {
        bits[word]! &= ~mask;
        changed = !requirementsAcyclic;
      }
    }
  }
  return bits;
}
