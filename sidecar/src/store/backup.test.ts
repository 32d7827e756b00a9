import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import {
  createTempDatabase,
  dumpDatabase,
  type TempDatabase,
} from "../../../test/support/store/test-database.js";
import { createPolicyAdmin, type PolicyAdmin } from "../admin/policy-admin.js";
import type { Principal } from "../admin/principal.js";
import { exportDatabase, restoreDatabase } from "./backup.js";
import { openDatabase } from "./database.js";
import { SCHEMA_VERSION } from "./migrations.js";
import { readChangesSince, readPolicySource } from "./read-policy.js";
import { readDatabaseId, readRevision } from "./revision.js";
import { sqliteStore } from "./sqlite-policy-store.js";
import { StoreError } from "./store-error.js";

const catalog = testCatalog();
const boot: Principal = { kind: "bootstrap" };
let temp: TempDatabase;
let admin: PolicyAdmin;

beforeEach(async () => {
  temp = createTempDatabase(catalog);
  admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
  await admin.createTenant(boot, { tenantId: "acme", name: "Acme", systems: ["iadvize"] });
  await admin.createUser(boot, { tenantId: "acme", userId: "u1", displayName: "One" });
});
afterEach(() => temp.cleanup());

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StoreError) return e;
    throw e;
  }
  throw new Error("expected a StoreError");
}

describe("export and restore", () => {
  it("restores a backup above the current revision, under a new database id", async () => {
    const file = join(temp.dir, "backup.db");
    const exported = await exportDatabase(temp.db, file);
    expect(exported.revision).toBe(readRevision(temp.db));
    const oldId = readDatabaseId(temp.db);
    // Changes after the backup, which the restore undoes.
    await admin.createUser(boot, { tenantId: "acme", userId: "u2", displayName: "Two" });
    await admin.createTenant(boot, { tenantId: "later", name: "Later", systems: ["iadvize"] });
    const before = readRevision(temp.db);
    const reader = openDatabase(temp.path, { readonly: true });
    try {
      const result = await restoreDatabase(temp.db, file);
      expect(result).toMatchObject({ revision: before + 1, restoredRevision: exported.revision });
      expect(result.databaseId).not.toBe(oldId);
      // Another connection sees the restored world at once.
      const source = readPolicySource(reader, catalog);
      expect(source).toMatchObject({ revision: before + 1, databaseId: result.databaseId });
      expect(source.tenants.map((t) => t.id)).toEqual(["acme"]);
      expect(source.tenants[0]!.users.map((u) => u.id)).toEqual(["u1"]);
      expect(readChangesSince(reader, before).all).toBe(true);
    } finally {
      reader.close();
    }
    // Writes continue from there.
    expect(
      (await admin.createUser(boot, { tenantId: "acme", userId: "u3", displayName: "Three" })).revision,
    ).toBe(before + 2);
  });

  it("refuses a file that is not a rolecall database, leaving the database as it was", async () => {
    const before = dumpDatabase(temp.db);
    const text = join(temp.dir, "notes.txt");
    writeFileSync(text, "hello, not sqlite at all ".repeat(100));
    expect((await rejection(restoreDatabase(temp.db, text))).message).toMatch(
      /not a SQLite database|cannot be opened/,
    );
    const other = join(temp.dir, "other.db");
    const foreign = openDatabase(other);
    foreign.exec("CREATE TABLE customers (id)");
    foreign.close();
    const err = await rejection(restoreDatabase(temp.db, other));
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(err.message).toMatch(/not a rolecall database/);
    expect((await rejection(restoreDatabase(temp.db, join(temp.dir, "missing.db")))).code).toBe("NOT_FOUND");
    expect(dumpDatabase(temp.db)).toBe(before);
  });

  it("refuses a backup from a newer rolecall", async () => {
    const file = join(temp.dir, "future.db");
    await exportDatabase(temp.db, file);
    const future = openDatabase(file);
    future.prepare("INSERT INTO schema_version VALUES (?, 'future', '2030-01-01')").run(SCHEMA_VERSION + 1);
    future.close();
    expect((await rejection(restoreDatabase(temp.db, file))).message).toMatch(
      /newer than this rolecall supports/,
    );
  });
});
