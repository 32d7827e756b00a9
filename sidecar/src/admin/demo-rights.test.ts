/**
 * Who may change what in the demo tenant (issue 13), on the real catalog: bob, an ordinary
 * supervisor, can neither edit CxEngage roles nor promote himself (the CxEngage document names no
 * permission that administers roles, so only the tenant's owners do); carol, an owner, can.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../catalog/loader.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { StoreError } from "../store/store-error.js";
import { DEMO_TENANT_ID, seedDemo } from "./demo-seed.js";
import { createPolicyAdmin, type PolicyAdmin } from "./policy-admin.js";
import type { Principal } from "./principal.js";

const catalog = loadCatalog();
const tenantId = DEMO_TENANT_ID;
const bob: Principal = { kind: "user", tenantId, userId: "bob" };
const carol: Principal = { kind: "user", tenantId, userId: "carol" };
const dave: Principal = { kind: "user", tenantId, userId: "dave" };

let temp: TempDatabase;
let admin: PolicyAdmin;
beforeEach(async () => {
  temp = createTempDatabase(catalog);
  admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
  await seedDemo(admin, catalog);
});
afterEach(() => temp.cleanup());

async function denied(write: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).code).toBe("PERMISSION_DENIED");
  expect((err as StoreError).message).toMatch(message);
}

describe("admin rights in the demo tenant", () => {
  it("bob, a CxEngage supervisor, cannot create or edit CxEngage roles nor assign himself the Administrator role", async () => {
    const revision = (await admin.listAuditEvents({ kind: "bootstrap" }, { tenantId, pageSize: 1 }))
      .events[0]!.revision;
    await denied(admin.createRole(bob, { tenantId, name: "Bob's own" }), /user:demo\/bob/);
    await denied(
      admin.grantPermissions(bob, {
        tenantId,
        roleId: "cxengage.supervisor",
        permissions: ["cxengage/CONTACTS_DELETE"],
      }),
      /user:demo\/bob/,
    );
    await denied(
      admin.assignRoles(bob, { tenantId, userId: "bob", roleIds: ["cxengage.administrator"] }),
      /user:demo\/bob/,
    );
    await denied(
      admin.assignRoles(bob, { tenantId, userId: "dave", roleIds: ["cxengage.agent"] }),
      /user:demo\/bob/,
    );
    // Nothing was written.
    const latest = (await admin.listAuditEvents({ kind: "bootstrap" }, { tenantId, pageSize: 1 })).events[0]!;
    expect(latest.revision).toBe(revision);
  });

  it("a principal without the right learns nothing from a malformed or unknown request", async () => {
    await denied(admin.createRole(dave, { tenantId, name: "" }), /user:demo\/dave/);
    await denied(
      admin.grantPermissions(dave, { tenantId, roleId: "no-such-role", permissions: ["nope"] }),
      /dave/,
    );
    await denied(admin.listUsers(dave, { tenantId: "no-such-tenant" }), /only its own tenant/);
  });

  it("carol, an owner of the demo tenant, can", async () => {
    const { roleId } = await admin.createRole(carol, { tenantId, name: "Escalations" });
    await admin.grantPermissions(carol, { tenantId, roleId, permissions: ["cxengage/CONTACTS_DELETE"] });
    await admin.assignRoles(carol, { tenantId, userId: "bob", roleIds: ["cxengage.administrator"] });
    const bobRoles = (await admin.listUsers(carol, { tenantId })).find((u) => u.id === "bob")!.roleIds;
    expect(bobRoles).toContain("cxengage.administrator");
    const events = (await admin.listAuditEvents(carol, { tenantId, pageSize: 3 })).events;
    expect(events.map((e) => [e.operation, e.actor])).toEqual([
      ["AssignRoles", "user:demo/carol"],
      ["GrantPermissions", "user:demo/carol"],
      ["CreateRole", "user:demo/carol"],
    ]);
  });

  it("owners change only through SetTenantOwners, by an owner or the bootstrap principal", async () => {
    await denied(admin.setTenantOwners(bob, { tenantId, ownerUserIds: ["bob"] }), /owners or the bootstrap/);
    await admin.setTenantOwners(carol, { tenantId, ownerUserIds: ["carol", "alice"] });
    expect((await admin.listTenants(carol))[0]!.owners).toEqual(["alice", "carol"]);
    // An owner may name a user not created yet; the tenant's users usually come after it.
    await admin.setTenantOwners({ kind: "bootstrap" }, { tenantId, ownerUserIds: ["new-hire"] });
    // No longer an owner, carol keeps only what her roles give: nothing over CxEngage roles.
    await denied(
      admin.grantPermissions(carol, {
        tenantId,
        roleId: "cxengage.agent",
        permissions: ["cxengage/CONTACTS_DELETE"],
      }),
      /may not administer cxengage/,
    );
  });
});
