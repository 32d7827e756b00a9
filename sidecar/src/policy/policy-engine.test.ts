import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildCatalog, role, tenant, user } from "../../../test/support/policy/catalog-builder.js";
import { worldSource } from "../../../test/support/policy/contact-center-world.js";
import { cacheKey } from "./cache.js";
import { compileSnapshot, recompileTenants } from "./compiler.js";
import { createPolicyEngine, NoSnapshotError, POLICY_ENGINE_DEFAULTS } from "./policy-engine.js";
import type { PolicySource } from "./policy-source.js";

const catalog = buildCatalog([{ id: "s", permissions: [{ key: "s/p" }, { key: "s/q" }] }]);
/** One user `u` in tenants `t1` and `t2`; `grant` says which permission `u` gets in `t1`. */
function source(databaseId: string, revision: number, grant: string): PolicySource {
  return {
    databaseId,
    revision,
    catalog,
    tenants: [
      tenant("t1", ["s"], [role("r", [grant])], [user("u", ["r"]), user("v", [])]),
      tenant("t2", ["s"], [role("r", ["s/q"])], [user("u", ["r"])]),
    ],
  };
}
const allowedP = (e: ReturnType<typeof createPolicyEngine>, t: string, u: string) =>
  e.check(t, u, { permission: "s/p" }).allowed;

