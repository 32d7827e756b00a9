import { describe, expect, it } from "vitest";
import { buildCatalog, role, tenant, user } from "../../../test/support/policy/catalog-builder.js";
import { worldCatalog, worldSource } from "../../../test/support/policy/contact-center-world.js";
import { compileSnapshot, IncrementalCompileError, recompileTenants } from "./compiler.js";
import { check } from "./evaluator.js";

describe("compileSnapshot", () => {
  it("carries the database id and revision and freezes the snapshot", () => {
    const snap = compileSnapshot(worldSource);
    expect(snap.databaseId).toBe("db-1");
    expect(snap.revision).toBe(7);
    expect(Object.isFrozen(snap)).toBe(true);
    expect(snap.catalog.permissionCount).toBe(13);
  });

  it("closes implications transitively and survives implication cycles", () => {
    const catalog = buildCatalog([
      {
        id: "s",
        permissions: [
          { key: "s/a", implies: ["s/b"] },
          { key: "s/b", implies: ["s/c"] },
          { key: "s/c", implies: ["s/a"] },
        ],
      },
    ]);
    const snap = compileSnapshot({
      databaseId: "d",
      revision: 1,
      catalog,
      tenants: [tenant("t", ["s"], [role("r", ["s/c"])], [user("u", ["r"])])],
    });
    for (const p of ["s/a", "s/b", "s/c"])
      expect(check(snap, "t", "u", { permission: p }).allowed).toBe(true);
  });

  it("closes implications across word boundaries (bit 31 included)", () => {
    const keys = Array.from({ length: 70 }, (_, i) => `s/p${i}`);
    const catalog = buildCatalog([
      { id: "s", permissions: keys.map((key, i) => ({ key, implies: [keys[(i + 31) % 70]!] })) },
    ]);
    const snap = compileSnapshot({
      databaseId: "d",
      revision: 1,
      catalog,
      tenants: [tenant("t", ["s"], [role("r", ["s/p0"])], [user("u", ["r"])])],
    });
    // 31 and 70 are coprime: the implication cycle from p0 reaches every permission.
    for (const key of keys) expect(check(snap, "t", "u", { permission: key }).allowed).toBe(true);
  });

  it("treats a requirement on a key the catalog lacks as never held, without failing", () => {
    const catalog = buildCatalog([{ id: "s", permissions: [{ key: "s/a", requires: "s/ghost" }] }]);
    const snap = compileSnapshot({
      databaseId: "d",
      revision: 1,
      catalog,
      tenants: [tenant("t", ["s"], [role("r", ["s/a", "s/ghost"])], [user("u", ["r"])])],
    });
    expect(check(snap, "t", "u", { permission: "s/a" })).toMatchObject({
      reason: "REQUIREMENT_MISSING",
      missing: ["s/ghost"],
    });
    expect(() => check(snap, "t", "u", { permission: "s/ghost" })).toThrow("unknown permission");
  });
});

describe("recompileTenants", () => {
  const prev = compileSnapshot(worldSource);

  it("reuses untouched tenants and recompiles changed ones at the new revision", () => {
    const next = recompileTenants(
      prev,
      {
        databaseId: "db-1",
        revision: 8,
        catalog: worldCatalog,
        tenants: [tenant("globex", ["c1"], [role("r", ["c1/view-content"])], [user("dave", ["r"])])],
      },
      8,
    );
    expect(next.revision).toBe(8);
    expect(next.tenants.get("acme")).toBe(prev.tenants.get("acme"));
    expect(next.catalog).toBe(prev.catalog);
    expect(check(next, "globex", "dave", { permission: "c1/view-content" })).toMatchObject({
      allowed: true,
      revision: 8,
    });
    expect(check(prev, "globex", "dave", { permission: "c1/view-content" }).allowed).toBe(false);
  });

  it("drops removed tenants", () => {
    const next = recompileTenants(
      prev,
      { databaseId: "db-1", revision: 8, catalog: worldCatalog, tenants: [], removedTenantIds: ["globex"] },
      8,
    );
    expect([...next.tenants.keys()]).toEqual(["acme"]);
  });

  it("refuses another database or a different catalog", () => {
    expect(() =>
      recompileTenants(prev, { databaseId: "db-2", revision: 8, catalog: worldCatalog, tenants: [] }, 8),
    ).toThrow(IncrementalCompileError);
    const other = buildCatalog([{ id: "s", permissions: [{ key: "s/a" }] }]);
    expect(() =>
      recompileTenants(prev, { databaseId: "db-1", revision: 8, catalog: other, tenants: [] }, 8),
    ).toThrow(IncrementalCompileError);
  });
});
