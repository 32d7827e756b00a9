import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { requestArb, worldArb } from "../../../test/support/policy/random-world.js";
import {
  referenceCheck,
  referenceListEffective,
  referenceLookupUsers,
  referenceResolveSurfaces,
} from "../../../test/support/policy/reference-evaluator.js";
import { compileSnapshot, recompileTenants } from "./compiler.js";
import { check, listEffective, lookupUsers, resolveSurfaces } from "./evaluator.js";
import { createPolicyEngine } from "./policy-engine.js";

// 4,000 + 3,000 + 3,000 = 10,000 random worlds per run, each with several requests.
const withRequests = worldArb.chain((world) =>
  fc.tuple(fc.constant(world), fc.array(requestArb(world), { minLength: 1, maxLength: 8 })),
);

describe("compiled engine vs reference evaluator", () => {
  it("agrees on every check", () => {
    const seen = new Set<string>();
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
        }
      }),
      { numRuns: 4000 },
    );
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
