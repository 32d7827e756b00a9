import { afterEach, describe, expect, it } from "vitest";
import type { Catalog } from "../../../catalog/catalog.js";
import { loadCatalog } from "../../../catalog/loader.js";
import { CONTACT_PANEL_KEYS, testCatalog } from "../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { readPolicySource } from "../store/read-policy.js";
import { readRevision } from "../store/revision.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { DEMO_TENANT_ID, seedDemo } from "./demo-seed.js";
import { createPolicyAdmin } from "./policy-admin.js";

let temp: TempDatabase | undefined;
afterEach(() => {
  temp?.cleanup();
  temp = undefined;
});

let realCatalog: Catalog | null = null;
let whyNoCatalog = "";
try {
  realCatalog = loadCatalog();
} catch (e) {
  whyNoCatalog = (e as Error).message;
}
if (realCatalog === null) {
  console.warn(
    `demo-seed.test.ts: skipping the real-catalog demo story; the catalog did not load: ${whyNoCatalog}`,
  );
}

const panel = CONTACT_PANEL_KEYS.map((k) => `cxengage/${k}`);

async function seeded(catalog: Catalog) {
  temp = createTempDatabase(catalog);
  const admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
  const result = await seedDemo(admin, catalog);
  const tenant = readPolicySource(temp.db, catalog).tenants.find((t) => t.id === DEMO_TENANT_ID)!;
  const grantsOf = (userId: string): Set<string> => {
    const user = tenant.users.find((u) => u.id === userId)!;
    return new Set(user.roleIds.flatMap((r) => tenant.roles.find((x) => x.id === r)!.grants));
  };
  return { admin, result, tenant, grantsOf };
}

describe.skipIf(realCatalog === null)("the demo tenant on the real catalog", () => {
  it("tells the story: Dave lacks CONTACTS_UPDATE, so the Contact Management panel is missing for him only", async () => {
    const { result, tenant, grantsOf } = await seeded(realCatalog!);
    expect(result).toMatchObject({ created: true, skipped: [] });
    expect(tenant.systems).toHaveLength(5);
    expect(tenant.users.map((u) => u.id).sort()).toEqual([
      "alice",
      "bob",
      "carol",
      "dave",
      "ines",
      "lena",
      "max",
      "zoe",
    ]);
    const dave = grantsOf("dave");
    expect(dave.has("cxengage/CONTACTS_UPDATE")).toBe(false);
    expect(panel.filter((k) => !dave.has(k))).toEqual(["cxengage/CONTACTS_UPDATE"]);
    for (const user of ["alice", "bob", "carol"])
      expect(
        panel.every((k) => grantsOf(user).has(k)),
        user,
      ).toBe(true);
    const daveRole = tenant.roles.find((r) => r.name === "Custom Agent")!;
    expect(daveRole).toMatchObject({ kind: "custom", basedOn: "cxengage.agent" });
  });

  it("covers the other systems, including a role lacking the license a granted permission needs", async () => {
    const { tenant, grantsOf } = await seeded(realCatalog!);
    expect(grantsOf("zoe").has("zoom-contact-center/RptWallboard:Read")).toBe(true);
    expect(grantsOf("ines").has("iadvize/access-to-reports")).toBe(true);
    expect([...grantsOf("max")].some((k) => k.startsWith("maxcontact/"))).toBe(true);
    expect(grantsOf("carol").has("calabrio-one/administer-roles")).toBe(true);
    const lena = tenant.roles.find((r) => r.name === "Analytics Viewer")!;
    const needed = realCatalog!.permissions.get("calabrio-one/view-analytics")!.licenses;
    expect(lena.grants).toContain("calabrio-one/view-analytics");
    expect(lena.licenseIds.some((l) => needed.includes(l))).toBe(false);
  });

  it("is created once: seeding again changes nothing", async () => {
    const { admin } = await seeded(realCatalog!);
    const revision = readRevision(temp!.db);
    expect(await seedDemo(admin, realCatalog!)).toMatchObject({ created: false });
    expect(readRevision(temp!.db)).toBe(revision);
  });
});

describe("the demo seed on a catalog missing some keys", () => {
  it("skips and reports what the catalog lacks instead of failing", async () => {
    const { result, grantsOf } = await seeded(testCatalog());
    expect(result.created).toBe(true);
    expect(result.skipped).toContain("permission maxcontact/access-chat");
    expect(result.skipped).toContain("permission calabrio-one/view-analytics");
    expect(result.skipped.some((s) => s.includes("cxengage.agent"))).toBe(true);
    expect(grantsOf("zoe").has("zoom-contact-center/RptWallboard:Read")).toBe(true);
  });
});
