import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { childScriptArgs } from "../../../test/support/child-script.js";
import {
  catalogFromSystems,
  PLAIN_PERMISSION_COUNT,
  testCatalog,
} from "../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { createPolicyAdmin, type PolicyAdmin } from "../admin/policy-admin.js";
import type { Principal } from "../admin/principal.js";
import { importCatalog } from "./catalog-import.js";
import { openDatabase } from "./database.js";
import {
  readChangesSince,
  readPolicySource,
  readPolicySourceForTenants,
  readRevision,
} from "./read-policy.js";
import { sqliteStore } from "./sqlite-policy-store.js";

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
    systems: ["calabrio-one", "maxcontact"],
    licenseSeats: { "calabrio-one/quality-management": 10 },
  });
  await admin.createTenant(boot, { tenantId: "beta", name: "Beta", systems: ["iadvize"] });
});
afterEach(() => temp.cleanup());

describe("readPolicySource", () => {
  it("returns every tenant with its users, roles, grants, licenses and seats at the current revision", async () => {
    await admin.createUser(boot, { tenantId: "acme", userId: "alice", displayName: "Alice" });
    await admin.assignRoles(boot, { tenantId: "acme", userId: "alice", roleIds: ["calabrio-one.agent"] });
    const source = readPolicySource(temp.db, catalog);
    expect(source.revision).toBe(readRevision(temp.db));
    expect(source.databaseId).toMatch(/-/);
    expect(source.catalog).toBe(catalog);
    expect(source.tenants.map((t) => t.id)).toEqual(["acme", "beta"]);
    const acme = source.tenants[0]!;
    expect(acme.systems).toEqual(["calabrio-one", "maxcontact"]);
    expect([...acme.licenseSeats]).toEqual([["calabrio-one/quality-management", 10]]);
    expect(acme.users).toEqual([
      { id: "alice", displayName: "Alice", active: true, roleIds: ["calabrio-one.agent"] },
    ]);
    expect(acme.roles.find((r) => r.id === "calabrio-one.agent")).toEqual({
      id: "calabrio-one.agent",
      name: "Agent",
      kind: "default",
      basedOn: null,
      defaultOf: { system: "calabrio-one", roleId: "agent" },
      grants: ["calabrio-one/view-contacts"],
      licenseIds: ["calabrio-one/quality-management"],
    });
  });

  it("reads only the tenants asked for", () => {
    const source = readPolicySourceForTenants(temp.db, catalog, ["beta", "nope"]);
    expect(source.tenants.map((t) => t.id)).toEqual(["beta"]);
    expect(source.removedTenantIds).toEqual(["nope"]);
    expect(source.tenants[0]!.roles.map((r) => r.id)).toEqual(["iadvize.manager"]);
  });
});

describe("readChangesSince", () => {
  it("names the tenants changed after a revision, and everything after a catalog import", async () => {
    const start = readRevision(temp.db);
    await admin.createUser(boot, { tenantId: "beta", userId: "b1", displayName: "B" });
    expect(readChangesSince(temp.db, start)).toMatchObject({
      revision: start + 1,
      all: false,
      tenantIds: ["beta"],
    });
    await admin.createUser(boot, { tenantId: "acme", userId: "a1", displayName: "A" });
    expect(readChangesSince(temp.db, start).tenantIds).toEqual(["acme", "beta"]);
    expect(readChangesSince(temp.db, start + 2).tenantIds).toEqual([]);
    // Same catalog again: nothing changes; a different one: every tenant is affected.
    expect(importCatalog(temp.db, catalog).changed).toBe(false);
    const smaller = catalogFromSystems(catalog.systems.slice(0, 2));
    expect(importCatalog(temp.db, smaller)).toEqual({ revision: start + 3, changed: true });
    expect(readChangesSince(temp.db, start + 2)).toMatchObject({ all: true, tenantIds: [] });
    const stored = temp.db.prepare("SELECT COUNT(*) FROM catalog_permissions").pluck().get();
    expect(stored).toBe(smaller.permissions.size);
  });

  it("names the users a tenant's changes touched: none for role changes, all (null) for a new tenant", async () => {
    const start = readRevision(temp.db);
    await admin.createUser(boot, { tenantId: "acme", userId: "a1", displayName: "A" });
    const { roleId } = await admin.createRole(boot, { tenantId: "acme", name: "QA" });
    await admin.renameRole(boot, { tenantId: "acme", roleId, name: "QA team" });
    await admin.assignRoles(boot, { tenantId: "acme", userId: "a1", roleIds: [roleId] });
    await admin.createUser(boot, { tenantId: "beta", userId: "b1", displayName: "B" });
    expect(readChangesSince(temp.db, start).changedUsers).toEqual(
      new Map([
        ["acme", ["a1"]],
        ["beta", ["b1"]],
      ]),
    );
    const afterUsers = readRevision(temp.db);
    await admin.renameRole(boot, { tenantId: "acme", roleId, name: "Quality" });
    expect(readChangesSince(temp.db, afterUsers).changedUsers).toEqual(new Map([["acme", []]]));
    await admin.createTenant(boot, { tenantId: "gamma", name: "Gamma", systems: ["iadvize"] });
    expect(readChangesSince(temp.db, afterUsers).changedUsers.get("gamma")).toBeNull();
  });

  it("asks for the whole tenant past 1,000 changed users (a reader that was paused a long time)", async () => {
    const start = readRevision(temp.db);
    await admin.atomically(async () => {
      for (let i = 0; i <= 1_000; i++)
        await admin.createUser(boot, { tenantId: "acme", userId: `u${i}`, displayName: "U" });
    });
    expect(readChangesSince(temp.db, start).changedUsers.get("acme")).toBeNull();
    expect(readChangesSince(temp.db, start + 1).changedUsers.get("acme")).toHaveLength(1_000);
  });
});

describe("a reader in one process while a writer commits in another", () => {
  it("always sees one whole revision, never a mix", async () => {
    const { roleId } = await admin.createRole(boot, { tenantId: "acme", name: "Campaigns" });
    const r0 = readRevision(temp.db);
    const writes = 200;
    const reader = openDatabase(temp.path, { readonly: true });
    const script = fileURLToPath(new URL("../../../test/support/store/writer-process.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      [...childScriptArgs(script), temp.path, "acme", roleId, String(writes)],
      {
        stdio: ["ignore", "inherit", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    let done = false;
    void exited.then(() => {
      done = true;
    });
    const seen = new Set<number>();
    let reads = 0;
    try {
      while (!done) {
        const source = readPolicySource(reader, catalog);
        const k = source.revision - r0;
        const grants = source.tenants
          .find((t) => t.id === "acme")!
          .roles.find((r) => r.id === roleId)!.grants;
        // The k-th write grants all (odd k) or revokes all (even k): a torn read would show another count.
        expect(grants.length).toBe(k % 2 === 1 ? PLAIN_PERMISSION_COUNT : 0);
        seen.add(source.revision);
        reads++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await exited, stderr).toBe(0);
      const last = readPolicySource(reader, catalog);
      expect(last.revision).toBe(r0 + writes);
      expect(reads).toBeGreaterThan(5);
      expect(seen.size).toBeGreaterThan(2);
    } finally {
      reader.close();
    }
  }, 60_000);
});
