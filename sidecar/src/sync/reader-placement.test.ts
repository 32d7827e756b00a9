/**
 * Where the sidecar reads its store: a small store on the main thread (no worker isolate to pay
 * for), a large one in the worker, and a small store that grows large moves to the worker
 * without losing a change. Each path must keep the snapshot exactly in step with the file.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateScale } from "../../../test/fixtures/scale.js";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { createPolicyAdmin } from "../admin/policy-admin.js";
import { createPolicyEngine, type PolicyEngine } from "../policy/policy-engine.js";
import { readRevision } from "../store/revision.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { RevisionFeed } from "./revision-feed.js";
import { RevisionGate } from "./revision-gate.js";
import { StoreReader } from "./store-reader.js";
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

function storeBytes(): number {
  const reader = new StoreReader(temp.path);
  try {
    return reader.sizeBytes();
  } finally {
    reader.close();
  }
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

  it("reads a store above the limit in a worker thread", async () => {
    await startWatcher(storeBytes() - 1);
    expect(engine.snapshot!.tenants.has("acme")).toBe(true);
    expect(workersStarted).toBe(1); // its first read is in: the worker is up
    generateScale(temp.db, catalog, { tenants: 1, users: 5, roles: 5, clock: () => new Date(0) });
    await caughtUp();
    expect(engine.snapshot!.tenants.has("tenant-01")).toBe(true);
  });

  it("moves to a worker once the store grows past the limit, losing no change", async () => {
    await startWatcher(storeBytes() + 4096);
    generateScale(temp.db, catalog, { tenants: 2, users: 400, roles: 20, clock: () => new Date(0) });
    watcher!.pollNow(); // read in-thread, then handed to a worker: the store is bigger now
    const grown = readRevision(temp.db);
    expect(engine.snapshot!.revision).toBe(grown);
    expect([...engine.snapshot!.tenants.keys()].sort()).toEqual(["acme", "tenant-01", "tenant-02"]);

    // The worker's first read is a full one: it replaces the snapshot whole, never emptier.
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
