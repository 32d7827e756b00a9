/**
 * The admin side of the Calabrio ONE rules the model gained (issue 13), on the real catalog: what
 * granting, revoking, associating licenses and setting seats do with requirement cycles,
 * acting-user requirements, licenses that grant by default, licenses no longer for sale, and the
 * rule that every Calabrio role carries a license. Each test names the passage of the Calabrio
 * document (calabrio-one-roles-and-permissions.txt) it enforces, in our own words.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../catalog/loader.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { StoreError } from "../store/store-error.js";
import { createPolicyAdmin, type PolicyAdmin } from "./policy-admin.js";
import type { Principal } from "./principal.js";

const catalog = loadCatalog();
const boot: Principal = { kind: "bootstrap" };
const tenantId = "acme";
const C = (key: string) => `calabrio-one/${key}`;
const ACCESS = C("calabrio-one-access");
const COACHING = C("performance-coaching");

let temp: TempDatabase;
let admin: PolicyAdmin;
let custom: string;
beforeEach(async () => {
  temp = createTempDatabase(catalog);
  admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
  await admin.createTenant(boot, {
    tenantId,
    name: "Acme",
    systems: ["calabrio-one"],
    // A tenant created with seats of a license no longer sold keeps them (see setLicenseSeats).
    licenseSeats: { [ACCESS]: 5, [C("quality-management")]: 5, [COACHING]: 2 },
  });
  custom = (await admin.createRole(boot, { tenantId, name: "Custom", licenseIds: [ACCESS] })).roleId;
});
afterEach(() => temp.cleanup());

async function grantsOf(roleId: string): Promise<string[]> {
  return [...(await admin.listRoles(boot, { tenantId })).find((r) => r.id === roleId)!.grants].sort();
}

async function refused(write: Promise<unknown>): Promise<StoreError> {
  const err = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
}

describe("requirement cycles in grants", () => {
  // Recording table: Capture Desktop Events and Capture Desktop Analytics each require the other.
  it("granting one member of a cycle grants the other", async () => {
    const out = await admin.grantPermissions(boot, {
      tenantId,
      roleId: custom,
      permissions: [C("capture-desktop-events")],
    });
    expect(out.autoGranted).toEqual([C("capture-desktop-analytics")]);
    expect(await grantsOf(custom)).toEqual([C("capture-desktop-analytics"), C("capture-desktop-events")]);
  });

  // Insights table: View Content needs one View [Product] Data permission, which needs View Content.
  it("granting View Content adds the first data permission, which needs it back", async () => {
    await admin.setRoleLicenses(boot, {
      tenantId,
      roleId: custom,
      licenseIds: [ACCESS, C("insights-reader")],
    });
    const out = await admin.grantPermissions(boot, {
      tenantId,
      roleId: custom,
      permissions: [C("view-content")],
    });
    expect(out.autoGranted).toEqual([C("view-analytics-data")]);
  });

  it("revoking one member alone fails naming the other; with cascade, or both at once, both go", async () => {
    const pair = [C("capture-desktop-events"), C("capture-desktop-analytics")];
    await admin.grantPermissions(boot, { tenantId, roleId: custom, permissions: [pair[0]!] });
    const err = await refused(
      admin.revokePermissions(boot, { tenantId, roleId: custom, permissions: [pair[0]!] }),
    );
    expect(err.code).toBe("FAILED_PRECONDITION");
    expect(err.message).toContain(
      `still required by ${pair[1]} (needs ${pair[0]}); ${pair[0]} and ${pair[1]} require each other, so revoke them together or set cascade`,
    );
    const cascaded = await admin.revokePermissions(boot, {
      tenantId,
      roleId: custom,
      permissions: [pair[0]!],
      cascade: true,
    });
    expect([...cascaded.revoked].sort()).toEqual([...pair].sort());
    await admin.grantPermissions(boot, { tenantId, roleId: custom, permissions: [pair[1]!] });
    const together = await admin.revokePermissions(boot, { tenantId, roleId: custom, permissions: pair });
    expect([...together.revoked].sort()).toEqual([...pair].sort());
    expect(await grantsOf(custom)).toEqual([]);
  });
});

describe("live monitoring's acting-user requirement in grants", () => {
  // Live Screen Monitoring: monitors also need Agent Monitoring; the monitored agent does not.
  it("granting live monitoring does not add Agent Monitoring, and Agent Monitoring can be revoked beside it", async () => {
    await admin.setRoleLicenses(boot, {
      tenantId,
      roleId: custom,
      licenseIds: [ACCESS, C("quality-management")],
    });
    const out = await admin.grantPermissions(boot, {
      tenantId,
      roleId: custom,
      permissions: [C("live-screen-monitoring"), C("agent-monitoring")],
    });
    expect(out.autoGranted).toEqual([]);
    const revoked = await admin.revokePermissions(boot, {
      tenantId,
      roleId: custom,
      permissions: [C("agent-monitoring")],
    });
    expect(revoked.revoked).toEqual([C("agent-monitoring")]);
    expect(await grantsOf(custom)).toEqual([C("live-screen-monitoring")]);
  });
});

describe("licenses that grant permissions by default", () => {
  // Performance Coaching table, Coachable Performance User: by default every role with the
  // Performance Coaching license has it.
  it("associating a role with Performance Coaching grants Coachable Performance User, once and revocably", async () => {
    const out = await admin.setRoleLicenses(boot, {
      tenantId,
      roleId: custom,
      licenseIds: [ACCESS, COACHING],
    });
    expect(out.autoGranted).toEqual([C("coachable-performance-user")]);
    expect(await grantsOf(custom)).toEqual([C("coachable-performance-user")]);
    // "By default": an administrator may take it away again, and keeping the license does not bring it back.
    await admin.revokePermissions(boot, {
      tenantId,
      roleId: custom,
      permissions: [C("coachable-performance-user")],
    });
    await admin.setRoleLicenses(boot, { tenantId, roleId: custom, licenseIds: [COACHING, ACCESS] });
    expect(await grantsOf(custom)).toEqual([]);
  });

  it("a role editor who does not hold the permission cannot hand it out through the license", async () => {
    const editor = (
      await admin.createRole(boot, { tenantId, name: "Editor", licenseIds: [ACCESS, COACHING] })
    ).roleId;
    await admin.grantPermissions(boot, { tenantId, roleId: editor, permissions: [C("administer-roles")] });
    await admin.revokePermissions(boot, {
      tenantId,
      roleId: editor,
      permissions: [C("coachable-performance-user")],
    });
    await admin.createUser(boot, { tenantId, userId: "adam", displayName: "Adam" });
    await admin.assignRoles(boot, { tenantId, userId: "adam", roleIds: [editor] });
    const adam: Principal = { kind: "user", tenantId, userId: "adam" };
    const err = await refused(
      admin.setRoleLicenses(adam, { tenantId, roleId: custom, licenseIds: [ACCESS, COACHING] }),
    );
    expect(err.code).toBe("PERMISSION_DENIED");
    expect(err.message).toContain("'calabrio-one/coachable-performance-user'");
    expect(await grantsOf(custom)).toEqual([]);
  });

  it("a role created with the license starts with the permission", async () => {
    const created = await admin.createRole(boot, { tenantId, name: "Coached", licenseIds: [COACHING] });
    expect(created.autoGranted).toEqual([C("coachable-performance-user")]);
    expect(await grantsOf(created.roleId)).toEqual([C("coachable-performance-user")]);
  });
});

describe("licenses no longer for sale", () => {
  // Licensing section and the Performance Coaching table: Performance Coaching is not available
  // for purchase.
  it("refuses to add seats of Performance Coaching, naming it, and allows lowering them", async () => {
    const err = await refused(admin.setLicenseSeats(boot, { tenantId, licenseId: COACHING, seats: 3 }));
    expect(err.code).toBe("FAILED_PRECONDITION");
    expect(err.message).toMatch(
      /license 'calabrio-one\/performance-coaching' \(Performance Coaching\) is not available for purchase/,
    );
    await admin.setLicenseSeats(boot, { tenantId, licenseId: COACHING, seats: 1 });
    expect((await admin.getLicenseUsage(boot, { tenantId, licenseId: COACHING })).seats).toBe(1);
  });

  it("refuses a first seat to a tenant that has none", async () => {
    await admin.createTenant(boot, { tenantId: "newco", name: "NewCo", systems: ["calabrio-one"] });
    const err = await refused(
      admin.setLicenseSeats(boot, { tenantId: "newco", licenseId: COACHING, seats: 1 }),
    );
    expect(err.code).toBe("FAILED_PRECONDITION");
    // Other licenses are bought as before.
    await admin.setLicenseSeats(boot, { tenantId: "newco", licenseId: ACCESS, seats: 10 });
  });
});

describe("every Calabrio role is associated with a license type", () => {
  // Licensing section: all roles must be associated with one or more license types.
  it("a Calabrio default role cannot lose its last Calabrio license", async () => {
    const err = await refused(
      admin.setRoleLicenses(boot, { tenantId, roleId: "calabrio-one.agent", licenseIds: [] }),
    );
    expect(err.code).toBe("FAILED_PRECONDITION");
    expect(err.message).toMatch(
      /role 'calabrio-one.agent' grants calabrio-one permissions .* every calabrio-one role keeps at least one/,
    );
    // Swapping one Calabrio license for another is fine.
    await admin.setRoleLicenses(boot, { tenantId, roleId: "calabrio-one.agent", licenseIds: [ACCESS] });
  });

  it("not even once every grant is gone: it is still a Calabrio role", async () => {
    // The real default roles always keep required permissions; one that keeps none shows the rule.
    const loose = {
      ...catalog,
      systems: catalog.systems.map((s) =>
        s.id !== "calabrio-one"
          ? s
          : {
              ...s,
              defaultRoles: s.defaultRoles.map((r) => (r.id === "agent" ? { ...r, required: [] } : r)),
            },
      ),
    };
    const db = createTempDatabase(loose);
    try {
      const looseAdmin = createPolicyAdmin(sqliteStore(db.db), loose);
      await looseAdmin.createTenant(boot, { tenantId, name: "Acme", systems: ["calabrio-one"] });
      const agent = "calabrio-one.agent";
      const grants = (await looseAdmin.listRoles(boot, { tenantId })).find((r) => r.id === agent)!.grants;
      await looseAdmin.revokePermissions(boot, {
        tenantId,
        roleId: agent,
        permissions: [...grants],
        cascade: true,
      });
      const err = await refused(
        looseAdmin.setRoleLicenses(boot, { tenantId, roleId: agent, licenseIds: [] }),
      );
      expect(err.code).toBe("FAILED_PRECONDITION");
      expect(err.message).toMatch(
        /role 'calabrio-one.agent' is a default role of calabrio-one so it must be associated with a calabrio-one license/,
      );
    } finally {
      db.cleanup();
    }
  });

  it("a custom role granting nothing of Calabrio may go without a license", async () => {
    await admin.setRoleLicenses(boot, { tenantId, roleId: custom, licenseIds: [] });
    expect((await admin.listRoles(boot, { tenantId })).find((r) => r.id === custom)!.licenseIds).toEqual([]);
  });
});
