import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import type { PolicyStoreTx } from "./policy-store.js";
import { type SqlitePolicyStore, sqliteStore } from "./sqlite-policy-store.js";

let temp: TempDatabase;
let store: SqlitePolicyStore;

beforeEach(() => {
  temp = createTempDatabase(testCatalog());
  store = sqliteStore(temp.db);
});
afterEach(() => temp.cleanup());

/** Creates tenant `id` and commits it, in `tx`. */
async function createTenantIn(tx: PolicyStoreTx, id: string): Promise<number> {
  await tx.insertTenant({ id, name: id, systems: ["iadvize"], owners: [] }, "2026-01-02T03:04:05.000Z");
  return tx.commit({
    tenantId: id,
    operation: "Test",
    detail: { operation: "Test" },
    time: "2026-01-02T03:04:05.000Z",
    actor: "bootstrap",
    before: null,
    after: { id },
  });
}

const tenantIds = () => store.read(async (tx) => tx.tenantIds());

/** A write whose inner write fails: the outer commits, the inner's rows are undone. */
async function outerWithFailingInner(outer: string, inner: string): Promise<void> {
  await store.write(async (tx) => {
    await createTenantIn(tx, outer);
    await expect(
      store.write(async (nested) => {
        await createTenantIn(nested, inner);
        expect(await nested.tenantIds()).toEqual(expect.arrayContaining([outer, inner]));
        throw new Error("inner fails");
      }),
    ).rejects.toThrow("inner fails");
  });
}

// The store drops its transaction scope (an AsyncLocalStorage) whenever no transaction is open,
// so that an idle store costs the check path nothing; these prove a write still finds its
// enclosing one after such idle periods and while others queue behind it.
describe("SQLite store transactions", () => {
  it("join a nested write with a savepoint, also after the store went idle in between", async () => {
    await outerWithFailingInner("first", "first-inner");
    await new Promise((r) => setTimeout(r, 5));
    await outerWithFailingInner("second", "second-inner");
    expect(await tenantIds()).toEqual(expect.arrayContaining(["first", "second"]));
    expect(await tenantIds()).not.toEqual(expect.arrayContaining(["first-inner"]));
    expect(await tenantIds()).not.toEqual(expect.arrayContaining(["second-inner"]));
  });

  it("queue top-level writes begun together, each nesting only its own inner writes", async () => {
    await Promise.all(["a", "b", "c"].map((id) => outerWithFailingInner(id, `${id}-inner`)));
    const ids = await tenantIds();
    expect(ids).toEqual(expect.arrayContaining(["a", "b", "c"]));
    for (const id of ["a", "b", "c"]) expect(ids).not.toContain(`${id}-inner`);
  });

  it("start a new top-level transaction, not a savepoint, for a write after a failed one", async () => {
    await expect(
      store.write(async (tx) => {
        await createTenantIn(tx, "doomed");
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    await store.write((tx) => createTenantIn(tx, "kept"));
    expect(temp.db.inTransaction).toBe(false);
    expect(await tenantIds()).toContain("kept");
    expect(await tenantIds()).not.toContain("doomed");
  });
});
