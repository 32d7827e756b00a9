import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { compileSnapshot } from "../policy/compiler.js";
import { PolicyAdmin } from "./admin.js";
import type { Principal } from "./authorize.js";
import { createCurrentHolds } from "./current-holds.js";
import { openStore } from "./open-store.js";
import { readPolicySource } from "./read-policy.js";

const catalog = testCatalog();
const boot: Principal = { kind: "bootstrap" };
let temp: TempDatabase;
let admin: PolicyAdmin;

beforeEach(() => {
  temp = createTempDatabase(catalog);
  admin = new PolicyAdmin(temp.db, catalog);
  admin.createTenant(boot, {
    tenantId: "acme",
    name: "Acme",
    systems: ["calabrio-one", "iadvize"],
    licenseSeats: { "calabrio-one/quality-management": 5 },
  });
  admin.createUser(boot, { tenantId: "acme", userId: "u1", displayName: "One" });
});
afterEach(() => temp.cleanup());

describe("createCurrentHolds", () => {
  it("holds a granted permission only while the user is active", () => {
    const holds = createCurrentHolds(temp.db, catalog);
    expect(holds("acme", "u1", "iadvize/access-to-people")).toBe(false);
    admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["iadvize.manager"] });
    expect(holds("acme", "u1", "iadvize/access-to-people")).toBe(true);
    admin.setUserActive(boot, { tenantId: "acme", userId: "u1", active: false });
    expect(holds("acme", "u1", "iadvize/access-to-people")).toBe(false);
  });

  it("needs a license the permission works under, on one of the user's roles, in the tenant's pool", () => {
    const holds = createCurrentHolds(temp.db, catalog);
    const { roleId } = admin.createRole(boot, {
      tenantId: "acme",
      name: "Dashboards",
      licenseIds: ["calabrio-one/quality-management"],
    });
    admin.grantPermissions(boot, { tenantId: "acme", roleId, permissions: ["calabrio-one/view-dashboards"] });
    admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: [roleId] });
    // view-dashboards works under Analytics only.
    expect(holds("acme", "u1", "calabrio-one/view-dashboards")).toBe(false);
    admin.setLicenseSeats(boot, { tenantId: "acme", licenseId: "calabrio-one/analytics", seats: 3 });
    admin.setRoleLicenses(boot, {
      tenantId: "acme",
      roleId,
      licenseIds: ["calabrio-one/quality-management", "calabrio-one/analytics"],
    });
    expect(holds("acme", "u1", "calabrio-one/view-dashboards")).toBe(true);
  });

  it("never trusts a serving snapshot older than the store: a just-revoked admin holds nothing", () => {
    admin.assignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["iadvize.manager"] });
    const serving = compileSnapshot(readPolicySource(temp.db, catalog));
    const holds = createCurrentHolds(temp.db, catalog, () => serving);
    expect(holds("acme", "u1", "iadvize/access-to-people")).toBe(true);
    admin.unassignRoles(boot, { tenantId: "acme", userId: "u1", roleIds: ["iadvize.manager"] });
    expect(holds("acme", "u1", "iadvize/access-to-people")).toBe(false);
  });
});

describe("openStore", () => {
  it("lets a reader notice a writer's commit through PRAGMA data_version", () => {
    const reader = openStore(temp.path, { readonly: true });
    try {
      const version = reader.pragma("data_version", { simple: true });
      expect(reader.pragma("data_version", { simple: true })).toBe(version);
      admin.createUser(boot, { tenantId: "acme", userId: "u2", displayName: "Two" });
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
