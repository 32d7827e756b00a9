import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { openDatabase } from "./database.js";
import {
  assertSchemaCurrent,
  MIGRATIONS,
  type Migration,
  migrate,
  readSchemaVersion,
  SCHEMA_VERSION,
} from "./migrations.js";
import { readDatabaseId, readRevision } from "./revision.js";
import { StoreError } from "./store-error.js";

let temp: TempDatabase | undefined;
afterEach(() => {
  temp?.cleanup();
  temp = undefined;
});

describe("openDatabase", () => {
  it("creates the parent folder and configures WAL, foreign keys, synchronous NORMAL and a busy timeout", () => {
    temp = createTempDatabase();
    expect(existsSync(join(temp.dir, "data"))).toBe(true);
    expect(temp.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(temp.db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(temp.db.pragma("synchronous", { simple: true })).toBe(1);
    expect(temp.db.pragma("busy_timeout", { simple: true })).toBe(5000);
  });

  it("opens a read-only connection that cannot write but sees the file's data", () => {
    temp = createTempDatabase();
    const reader = openDatabase(temp.path, { readonly: true });
    try {
      expect(reader.readonly).toBe(true);
      expect(readRevision(reader)).toBe(0);
      expect(() => reader.prepare("UPDATE meta SET revision = 5").run()).toThrow(/readonly/);
    } finally {
      reader.close();
    }
  });

  it("refuses a read-only open of a missing file with UNAVAILABLE naming the path", () => {
    temp = createTempDatabase();
    const missing = join(temp.dir, "nope.db");
    expect(() => openDatabase(missing, { readonly: true })).toThrow(
      expect.objectContaining({ code: "UNAVAILABLE", message: expect.stringContaining(missing) }),
    );
  });
});

describe("migrate", () => {
  it("brings a fresh file to the current version once, with a database id and revision 0", () => {
    temp = createTempDatabase();
    expect(readSchemaVersion(temp.db)).toBe(SCHEMA_VERSION);
    const id = readDatabaseId(temp.db);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(migrate(temp.db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    expect(readDatabaseId(temp.db)).toBe(id);
    assertSchemaCurrent(temp.db);
  });

  it("applies a later step forward only, in a transaction that rolls back when it fails", () => {
    temp = createTempDatabase();
    const good: Migration = {
      version: SCHEMA_VERSION + 1,
      description: "add a column",
      up: (db) => db.exec("ALTER TABLE tenants ADD COLUMN note TEXT"),
    };
    const bad: Migration = {
      version: SCHEMA_VERSION + 2,
      description: "fails halfway",
      up: (db) => {
        db.exec("CREATE TABLE half (x)");
        throw new Error("boom");
      },
    };
    expect(() => migrate(temp!.db, { migrations: [...MIGRATIONS, good, bad] })).toThrow("boom");
    expect(readSchemaVersion(temp.db)).toBe(SCHEMA_VERSION + 1);
    const tables = temp.db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all();
    expect(tables).toEqual([]);
  });

  it("refuses a database newer than the code with a clear FAILED_PRECONDITION", () => {
    temp = createTempDatabase();
    temp.db
      .prepare("INSERT INTO schema_version VALUES (?, 'from the future', '2030-01-01')")
      .run(SCHEMA_VERSION + 7);
    const err = (() => {
      try {
        migrate(temp!.db);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("FAILED_PRECONDITION");
    expect((err as StoreError).message).toMatch(/newer than this rolecall supports/);
    expect(() => assertSchemaCurrent(temp!.db)).toThrow(/newer/);
  });

  it("refuses a file that has tables but is not a rolecall database", () => {
    temp = createTempDatabase();
    const other = openDatabase(join(temp.dir, "other.db"));
    try {
      other.exec("CREATE TABLE customers (id)");
      expect(() => migrate(other)).toThrow(/not a rolecall database/);
    } finally {
      other.close();
    }
  });
});
