import { openSync, truncateSync, writeSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { createPolicyAdmin } from "../admin/policy-admin.js";
import { createPolicyEngine, type PolicyEngine } from "../policy/policy-engine.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { RevisionFeed } from "./revision-feed.js";
import { RevisionGate } from "./revision-gate.js";
import { SyncWatcher } from "./sync-watcher.js";

const catalog = testCatalog();
let temp: TempDatabase;
let engine: PolicyEngine;
let watcher: SyncWatcher;
let now = 0;

beforeEach(async () => {
  temp = createTempDatabase(catalog);
  await createPolicyAdmin(sqliteStore(temp.db), catalog).createTenant(
    { kind: "bootstrap" },
    { tenantId: "acme", name: "Acme", systems: ["maxcontact"] },
  );
  // Everything in the main file, as after a checkpoint: the WAL alone cannot mask damage to it.
  temp.db.pragma("wal_checkpoint(TRUNCATE)");
  engine = createPolicyEngine();
  now = 0;
  watcher = new SyncWatcher({
    dbPath: temp.path,
    catalog,
    engine,
    gate: new RevisionGate(),
    feed: new RevisionFeed(),
    maxStalenessMs: 1_000,
    worker: false,
    now: () => now,
  });
  watcher.start();
});
afterEach(() => {
  watcher.stop();
  temp.cleanup();
});

// Regression (issue 8, broken store): a file truncated or overwritten in place keeps its inode; the
// watcher's open WAL connection kept answering from its cache, so polls "succeeded" over a
// destroyed file, health stayed SERVING and checks never failed closed.
describe("SyncWatcher on a file damaged in place", () => {
  it.each([
    ["truncated", (path: string) => truncateSync(path, 0)],
    [
      "overwritten with garbage",
      (path: string) => {
        const fd = openSync(path, "r+");
        writeSync(fd, Buffer.alloc(8192, 0x5a), 0, undefined, 0);
      },
    ],
  ])("%s: the poll fails, the last snapshot stays, and it fails closed after max staleness", (_, damage) => {
    const revision = engine.snapshot!.revision;
    watcher.pollNow();
    expect(watcher.lastError).toBeUndefined();
    damage(temp.path);
    now += 500;
    watcher.pollNow();
    expect(watcher.lastError).toBeDefined();
    expect(engine.snapshot!.revision).toBe(revision);
    expect(watcher.failClosedReason()).toBeUndefined();
    now += 1_000;
    watcher.pollNow();
    expect(watcher.failClosedReason()).toMatch(/failing closed/);
  });
});
