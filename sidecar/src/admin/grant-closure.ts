/**
 * The grant rules over a role's stored grants, as pure functions of the catalog: what granting
 * adds (requirements and implications, transitively) and what revoking would leave broken.
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
