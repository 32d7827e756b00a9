/**
 * A test file's fixture as a real tenant: a temporary SQLite store, migrated and seeded from the
 * catalog, into which the fixture's tenant, roles and users are written through the admin
 * operations (the same rules an administrator meets: a grant without its licence, a seat too
 * many, is refused here too). Compiled once, then the store is deleted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Catalog } from "../../../catalog/catalog.js";
import { createPolicyAdmin, type PolicyAdmin } from "../admin/policy-admin.js";
import type { Principal } from "../admin/principal.js";
import { compileSnapshot } from "../policy/compiler.js";
import type { Snapshot } from "../policy/snapshot.js";
import { importCatalog } from "../store/catalog-import.js";
import { openStore } from "../store/open-store.js";
import { readPolicySource } from "../store/read-policy.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { StoreError } from "../store/store-error.js";
import { type Fixture, PolicyTestFileError } from "./test-file.js";

const BOOTSTRAP: Principal = { kind: "bootstrap" };

/** Builds `fixture` in a throwaway store and returns the compiled policy; the store is gone after. */
export async function compileFixture(path: string, fixture: Fixture, catalog: Catalog): Promise<Snapshot> {
  const dir = mkdtempSync(join(tmpdir(), "rolecall-test-fixture-"));
  const db = openStore(join(dir, "fixture.db"));
  try {
    importCatalog(db, catalog);
    const admin = createPolicyAdmin(sqliteStore(db), catalog);
    await build(admin, catalog, path, fixture);
    return compileSnapshot(readPolicySource(db, catalog));
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `write`, turning an admin refusal into a file error at `line` that says what was refused. */
async function step<T>(path: string, line: number, what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof StoreError) throw new PolicyTestFileError(path, line, `${what}: ${err.message}`);
    throw err;
  }
}

async function build(admin: PolicyAdmin, catalog: Catalog, path: string, fixture: Fixture): Promise<void> {
  const tenantId = fixture.tenant;
  const systems = fixture.systems ?? catalog.systems.map((s) => s.id);
  const seats = Object.fromEntries(
    [...catalog.licenses.values()]
      .filter((l) => systems.includes(l.system))
      .map((l) => [l.id, fixture.seats]),
  );
  const { roleIds } = await step(path, fixture.line, `fixture tenant '${tenantId}'`, () =>
    admin.createTenant(BOOTSTRAP, {
      tenantId,
      name: tenantId,
      systems,
      ownerUserIds: fixture.owners,
      licenseSeats: seats,
    }),
  );
  // Users name roles by the fixture's names or by id (the default roles: `cxengage.agent`).
  const roleByName = new Map<string, string>(roleIds.map((id) => [id, id]));
  for (const role of fixture.roles) {
    const what = `fixture role '${role.name}'`;
    const { roleId } = await step(path, role.line, what, () =>
      admin.createRole(BOOTSTRAP, {
        tenantId,
        name: role.name,
        ...(role.basedOn === undefined ? {} : { basedOnRoleId: role.basedOn }),
        ...(role.licenses === undefined ? {} : { licenseIds: role.licenses }),
      }),
    );
    roleByName.set(role.name, roleId);
    roleByName.set(roleId, roleId);
    if (role.grant.length > 0) {
      await step(path, role.line, `${what}, grant`, () =>
        admin.grantPermissions(BOOTSTRAP, { tenantId, roleId, permissions: role.grant }),
      );
    }
    if (role.revoke.length > 0) {
      await step(path, role.line, `${what}, revoke`, () =>
        admin.revokePermissions(BOOTSTRAP, { tenantId, roleId, permissions: role.revoke, cascade: true }),
      );
    }
  }
  for (const user of fixture.users) {
    const what = `fixture user '${user.id}'`;
    await step(path, user.line, what, () =>
      admin.createUser(BOOTSTRAP, { tenantId, userId: user.id, displayName: user.name }),
    );
    const ids = user.roles.map((name) => {
      const id = roleByName.get(name);
      if (id === undefined) {
        throw new PolicyTestFileError(
          path,
          user.line,
          `${what}: no role '${name}' (the fixture's roles by name, or a default role by id: ${[...roleByName.keys()].join(", ")})`,
        );
      }
      return id;
    });
    if (ids.length > 0) {
      await step(path, user.line, what, () =>
        admin.assignRoles(BOOTSTRAP, { tenantId, userId: user.id, roleIds: ids }),
      );
    }
    if (!user.active) {
      await step(path, user.line, what, () =>
        admin.setUserActive(BOOTSTRAP, { tenantId, userId: user.id, active: false }),
      );
    }
  }
}
