import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RequirementExpr } from "../../../catalog/schema.js";
import { requestArb, worldArb } from "../../../test/support/policy/random-world.js";
import {
  type ReferenceDecision,
  referenceCheck,
  referenceEffective,
  referenceListEffective,
  referenceLookupUsers,
  referenceResolveSurfaces,
  requirementHolds,
} from "../../../test/support/policy/reference-evaluator.js";
import { compileSnapshot, recompileTenants } from "./compiler.js";
import type { CheckRequest } from "./decision.js";
import { check, listEffective, lookupUsers, resolveSurfaces } from "./evaluator.js";
import { createPolicyEngine } from "./policy-engine.js";
import type { PolicySource } from "./policy-source.js";

// 4,000 + 3,000 + 3,000 = 10,000 random worlds per run, each with several requests.
const withRequests = worldArb.chain((world) =>
  fc.tuple(fc.constant(world), fc.array(requestArb(world), { minLength: 1, maxLength: 8 })),
);

/** Every key `expr` mentions. */
function keysOf(expr: RequirementExpr | null | undefined): string[] {
  if (expr === null || expr === undefined) return [];
  if (typeof expr === "string") return [expr];
  return ("all" in expr ? expr.all : expr.any).flatMap(keysOf);
}

/**
 * Which of the newer rules a decided request exercised, so the run can prove it reached them:
 * a member of a requirement cycle granted; a permission held but denied to the acting user by its
 * acting-user requirement; a mutual check whose target holds the permission without meeting that
 * requirement; a permission denied for a license the tenant itself lacks; one licensed only
 * through a license the tenant holds without a role.
 */
function rulesReached(
  world: PolicySource,
  tenantId: string,
  userId: string,
  request: CheckRequest,
  d: ReferenceDecision,
): string[] {
  const out: string[] = [];
  const p = world.catalog.permissions.get(request.permission)!;
  const tenant = world.tenants.find((t) => t.id === tenantId)!;
  const effectiveOf = (id: string) => {
    const u = tenant.users.find((x) => x.id === id);
    return u === undefined || !u.active ? new Set<string>() : referenceEffective(world, tenant, u);
  };
  // Reachable through requirements from p, back to p: p sits on a requirement cycle.
  const reach = new Set<string>();
  const stack = keysOf(p.requires);
  while (stack.length > 0) {
    const k = stack.pop()!;
    if (reach.has(k)) continue;
    reach.add(k);
    stack.push(...keysOf(world.catalog.permissions.get(k)?.requires));
  }
  if (d.allowed && reach.has(p.key)) out.push("requirement cycle granted");
  if (d.reason === "REQUIREMENT_MISSING" && effectiveOf(userId).has(p.key)) out.push("acting user denied");
  const target = request.targetUserId;
  if (d.allowed && p.mutual && p.actorRequires !== undefined && target !== undefined) {
    if (!requirementHolds(p.actorRequires, effectiveOf(target))) out.push("target spared acting rule");
  }
  if (d.reason === "LICENSE_MISSING" && d.missing.every((l) => p.tenantLicenses?.includes(l)))
    out.push("tenant license missing");
  if (d.allowed && p.licenses.length > 0) {
    const u = tenant.users.find((x) => x.id === userId)!;
    const viaRole = tenant.roles
      .filter((r) => u.roleIds.includes(r.id))
      .some((r) => r.licenseIds.some((l) => p.licenses.includes(l) && tenant.licenseSeats.has(l)));
    if (!viaRole) out.push("tenant-held license");
  }
  return out;
}

describe("compiled engine vs reference evaluator", () => {
  it("agrees on every check", () => {
    const seen = new Set<string>();
    const reached = new Set<string>();
    fc.assert(
      fc.property(withRequests, ([world, requests]) => {
        const snap = compileSnapshot(world);
        // A tiny cache, so eviction and refill happen inside one world too.
        const engine = createPolicyEngine({ maxCachedUsers: 2, snapshot: snap });
        for (const { tenant, user, request } of requests) {
          const { revision, ...got } = check(snap, tenant, user, request);
          const expected = referenceCheck(world, tenant, user, request);
          expect(got).toEqual(expected);
          expect(engine.check(tenant, user, request)).toEqual({ ...expected, revision: world.revision });
          expect(revision).toBe(world.revision);
          seen.add(got.reason);
          for (const rule of rulesReached(world, tenant, user, request, expected)) reached.add(rule);
        }
        // Every user against every user of the first tenant on each mutual permission with an
        // acting-user requirement: the pairs where only one side meets it are rare at random.
        const t = world.tenants[0]!;
        for (const p of world.catalog.permissions.values()) {
          if (!p.mutual || p.actorRequires === undefined) continue;
          for (const a of t.users) {
            for (const b of t.users) {
              const request = { permission: p.key, targetUserId: b.id };
              const { revision: _, ...got } = check(snap, t.id, a.id, request);
              const expected = referenceCheck(world, t.id, a.id, request);
              expect(got).toEqual(expected);
              for (const rule of rulesReached(world, t.id, a.id, request, expected)) reached.add(rule);
            }
          }
        }
      }),
      { numRuns: 4000 },
    );
    expect([...reached].sort()).toEqual([
      "acting user denied",
      "requirement cycle granted",
      "target spared acting rule",
      "tenant license missing",
      "tenant-held license",
    ]);
    // The generator must reach every rule, or agreement would prove little.
    expect([...seen].sort()).toEqual([
      "GRANTED",
      "LICENSE_MISSING",
      "NOT_GRANTED",
      "OUT_OF_SCOPE",
      "REQUIREMENT_MISSING",
      "TARGET_LACKS_PERMISSION",
      "USER_INACTIVE",
      "USER_UNKNOWN",
    ]);
  });

  it("agrees on effective listings, user lookups and surfaces", () => {
    fc.assert(
      fc.property(worldArb, fc.constantFrom(undefined, "s1", "s2"), (world, system) => {
        const snap = compileSnapshot(world);
        const surfaces = [...world.catalog.surfaces.keys()];
        for (const t of world.tenants) {
          for (const u of ["u0", "u1", "u2", "u3", "ghost"]) {
            expect(listEffective(snap, t.id, u, system)).toEqual(
              referenceListEffective(world, t.id, u, system),
            );
            expect(resolveSurfaces(snap, t.id, u, surfaces)).toEqual(
              referenceResolveSurfaces(world, t.id, u, surfaces),
            );
          }
          for (const p of world.catalog.permissions.keys()) {
            expect(lookupUsers(snap, t.id, p)).toEqual(referenceLookupUsers(world, t.id, p));
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("decides the same after an incremental recompile as after a full compile", () => {
    fc.assert(
      fc.property(worldArb, worldArb, (before, other) => {
        // Same catalog, tenant t0 replaced by the other world's t0 (policy changes, not catalog).
        const changedT0 = { ...other.tenants[0]!, id: "t0" };
        const after = { ...before, revision: 2, tenants: [changedT0, ...before.tenants.slice(1)] };
        const incremental = recompileTenants(
          compileSnapshot(before),
          { ...before, revision: 2, tenants: [changedT0] },
          2,
        );
        const full = compileSnapshot(after);
        for (const t of after.tenants) {
          for (const u of ["u0", "u1", "u2", "u3", "ghost"]) {
            for (const p of after.catalog.permissions.keys()) {
              expect(check(incremental, t.id, u, { permission: p })).toEqual(
                check(full, t.id, u, { permission: p }),
              );
            }
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
