/**
 * Where the sidecar reads its store: a small store on the main thread (no worker isolate to pay
 * for), a large one in the worker, and a small store that grows large moves to the worker
 * without losing a change. Each path must keep the snapshot exactly in step with the file. On
 * the main thread, another process holding the store's locks must never make a poll wait.
 */
import { statSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateScale } from "../../../test/fixtures/scale.js";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { holdWalReadLocks, tearWalIndexHeader } from "../../../test/support/wal-lock-holder.js";
import { createPolicyAdmin } from "../admin/policy-admin.js";
import { createPolicyEngine, type PolicyEngine } from "../policy/policy-engine.js";
import { readRevision } from "../store/revision.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { RevisionFeed } from "./revision-feed.js";
import { RevisionGate } from "./revision-gate.js";
import { SyncWatcher } from "./sync-watcher.js";

const catalog = testCatalog();
let temp: TempDatabase;
let engine: PolicyEngine;
let watcher: SyncWatcher | undefined;
let workersStarted: number;

beforeEach(async () => {
  temp = createTempDatabase(catalog);
  await createPolicyAdmin(sqliteStore(temp.db), catalog).createTenant(
    { kind: "bootstrap" },
    { tenantId: "acme", name: "Acme", systems: ["maxcontact"] },
  );
  engine = createPolicyEngine();
  workersStarted = 0;
});
afterEach(() => {
  watcher?.stop();
  watcher = undefined;
  temp.cleanup();
});

/** The store's file and WAL: what the watcher weighs at start. */
function storeBytes(): number {
  return statSync(temp.path).size + statSync(`${temp.path}-wal`).size;
}

async function startWatcher(inThreadUpToBytes: number): Promise<void> {
  watcher = new SyncWatcher({
    dbPath: temp.path,
    catalog,
    engine,
    gate: new RevisionGate(),
    feed: new RevisionFeed(),
    worker: true,
    inThreadUpToBytes,
    onWorkerStarted: () => workersStarted++,
  });
  await watcher.start();
}

/** Waits until the engine serves the store's current revision. */
async function caughtUp(): Promise<void> {
  const revision = readRevision(temp.db);
  const deadline = Date.now() + 10_000;
  while (engine.snapshot?.revision !== revision) {
    if (Date.now() > deadline) throw new Error(`still at ${engine.snapshot?.revision}, store at ${revision}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("where the store is read", () => {
  it("reads a small store in-thread: no worker, and each change is applied by the poll", async () => {
    await startWatcher(1 << 20);
    expect(engine.snapshot!.tenants.has("acme")).toBe(true);
    generateScale(temp.db, catalog, { tenants: 1, users: 5, roles: 5, clock: () => new Date(0) });
    watcher!.pollNow(); // in-thread: this poll reads and applies the change before it returns
    expect(engine.snapshot!.revision).toBe(readRevision(temp.db));
    expect(engine.snapshot!.tenants.has("tenant-01")).toBe(true);
    expect(workersStarted).toBe(0);
  });

  it("polls an unchanged store without SQLite: another process holding its read locks makes no poll wait", async () => {
    await startWatcher(1 << 20);
    const holder = await holdWalReadLocks(temp.path);
    try {
      const started = performance.now();
      for (let i = 0; i < 5; i++) watcher!.pollNow();
      // A read transaction would retry for ~10 s against these locks; the polls only read files.
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(watcher!.lastError).toBeUndefined();
      expect(watcher!.failClosedReason()).toBeUndefined();
    } finally {
      await holder.release();
    }
    // Released: the next change is read as usual.
    generateScale(temp.db, catalog, { tenants: 1, users: 5, roles: 5, clock: () => new Date(0) });
    watcher!.pollNow();
    expect(engine.snapshot!.revision).toBe(readRevision(temp.db));
    expect(workersStarted).toBe(0);
  });

  it("fails a poll at once while the WAL index is mid-rewrite under held locks, then reads once it settles", async () => {
    await startWatcher(1 << 20);
    const serving = engine.snapshot!.revision;
    const holder = await holdWalReadLocks(temp.path);
    const untear = tearWalIndexHeader(temp.path);
    try {
      const started = performance.now();
      watcher!.pollNow();
      watcher!.pollNow();
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(watcher!.lastError).toMatch(/WAL index .* mid-rewrite/);
      expect(engine.snapshot!.revision).toBe(serving); // the last good snapshot still serves
    } finally {
      untear();
      await holder.release();
    }
    generateScale(temp.db, catalog, { tenants: 1, users: 5, roles: 5, clock: () => new Date(0) });
    watcher!.pollNow();
    expect(watcher!.lastError).toBeUndefined();
    expect(engine.snapshot!.revision).toBe(readRevision(temp.db));
    expect(engine.snapshot!.tenants.has("tenant-01")).toBe(true);
  });

  it("hands an index left torn (a writer died mid-rewrite) to a worker, and reads again once SQLite repairs it", async () => {
    await startWatcher(1 << 20);
    tearWalIndexHeader(temp.path); // never put back: only SQLite can repair it now
    const deadline = Date.now() + 10_000;
    while (workersStarted === 0 && Date.now() < deadline) {
      watcher!.pollNow(); // fails at once, for a second, then moves reading to a worker
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(workersStarted).toBe(1);
    // The next SQLite connection to use it repairs it (this writer, or the worker after a second).
    generateScale(temp.db, catalog, { tenants: 1, users: 5, roles: 5, clock: () => new Date(0) });
    await caughtUp();
    expect(engine.snapshot!.tenants.has("tenant-01")).toBe(true);
  });

  it("reads a store above the limit in a worker thread", async () => {
    await startWatcher(storeBytes() - 1);
    expect(engine.snapshot!.tenants.has("acme")).toBe(true);
    expect(workersStarted).toBe(1); // its first read is in: the worker is up
    generateScale(temp.db, catalog, { tenants: 1, users: 5, roles: 5, clock: () => new Date(0) });
    await caughtUp();
    expect(engine.snapshot!.tenants.has("tenant-01")).toBe(true);
  });

  it("moves to a worker once the store grows past the limit, losing no change", async () => {
    temp.db.pragma("wal_checkpoint(TRUNCATE)"); // the file alone is the store: its size is its pages
    await startWatcher(storeBytes() + 4096);
    generateScale(temp.db, catalog, { tenants: 2, users: 400, roles: 20, clock: () => new Date(0) });
    watcher!.pollNow(); // read in-thread, then handed to a worker: the store is bigger now
    const grown = readRevision(temp.db);
    expect(engine.snapshot!.revision).toBe(grown);
    expect([...engine.snapshot!.tenants.keys()].sort()).toEqual(["acme", "tenant-01", "tenant-02"]);

    // The worker carries on from the revision served: the next change is read as usual.
    const admin = createPolicyAdmin(sqliteStore(temp.db), catalog);
    await admin.createTenant(
      { kind: "bootstrap" },
      { tenantId: "zeta", name: "Zeta", systems: ["maxcontact"] },
    );
    watcher!.pollNow(); // a no-op now: the worker reads
    await caughtUp();
    expect(workersStarted).toBe(1);
    expect([...engine.snapshot!.tenants.keys()].sort()).toEqual(["acme", "tenant-01", "tenant-02", "zeta"]);
    expect(engine.snapshot!.tenants.get("tenant-01")!.userIds.length).toBe(200);
  });
});
