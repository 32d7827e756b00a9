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
import { listEffective, resolveSurfaces } from "./evaluator.js";
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

  it("answers for every pair of demo users (and an unknown one) what two listings and surface resolutions say", () => {
    const users = ["alice", "bob", "carol", "dave", "lena", "zoe", "max", "ines", "nobody"];
    const surfaceIds = [...catalog.surfaces.keys()];
    for (const a of users) {
      for (const b of users) {
        const out = compareUsers(snapshot, DEMO_TENANT_ID, a, b, { includeSame: true });
        const mine = listEffective(snapshot, DEMO_TENANT_ID, a);
        const theirs = listEffective(snapshot, DEMO_TENANT_ID, b);
        const side = (r: (typeof mine)[number]) => ({
          allowed: r.allowed,
          reason: r.reason,
          missing: r.missing,
          grantedByRoleIds: r.grantedByRoleIds,
        });
        const byId = new Map(out.permissions.map((r) => [r.id, r]));
        expect(out.permissions).toHaveLength(mine.length);
        for (const [i, r] of mine.entries()) {
          expect(byId.get(r.permission)).toMatchObject({ user: side(r), other: side(theirs[i]!) });
        }
        const mySurfaces = resolveSurfaces(snapshot, DEMO_TENANT_ID, a, surfaceIds);
        const theirSurfaces = resolveSurfaces(snapshot, DEMO_TENANT_ID, b, surfaceIds);
        const surfaces = new Map(out.surfaces.map((r) => [r.id, r]));
        for (const [i, d] of mySurfaces.entries()) {
          const o = theirSurfaces[i]!;
          expect(surfaces.get(d.surface)).toMatchObject({
            user: { allowed: d.allowed, reason: d.reason, missing: d.missing },
            other: { allowed: o.allowed, reason: o.reason, missing: o.missing },
            differs: d.allowed !== o.allowed || d.reason !== o.reason,
          });
        }
        const differences = compareUsers(snapshot, DEMO_TENANT_ID, a, b);
        expect(differences.permissions).toEqual(out.permissions.filter((r) => r.differs));
        expect(differences.surfaces).toEqual(out.surfaces.filter((r) => r.differs));
      }
    }
  });

  it("compares a user with himself as no difference", () => {
    expect(compareUsers(snapshot, DEMO_TENANT_ID, "bob", "bob").permissionDifferences).toBe(0);
  });
});
