/** Two users side by side (issue 15): "how does dave differ from alice?" on the demo tenant. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../catalog/loader.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { DEMO_TENANT_ID, seedDemo } from "../admin/demo-seed.js";
import { createPolicyAdmin } from "../admin/policy-admin.js";
import { readPolicySource } from "../store/read-policy.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { compareUsers } from "./compare-users.js";
import { compileSnapshot } from "./compiler.js";
import type { Snapshot } from "./snapshot.js";

const catalog = loadCatalog();
let temp: TempDatabase;
let snapshot: Snapshot;
beforeAll(async () => {
  temp = createTempDatabase(catalog);
  await seedDemo(createPolicyAdmin(sqliteStore(temp.db), catalog), catalog);
  snapshot = compileSnapshot(readPolicySource(temp.db, catalog));
});
afterAll(() => temp.cleanup());

describe("compareUsers", () => {
  it("shows only where dave and alice differ, with each side's reason and granting roles", () => {
    const out = compareUsers(snapshot, DEMO_TENANT_ID, "dave", "alice", { system: "cxengage" });
    expect(out.permissions.map((r) => r.id)).toEqual(["cxengage/CONTACTS_UPDATE"]);
    const [row] = out.permissions;
    expect(row!.user).toMatchObject({ allowed: false, reason: "NOT_GRANTED", grantedByRoleIds: [] });
    expect(row!.other).toMatchObject({
      allowed: true,
      reason: "GRANTED",
      grantedByRoleIds: ["cxengage.agent"],
    });
    expect(out.surfaces.map((r) => [r.id, r.user.allowed, r.other.allowed])).toEqual([
      ["cxengage/contact-management-panel", false, true],
    ]);
    expect(out.permissionDifferences).toBe(1);
  });

  it("returns every row on request, differences first", () => {
    const out = compareUsers(snapshot, DEMO_TENANT_ID, "dave", "alice", {
      system: "cxengage",
      includeSame: true,
    });
    expect(out.permissions).toHaveLength(
      catalog.systems.find((s) => s.id === "cxengage")!.permissions.length,
    );
    expect(out.permissions[0]!.differs).toBe(true);
    expect(out.permissions.slice(1).every((r) => !r.differs)).toBe(true);
  });

  it("compares a user with himself as no difference", () => {
    expect(compareUsers(snapshot, DEMO_TENANT_ID, "bob", "bob").permissionDifferences).toBe(0);
  });
});