describe("PolicyEngine", () => {
  it("has frozen documented defaults and rejects a bad bound", () => {
    expect(Object.isFrozen(POLICY_ENGINE_DEFAULTS)).toBe(true);
    expect(POLICY_ENGINE_DEFAULTS.maxCachedUsers).toBe(100_000);
    expect(() => createPolicyEngine({ maxCachedUsers: 0 })).toThrow(TypeError);
    expect(() => createPolicyEngine({ maxCachedUsers: 1.5 })).toThrow(TypeError);
  });

  it("throws NoSnapshotError until a snapshot is set", () => {
    const e = createPolicyEngine();
    expect(() => e.check("t1", "u", { permission: "s/p" })).toThrow(NoSnapshotError);
    e.setSnapshot(compileSnapshot(source("db", 1, "s/p")));
    expect(allowedP(e, "t1", "u")).toBe(true);
  });

  it("counts hits and misses and stays within its bound", () => {
    const e = createPolicyEngine({ maxCachedUsers: 1, snapshot: compileSnapshot(source("db", 1, "s/p")) });
    allowedP(e, "t1", "u");
    allowedP(e, "t1", "u");
    allowedP(e, "t1", "v");
    expect(allowedP(e, "t1", "u")).toBe(true);
    expect(e.cacheStats()).toEqual({ hits: 1, misses: 3, size: 1, max: 1 });
  });

  it("keeps every user while it grows toward its bound, then evicts the least recent", () => {
    // Past the first LRU's 1,024 entries and the second's 4,096: two growths before the bound.
    const bound = 5_000;
    const ids = Array.from({ length: bound + 1 }, (_, i) => `u${i}`);
    const snap = compileSnapshot({
      databaseId: "db",
      revision: 1,
      catalog,
      tenants: [
        tenant(
          "t",
          ["s"],
          [role("r", ["s/p"])],
          ids.map((id) => user(id, ["r"])),
        ),
      ],
    });
    const e = createPolicyEngine({ maxCachedUsers: bound, snapshot: snap });
    for (const id of ids.slice(0, bound)) allowedP(e, "t", id);
    expect(e.cacheStats()).toEqual({ hits: 0, misses: bound, size: bound, max: bound });
    expect(ids.slice(0, bound).every((id) => e.cacheHasKey(cacheKey("db", 1, "t", id)))).toBe(true);
    allowedP(e, "t", ids[bound]!); // one more: the first user, least recent, makes room
    expect(e.cacheStats().size).toBe(bound);
    expect(e.cacheHasKey(cacheKey("db", 1, "t", "u0"))).toBe(false);
    expect(e.cacheHasKey(cacheKey("db", 1, "t", "u1"))).toBe(true);
    expect(e.cacheHasKey(cacheKey("db", 1, "t", ids[bound]!))).toBe(true);
  });

  it("never shares an entry between requests differing in tenant, user, revision or database", () => {
    const e = createPolicyEngine();
    e.setSnapshot(compileSnapshot(source("db", 1, "s/p")));
    expect(allowedP(e, "t1", "u")).toBe(true);
    expect(allowedP(e, "t2", "u")).toBe(false); // same user id, other tenant
    expect(allowedP(e, "t1", "v")).toBe(false); // same tenant, other user
    expect(e.cacheHasKey(cacheKey("db", 1, "t1", "u"))).toBe(true);
    expect(e.cacheHasKey(cacheKey("db", 1, "t2", "u"))).toBe(true);
    expect(e.cacheHasKey(cacheKey("db", 1, "t1", "v"))).toBe(true);
    // Same database, next revision, where t1 now grants s/q instead.
    e.setSnapshot(compileSnapshot(source("db", 2, "s/q")));
    expect(allowedP(e, "t1", "u")).toBe(false);
    expect(e.cacheHasKey(cacheKey("db", 2, "t1", "u"))).toBe(true);
    // The replaced revision's entries are gone, not merely unreachable.
    expect(e.cacheHasKey(cacheKey("db", 1, "t1", "u"))).toBe(false);
    // Another database at the same revision.
    e.setSnapshot(compileSnapshot(source("other-db", 2, "s/p")));
    expect(allowedP(e, "t1", "u")).toBe(true);
    expect(e.cacheHasKey(cacheKey("other-db", 2, "t1", "u"))).toBe(true);
  });

  it("keeps a reused tenant's users cached across an incremental recompile, and re-decides a recompiled one", () => {
    const first = compileSnapshot(source("db", 1, "s/p"));
    const e = createPolicyEngine({ snapshot: first });
    expect(allowedP(e, "t1", "u")).toBe(true);
    expect(allowedP(e, "t2", "u")).toBe(false);
    // Revision 2 recompiles t1 alone (it now grants s/q instead); t2 is the same compiled object.
    const changed = source("db", 2, "s/q");
    const next = recompileTenants(first, { ...changed, tenants: [changed.tenants[0]!] }, 2);
    expect(next.tenants.get("t2")).toBe(first.tenants.get("t2"));
    e.setSnapshot(next);
    const misses = e.cacheStats().misses;
    expect(e.check("t2", "u", { permission: "s/p" })).toMatchObject({ allowed: false, revision: 2 });
    expect(e.cacheStats().misses).toBe(misses); // t2's user: still cached, answered at revision 2
    expect(e.check("t1", "u", { permission: "s/p" })).toMatchObject({ allowed: false, revision: 2 });
    expect(e.cacheStats().misses).toBe(misses + 1); // t1's user: re-decided on its new grants
    // The replaced tenant's entry is gone, not merely unreachable; the kept one stays.
    expect(e.cacheHasKey(cacheKey("db", 1, "t1", "u"))).toBe(false);
    expect(e.cacheHasKey(cacheKey("db", 2, "t1", "u"))).toBe(true);
    expect(e.cacheHasKey(cacheKey("db", 1, "t2", "u"))).toBe(true);
  });

  it("drops a recompiled tenant that held every cached entry, and caches afresh after it", () => {
    const e = createPolicyEngine({ snapshot: compileSnapshot(source("db", 1, "s/p")), maxCachedUsers: 50 });
    /** Revision `revision` recompiles tenant `index` (0: t1, 1: t2) alone. */
    const recompile = (revision: number, grant: string, index: number) => {
      const changed = source("db", revision, grant);
      e.setSnapshot(
        recompileTenants(e.currentSnapshot(), { ...changed, tenants: [changed.tenants[index]!] }, revision),
      );
    };
    expect(allowedP(e, "t1", "u")).toBe(true);
    expect(e.cacheStats().size).toBe(1);
    recompile(2, "s/q", 0); // t1 held the only entry: the cache empties
    expect(e.cacheStats().size).toBe(0);
    expect(allowedP(e, "t1", "u")).toBe(false);
    expect(allowedP(e, "t2", "u")).toBe(false);
    expect(e.cacheStats().size).toBe(2);
    recompile(3, "s/p", 0); // t1 and t2 cached: t1's entry alone goes
    expect(e.cacheStats().size).toBe(1);
    expect(e.cacheHasKey(cacheKey("db", 2, "t2", "u"))).toBe(true);
    recompile(4, "s/p", 1); // now t2 holds the only entry
    expect(e.cacheStats().size).toBe(0);
    expect(allowedP(e, "t1", "u")).toBe(true);
    expect(allowedP(e, "t2", "u")).toBe(false);
    expect(e.cacheHasKey(cacheKey("db", 4, "t1", "u"))).toBe(true);
    expect(e.cacheHasKey(cacheKey("db", 4, "t2", "u"))).toBe(true);
    expect(e.cacheStats().size).toBe(2);
  });

  it("builds distinct keys for distinct (database, revision, tenant, user) tuples", () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.string(), fc.nat(), fc.string(), fc.string()),
        fc.tuple(fc.string(), fc.nat(), fc.string(), fc.string()),
        (a, b) => {
          const same = a.every((x, i) => x === b[i]);
          expect(cacheKey(...a) === cacheKey(...b)).toBe(same);
        },
      ),
      { numRuns: 2000 },
    );
    expect(cacheKey("a\0", 1, "b", "c")).not.toBe(cacheKey("a", 1, "\0b", "c"));
  });

  it("serves the same answers as the uncached evaluator, through every entry point", () => {
    const e = createPolicyEngine({ snapshot: compileSnapshot(worldSource) });
    for (let round = 0; round < 2; round++) {
      expect(e.check("acme", "alice", { permission: "cx/CONTACTS_UPDATE" }).allowed).toBe(true);
      expect(e.checkMany("acme", "dave", [{ permission: "cx/CONTACTS_UPDATE" }])[0]?.reason).toBe(
        "NOT_GRANTED",
      );
      expect(e.lookupUsers("acme", "cx/MONITOR")).toEqual(["alice", "sam"]);
      expect(e.listEffective("acme", "sam", "cx")).toHaveLength(5);
      expect(e.resolveSurfaces("acme", "alice", ["cx/contact-management-panel"])[0]?.allowed).toBe(true);
      expect(e.explain("acme", "dave", { permission: "cx/CONTACTS_UPDATE" }).decision.reason).toBe(
        "NOT_GRANTED",
      );
    }
    expect(e.cacheStats().hits).toBeGreaterThan(0);
  });
});
