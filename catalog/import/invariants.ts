/**
 * Structural checks an imported system file must pass before the loader sees it, so each
 * importer's tests catch a dangling reference or a cycle at the file that caused it.
 */

import { ADMIN_ACTIONS } from "../catalog.js";
import { requirementKeys } from "../requirement.js";
import type { RequirementExpr, SystemFile } from "../schema.js";

/**
 * Lists what is wrong with a system file (empty when nothing): unknown references, duplicates,
 * implication cycles. Requirement cycles are allowed (the loader's `cycles.ts` says why).
 */
export function systemFileProblems(file: SystemFile): string[] {
  const problems: string[] = [];
  const keys = new Set<string>();
  for (const p of file.permissions) {
    if (keys.has(p.key)) problems.push(`duplicate permission '${p.key}'`);
    keys.add(p.key);
  }
  const categories = new Set(file.categories.map((c) => c.id));
  const licenses = new Set(file.licenses.map((l) => l.id));
  const known = (where: string, list: readonly string[]) => {
    for (const key of list) if (!keys.has(key)) problems.push(`${where} names unknown permission '${key}'`);
  };
  const refs = (expr: RequirementExpr | null) => (expr === null ? [] : requirementKeys(expr));
  for (const p of file.permissions) {
    if (!categories.has(p.category))
      problems.push(`permission '${p.key}' has unknown category '${p.category}'`);
    for (const l of p.licenses)
      if (!licenses.has(l)) problems.push(`permission '${p.key}' has unknown license '${l}'`);
    known(`permission '${p.key}' requires`, refs(p.requires));
    known(`permission '${p.key}' actorRequires`, refs(p.actorRequires ?? null));
    known(`permission '${p.key}' implies`, p.implies);
    for (const l of p.tenantLicenses ?? [])
      if (!licenses.has(l)) problems.push(`permission '${p.key}' has unknown tenant license '${l}'`);
    if (p.summary.trim() === "") problems.push(`permission '${p.key}' has no summary`);
  }
  for (const l of file.licenses) known(`license '${l.id}' defaultGrants`, l.defaultGrants ?? []);
  const surfaceIds = new Set<string>();
  for (const s of file.surfaces) {
    if (surfaceIds.has(s.id)) problems.push(`duplicate surface '${s.id}'`);
    surfaceIds.add(s.id);
    known(`surface '${s.id}'`, refs(s.requires));
    if (s.selector !== `[data-rolecall-surface="${file.id}/${s.id}"]`) {
      problems.push(`surface '${s.id}' has selector ${s.selector}`);
    }
    if (!s.urlPattern.startsWith(`/${file.id}/`)) problems.push(`surface '${s.id}' has URL ${s.urlPattern}`);
  }
  for (const r of file.defaultRoles) {
    known(`role '${r.id}' grants`, r.grants);
    known(`role '${r.id}' required`, r.required);
    for (const k of r.required)
      if (!r.grants.includes(k)) problems.push(`role '${r.id}' requires ungranted '${k}'`);
  }
  known("roleAdministration", file.roleAdministration ?? []);
  (file.adminRights ?? []).forEach((right, i) => {
    const where = `adminRights #${i + 1} (${right.action})`;
    if (!(ADMIN_ACTIONS as readonly string[]).includes(right.action))
      problems.push(`${where} has unknown action`);
    if (right.permissions.length === 0) problems.push(`${where} names no permission`);
    known(where, right.permissions);
  });
  problems.push(...cycles(file));
  return problems;
}

/** Implication cycles, each reported once by the key where it was found. */
function cycles(file: SystemFile): string[] {
  const edges = new Map(file.permissions.map((p) => [p.key, p.implies]));
  const state = new Map<string, "open" | "done">();
  const found: string[] = [];
  const visit = (key: string, path: string[]) => {
    if (state.get(key) === "done") return;
    if (state.get(key) === "open") {
      found.push(`cycle: ${[...path.slice(path.indexOf(key)), key].join(" -> ")}`);
      return;
    }
    state.set(key, "open");
    for (const next of edges.get(key) ?? []) visit(next, [...path, key]);
    state.set(key, "done");
  };
  for (const key of edges.keys()) visit(key, []);
  return found;
}
