/**
 * Ranked fixes for a denial, from data the sidecar already serves (the user's effective
 * permissions and the tenant's roles): grant the missing permissions to a role the user holds,
 * add a missing license to such a role, or assign another role that already grants them. Each
 * fix counts what else it changes (other users who gain, or other permissions this user gains);
 * the fewest side effects rank first, because the smallest change is the one an admin wants.
 */
import type { FixView } from "../messages.js";
import type { RoleTable } from "./tenant-facts.js";

/** The user's decision on one permission, as the fixes need it. */
export interface Decided {
  readonly allowed: boolean;
  /** The wire reason name, e.g. "LICENSE_MISSING". */
  readonly reason: string;
  /** License ids (license missing) or permission keys (requirement missing). */
  readonly missing: readonly string[];
  readonly grantedByRoleIds: readonly string[];
}

/** What a fix is for. */
export interface FixGoal {
  readonly tenantId: string;
  readonly userId: string;
  /** Permissions the user must all gain. */
  readonly needs: readonly string[];
  readonly userRoleIds: readonly string[];
  /** The user's decision on every permission. */
  readonly decisions: ReadonlyMap<string, Decided>;
  readonly seatsFree?: ReadonlyMap<string, number>;
}

/** At most this many fixes are shown: the rest are worse by construction. */
export const MAX_FIXES = 4;

const local = (key: string) => key.slice(key.indexOf("/") + 1);
const users = (n: number) => `${n} user${n === 1 ? "" : "s"}`;

/** The fixes for one goal, best first. */
export function rankFixes(goal: FixGoal, roles: RoleTable): FixView[] {
  const { tenantId, userId, decisions } = goal;
  const held = new Set(goal.userRoleIds);
  const needs = goal.needs.filter((k) => decisions.get(k)?.allowed !== true);
  if (needs.length === 0) return [];
  // An inactive user is denied everything: no grant helps, reactivating does.
  if (needs.some((k) => decisions.get(k)?.reason === "USER_INACTIVE"))
    return [
      {
        kind: "activate",
        text: `reactivate ${userId} (an inactive user is denied everything)`,
        sideEffects: 0,
        write: { setUserActive: { tenantId, userId, active: true } },
      },
    ];
  if (roles.size === 0) return [];
  const licensed = needs.filter((k) => decisions.get(k)?.reason === "LICENSE_MISSING");
  const ungranted = needs.filter((k) => !licensed.includes(k));
  const fixes: FixView[] = [];
  const names = needs.map(local).join(", ");

  // Grant to a role the user holds: only helps what is not granted (a license problem stays).
  if (licensed.length === 0) {
    for (const id of held) {
      const role = roles.get(id);
      if (!role) continue;
      fixes.push({
        kind: "grant",
        text: `grant ${ungranted.map(local).join(", ")} to role ${role.name} (${users(role.holderCount)} hold${role.holderCount === 1 ? "s" : ""} ${role.name})`,
        sideEffects: Math.max(0, role.holderCount - 1),
        write: { grantPermissions: { tenantId, roleId: id, permissions: [...ungranted] } },
      });
    }
  }
  // Add a license to a held role that grants the permission but works under none of its licenses.
  if (ungranted.length === 0) {
    for (const key of licensed) {
      const d = decisions.get(key)!;
      for (const roleId of d.grantedByRoleIds) {
        const role = roles.get(roleId);
        if (!role || !held.has(roleId)) continue;
        for (const licenseId of d.missing) {
          const free = goal.seatsFree?.get(licenseId);
          fixes.push({
            kind: "license",
            text: `add license ${licenseId} to role ${role.name} (${users(role.holderCount)} hold${role.holderCount === 1 ? "s" : ""} it${free === undefined ? "" : `; ${free} seat${free === 1 ? "" : "s"} free`})`,
            sideEffects: Math.max(0, role.holderCount - 1),
            write: {
              setRoleLicenses: {
                tenantId,
                roleId,
                licenseIds: [...new Set([...role.licenseIds, licenseId])],
              },
            },
          });
        }
      }
    }
  }
  // Assign a role that grants everything needed (and carries a needed license).
  for (const role of roles.values()) {
    if (held.has(role.id) || !needs.every((k) => role.permissions.has(k))) continue;
    if (!licensed.every((k) => decisions.get(k)!.missing.some((l) => role.licenseIds.includes(l)))) continue;
    const extra = [...role.permissions].filter(
      (k) => !needs.includes(k) && decisions.get(k)?.allowed !== true,
    );
    fixes.push({
      kind: "assign",
      text: `assign role ${role.name} (adds ${extra.length} other permission${extra.length === 1 ? "" : "s"})`,
      sideEffects: extra.length,
      write: { assignRoles: { tenantId, userId, roleIds: [role.id] } },
    });
  }
  const order = { activate: 0, license: 1, grant: 2, assign: 3 } as const;
  fixes.sort((a, b) => a.sideEffects - b.sideEffects || order[a.kind] - order[b.kind]);
  // Say what it is for when several permissions are needed and the text names only some.
  return fixes
    .slice(0, MAX_FIXES)
    .map((f) => (needs.length > 1 && f.kind === "assign" ? { ...f, text: `${f.text} — for ${names}` } : f));
}

/** The permissions a denied permission needs: itself, or what it requires when that is the gap. */
export function needsFor(permission: string, decisions: ReadonlyMap<string, Decided>): string[] {
  const d = decisions.get(permission);
  if (d?.reason === "REQUIREMENT_MISSING" && d.missing.length > 0) return [...d.missing];
  return [permission];
}
