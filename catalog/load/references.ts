/**
 * Phase 2, references: every category, license and permission a system names must exist,
 * in its own file or (qualified) in another. A miss names the nearest known id.
 */
import { closestKey } from "../closest-key.js";
import { qualifyKey, requirementKeys } from "../requirement.js";
import type { PermissionEntry } from "../schema.js";
import { checkAdminRightReferences } from "./admin-rights.js";
import type { IssueList } from "./issues.js";
import type { SystemDraft } from "./shape.js";

/** Every known qualified id, for resolving references and suggesting near misses. */
export class References {
  /** Every well-formed permission by qualified key, with the system it came from. */
  readonly permissions = new Map<string, { readonly system: SystemDraft; readonly entry: PermissionEntry }>();
  /** Every well-formed license's qualified id. */
  readonly licenses = new Set<string>();
  /** Qualified ids of malformed entries and ids inside broken systems: never reported as unknown. */
  private readonly droppedPermissions = new Set<string>();
  private readonly droppedLicenses = new Set<string>();

  constructor(
    drafts: readonly SystemDraft[],
    private readonly brokenSystems: ReadonlySet<string>,
  ) {
    for (const system of drafts) {
      for (const entry of system.permissions)
        this.permissions.set(`${system.id}/${entry.key}`, { system, entry });
      for (const license of system.licenses) this.licenses.add(`${system.id}/${license.id}`);
      for (const key of system.dropped.permissions) this.droppedPermissions.add(`${system.id}/${key}`);
      for (const key of system.dropped.licenses) this.droppedLicenses.add(`${system.id}/${key}`);
    }
  }

  /**
   * Problem text for a permission reference written in `system`'s file, or `null` when it resolves
   * or when its target is already reported as malformed.
   */
  permissionProblem(ref: string, system: string): string | null {
    const key = qualifyKey(ref, system);
    if (this.permissions.has(key) || this.droppedPermissions.has(key)) return null;
    if (this.brokenSystems.has(systemOf(key))) return null;
    return `unknown permission '${ref}'${suggestion(ref, key, system, this.permissions.keys())}`;
  }

  /** Problem text for a license reference, or `null` when it resolves. */
  licenseProblem(ref: string, system: string): string | null {
    const id = qualifyKey(ref, system);
    if (this.licenses.has(id) || this.droppedLicenses.has(id)) return null;
    if (this.brokenSystems.has(systemOf(id))) return null;
    return `unknown license '${ref}'${suggestion(ref, id, system, this.licenses)}`;
  }
}

/** The system part of a qualified key (`cxengage` of `cxengage/CONTACTS_READ`). */
export function systemOf(qualified: string): string {
  return qualified.slice(0, qualified.lastIndexOf("/"));
}

/** `" (did you mean 'x'?)"`, showing the suggestion in the same local/qualified form as the reference. */
function suggestion(ref: string, qualified: string, system: string, known: Iterable<string>): string {
  const near = closestKey(qualified, known);
  if (near === null) return "";
  const shown = !ref.includes("/") && systemOf(near) === system ? near.slice(system.length + 1) : near;
  return ` (did you mean '${shown}'?)`;
}

/** Reports every reference of one system that resolves nowhere. */
export function checkReferences(system: SystemDraft, refs: References, issues: IssueList): void {
  const fail = (id: string | undefined, message: string) => issues.add(system.file, id, message);
  const categories = new Set(system.categories.map((c) => c.id));

  checkAdminRightReferences(system, refs, fail);

  for (const p of system.permissions) {
    const label = `permission '${p.key}'`;
    if (!categories.has(p.category) && !system.dropped.categories.has(p.category)) {
      const near = closestKey(p.category, categories);
      fail(
        p.key,
        `${label}: unknown category '${p.category}'${near === null ? "" : ` (did you mean '${near}'?)`}`,
      );
    }
    for (const ref of p.licenses) {
      const problem = refs.licenseProblem(ref, system.id);
      if (problem !== null) fail(p.key, `${label}: needs ${problem}`);
    }
    if (p.requires !== null) {
      for (const ref of requirementKeys(p.requires)) {
        const problem = refs.permissionProblem(ref, system.id);
        if (problem !== null) fail(p.key, `${label}: requires ${problem}`);
      }
    }
    for (const ref of p.implies) {
      const problem = refs.permissionProblem(ref, system.id);
      if (problem !== null) fail(p.key, `${label}: implies ${problem}`);
    }
    if (p.actorRequires !== undefined && p.actorRequires !== null) {
      for (const ref of requirementKeys(p.actorRequires)) {
        const problem = refs.permissionProblem(ref, system.id);
        if (problem !== null) fail(p.key, `${label}: actorRequires ${problem}`);
      }
    }
    for (const ref of p.tenantLicenses ?? []) {
      const problem = refs.licenseProblem(ref, system.id);
      if (problem !== null) fail(p.key, `${label}: tenantLicenses names ${problem}`);
    }
  }

  for (const l of system.licenses) {
    for (const ref of l.defaultGrants ?? []) {
      const problem = refs.permissionProblem(ref, system.id);
      if (problem !== null) fail(l.id, `license '${l.id}': defaultGrants names ${problem}`);
    }
  }

  for (const s of system.surfaces) {
    for (const ref of requirementKeys(s.requires)) {
      const problem = refs.permissionProblem(ref, system.id);
      if (problem !== null) fail(s.id, `surface '${s.id}': requires ${problem}`);
    }
  }

  for (const role of system.defaultRoles) {
    const label = `default role '${role.id}'`;
    for (const ref of role.grants) {
      const problem = refs.permissionProblem(ref, system.id);
      if (problem !== null) fail(role.id, `${label}: grants ${problem}`);
    }
    const granted = new Set(role.grants.map((k) => qualifyKey(k, system.id)));
    for (const ref of role.required) {
      const problem = refs.permissionProblem(ref, system.id);
      if (problem !== null) fail(role.id, `${label}: required names ${problem}`);
      else if (!granted.has(qualifyKey(ref, system.id))) {
        fail(role.id, `${label}: required permission '${ref}' is not in its grants`);
      }
    }
    for (const ref of role.licenses) {
      const problem = refs.licenseProblem(ref, system.id);
      if (problem !== null) fail(role.id, `${label}: is associated with ${problem}`);
    }
  }
}
