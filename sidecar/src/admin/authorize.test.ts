import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { compileSnapshot } from "../policy/compiler.js";
import { openStore } from "../store/open-store.js";
import { readPolicySource } from "../store/read-policy.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { createCurrentHolds } from "./current-holds.js";
import { createPolicyAdmin, type PolicyAdmin } from "./policy-admin.js";
import type { Principal } from "./principal.js";

const catalog = testCatalog();
const boot: Principal = { kind: "bootstrap" };
let temp: TempDatabase;
let admin: PolicyAdmin;

beforeEach(async () => {
  temp = createTempDatabase(catalog);
  admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
  await admin.createTenant(boot, {
    tenantId: "acme",
    name: "Acme",
    systems: ["calabrio-one", "iadvize"],
    licenseSeats: { "calabrio-one/quality-management": 5 },
  });
  await admin.createUser(boot, { tenantId: "acme", userId: "u1", displayName: "One" });
});
afterEach(() => temp.cleanup());

describe("createCurrentHolds", () => {
  it("holds a granted permission only while the user is active", async () => {
    const holds = createCurrentHolds(sqliteStore(temp.db), catalog);
    expect(await holds("acme", "u1", "iadvize/access-to-people")).toBe(false);
    await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["iadvize.manager"] });
    expect(await holds("acme", "u1", "iadvize/access-to-people")).toBe(true);
    await admin.setUserActive(boot, { tenantId: "acme", userId: "u1", active: false });
    expect(await holds("acme", "u1", "iadvize/access-to-people")).toBe(false);
  });

  it("needs a license the permission works under, on one of the user's roles, in the tenant's pool", async () => {
    const holds = createCurrentHolds(sqliteStore(temp.db), catalog);
    const { roleId } = await admin.createRole(boot, {
      tenantId: "acme",
      name: "Dashboards",
      licenseIds: ["calabrio-one/quality-management"],
    });
    await admin.grantPermissions(boot, {
      tenantId: "acme",
      roleId,
      permissions: ["calabrio-one/view-dashboards"],
    });
    await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: [roleId] });
    // view-dashboards works under Analytics only.
    expect(await holds("acme", "u1", "calabrio-one/view-dashboards")).toBe(false);
    await admin.setLicenseSeats(boot, { tenantId: "acme", licenseId: "calabrio-one/analytics", seats: 3 });
    await admin.setRoleLicenses(boot, {
      tenantId: "acme",
      roleId,
      licenseIds: ["calabrio-one/quality-management", "calabrio-one/analytics"],
    });
    expect(await holds("acme", "u1", "calabrio-one/view-dashboards")).toBe(true);
  });

  it("never trusts a serving snapshot older than the store: a just-revoked admin holds nothing", async () => {
    await admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["iadvize.manager"] });
    const serving = compileSnapshot(readPolicySource(temp.db, catalog));
    const holds = createCurrentHolds(sqliteStore(temp.db), catalog, () => serving);
    expect(await holds("acme", "u1", "iadvize/access-to-people")).toBe(true);
    await admin.unassignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["iadvize.manager"] });
    expect(await holds("acme", "u1", "iadvize/access-to-people")).toBe(false);
  });
});

describe("openStore", () => {
  it("lets a reader notice a writer's commit through PRAGMA data_version", async () => {
    const reader = openStore(temp.path, { readonly: true });
    try {
      const version = reader.pragma("data_version", { simple: true });
      expect(reader.pragma("data_version", { simple: true })).toBe(version);
      await admin.createUser(boot, { tenantId: "acme", userId: "u2", displayName: "Two" });
      expect(reader.pragma("data_version", { simple: true })).not.toBe(version);
    } finally {
      reader.close();
    }
  });

  it("refuses a read-only open of a database not yet migrated", () => {
    const blank = `${temp.dir}/blank.db`;
    new Database(blank).close();
    expect(() => openStore(blank, { readonly: true })).toThrow(/not an initialized rolecall database/);
  });
});
