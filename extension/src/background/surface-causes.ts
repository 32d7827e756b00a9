/**
 * Gives each denied surface of a page the cause behind it, in the same words the popup uses for
 * the permission (a surface denied because CONTACTS_UPDATE is not granted says "not granted",
 * not "requirement missing"), the licenses whose absence denies it with their free seats, and
 * the ranked fixes.
 */
import {
  isAnyOfRequirement,
  type LicenseSeatsView,
  type PageSurfaces,
  type SurfaceView,
} from "../messages.js";
import { type Decided, rankFixes } from "./fixes.js";
import { reasonWord } from "./reason-words.js";
import type { RoleTable } from "./tenant-facts.js";

/** What the causes are computed from. */
export interface CauseFacts {
  readonly userId: string;
  readonly userRoleIds: readonly string[];
  readonly decisions: ReadonlyMap<string, Decided>;
  readonly roles: RoleTable;
  /** Seats of every license some denial names, by id. */
  readonly seats: ReadonlyMap<string, LicenseSeatsView>;
}

/** The licenses a page's denials name (those whose seats are worth reading). */
export function licensesNamed(page: PageSurfaces, decisions: ReadonlyMap<string, Decided>): string[] {
  const ids = new Set<string>();
  for (const s of page.surfaces) {
    for (const key of s.missing) {
      const d = decisions.get(key);
      if (d?.reason === "LICENSE_MISSING") for (const l of d.missing) ids.add(l);
    }
  }
  return [...ids];
}

/** Priority of a cause when several permissions are missing: the nearest to allowed wins. */
const NEAREST = ["LICENSE_MISSING", "REQUIREMENT_MISSING", "NOT_GRANTED"];

function withCause(s: SurfaceView, page: PageSurfaces, facts: CauseFacts): SurfaceView {
  if (s.allowed || s.missing.length === 0) return s;
  const reasons = s.missing.map((k) => facts.decisions.get(k)?.reason ?? "");
  const cause = NEAREST.find((r) => reasons.includes(r)) ?? reasons[0] ?? "";
  const licenses = [
    ...new Set(
      s.missing.flatMap((k) => {
        const d = facts.decisions.get(k);
        return d?.reason === "LICENSE_MISSING" ? d.missing : [];
      }),
    ),
  ]
    .map((l) => facts.seats.get(l))
    .filter((l): l is LicenseSeatsView => l !== undefined);
  // "a or b or c": any one of them would do, so each is a goal of its own.
  const anyOf = isAnyOfRequirement(s.requirement);
  const goals = anyOf ? s.missing.map((k) => [k]) : [[...s.missing]];
  const seatsFree = new Map([...facts.seats.values()].map((l) => [l.licenseId, l.seats - l.used]));
  const fixes = goals
    .flatMap((needs) =>
      rankFixes(
        {
          tenantId: page.subject.tenantId,
          userId: facts.userId,
          needs,
          userRoleIds: facts.userRoleIds,
          decisions: facts.decisions,
          seatsFree,
        },
        facts.roles,
      ),
    )
    .sort((a, b) => a.sideEffects - b.sideEffects)
    .slice(0, 3);
  return { ...s, reason: cause ? reasonWord(cause) : s.reason, licenses, fixes };
}

/** The page with every denied surface's cause filled in. */
export function withCauses(page: PageSurfaces, facts: CauseFacts): PageSurfaces {
  return { ...page, surfaces: page.surfaces.map((s) => withCause(s, page, facts)) };
}
