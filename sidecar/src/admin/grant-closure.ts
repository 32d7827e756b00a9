/**
 * The grant rules over a role's stored grants, as pure functions of the catalog: what granting
 * adds (requirements and implications, transitively) and what revoking would leave broken.
 * Requirement cycles need nothing special: granting one member adds the rest as its requirements,
 * and revoking one leaves the others as its dependants. Acting-user requirements (`actorRequires`)
 * are never added: a role granting a mutual permission may be meant for those on the other side.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { evaluateRequirement, requirementKeys } from "../../../catalog/requirement.js";
import type { RequirementExpr } from "../../../catalog/schema.js";

/**
 * The keys granting `keys` adds to `held`, in the order added: each key, what it implies, and
 * what it requires (for an any-of group none of whose alternatives holds, the first alternative),
 * transitively. Keys already held or unknown to the catalog are not added.
 */
export function closeGrants(catalog: Catalog, held: ReadonlySet<string>, keys: readonly string[]): string[] {
  const set = new Set(held);
  const added: string[] = [];
  const has = (k: string): boolean => set.has(k);
  const satisfy = (expr: RequirementExpr): void => {
    if (typeof expr === "string") add(expr);
    else if ("all" in expr) for (const item of expr.all) satisfy(item);
    else if (!expr.any.some((item) => evaluateRequirement(item, has))) {
      const first = expr.any[0];
      if (first !== undefined) satisfy(first);
    }
  };
  const add = (key: string): void => {
    if (set.has(key)) return;
    const permission = catalog.permissions.get(key);
    if (permission === undefined) return;
    set.add(key);
    added.push(key);
    for (const implied of permission.implies) add(implied);
    if (permission.requires !== null) satisfy(permission.requires);
  };
  for (const key of keys) add(key);
  return added;
}

/**
 * For each key of `held` outside `removing` that would lose something it needs if `removing` were
 * revoked, the removed keys it needs: a requirement that holds now but would not afterwards, or
 * an implication of it. Empty when the revoke breaks nothing.
 */
export function findDependents(
  catalog: Catalog,
  held: ReadonlySet<string>,
  removing: ReadonlySet<string>,
): Map<string, string[]> {
  const dependents = new Map<string, string[]>();
  const before = (k: string): boolean => held.has(k);
  const after = (k: string): boolean => held.has(k) && !removing.has(k);
  for (const key of held) {
    if (removing.has(key)) continue;
    const permission = catalog.permissions.get(key);
    if (permission === undefined) continue;
    const needs = new Set<string>();
    const expr = permission.requires;
    if (expr !== null && evaluateRequirement(expr, before) && !evaluateRequirement(expr, after)) {
      for (const k of requirementKeys(expr)) if (removing.has(k)) needs.add(k);
    }
    // A held implier would keep granting the implied key in effect; the revoke would be a no-op in disguise.
    for (const implied of permission.implies) if (removing.has(implied)) needs.add(implied);
    if (needs.size > 0) dependents.set(key, [...needs]);
  }
  return dependents;
}

/**
 * The held keys that share a requirement cycle with `key` (each needs the other, directly or
 * through other held keys), sorted; empty when `key` is on no cycle. Revoking one member alone
 * would leave the others unmet, so they are revoked together.
 */
export function requirementCycleOf(catalog: Catalog, held: ReadonlySet<string>, key: string): string[] {
  const next = (k: string): string[] => {
    const expr = catalog.permissions.get(k)?.requires ?? null;
    return expr === null ? [] : requirementKeys(expr).filter((x) => held.has(x));
  };
  const reach = (from: string): Set<string> => {
    const seen = new Set<string>();
    const stack = next(from);
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (seen.has(k)) continue;
      seen.add(k);
      stack.push(...next(k));
    }
    return seen;
  };
  return [...reach(key)].filter((k) => k !== key && reach(k).has(key)).sort();
}

/** `removing` plus every held key that transitively depends on it (what a cascading revoke removes). */
export function cascadeRevoke(
  catalog: Catalog,
  held: ReadonlySet<string>,
  removing: ReadonlySet<string>,
): Set<string> {
  const all = new Set(removing);
  for (;;) {
    const more = findDependents(catalog, held, all);
    if (more.size === 0) return all;
    for (const key of more.keys()) all.add(key);
  }
}
