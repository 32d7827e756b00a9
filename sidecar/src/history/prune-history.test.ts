/**
 * `--history-days` (issue 15): pruning deletes the audit rows older than the horizon, records
 * itself, keeps every revision from the horizon on answerable exactly as before, and refuses
 * older asks by revision and by time — even for a later reader given more days. Over both store
 * backends: the SQLite file and a real PostgreSQL primary (what `rolecall --primary` reads).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../catalog/loader.js";
import { applyChange, randomChange } from "../../../test/support/policy/random-admin-change.js";
import { seededRandom } from "../../../test/support/seeded-random.js";
import {
  STORE_BACKENDS,
  type StoreBackend,
  storeBackend,
  type TestStore,
} from "../../../test/support/store/backends.js";
import { DEMO_TENANT_ID, seedDemo } from "../admin/demo-seed.js";
import { createPolicyAdmin, type PolicyAdmin } from "../admin/policy-admin.js";
import type { Principal } from "../admin/principal.js";
import { PastSnapshots } from "./past-snapshots.js";
import { pruneHistory } from "./prune-history.js";

const catalog = loadCatalog();
const tenantId = DEMO_TENANT_ID;
const BOOTSTRAP: Principal = { kind: "bootstrap" };
const START = Date.parse("2026-09-01T08:00:00Z");
const HOUR = 3_600_000;
const DAYS = 10;

describe.each(STORE_BACKENDS)("pruning history over %s", (kind) => {
  let backend: StoreBackend;
  let test: TestStore;
  let admin: PolicyAdmin;
  let clock = START;
  const committedAt = new Map<number, number>();

  beforeAll(async () => {
    backend = storeBackend(kind);
    test = await backend.create(catalog);
    admin = createPolicyAdmin(test.store, catalog, { clock: () => new Date(clock) });
    await seedDemo(admin, catalog);
    const random = seededRandom(90);
    const space = {
      keys: [...catalog.permissions.values()].filter((p) => p.system === "cxengage").map((p) => p.key),
      licenseIds: [...catalog.licenses.keys()],
    };
    // One write every four hours for ten days.
    for (let i = 0; i < DAYS * 6; i++) {
      clock += 4 * HOUR;
      const tenant = (await test.store.read(async (tx) => tx.policySource(catalog, [tenantId]))).tenants[0]!;
      try {
        committedAt.set(
          (await applyChange(admin, BOOTSTRAP, randomChange(random, tenant, space))).revision,
          clock,
        );
      } catch (err) {
        if ((err as Error).name !== "StoreError") throw err;
      }
    }
  });
  afterAll(async () => {
    await test?.cleanup();
    await backend?.close();
  });

  const now = () => new Date(clock + HOUR);
  const history = (historyDays: number) =>
    new PastSnapshots({ store: test.store, catalog, historyDays, now });
  const auditCount = async () =>
    (await test.store.read(async (tx) => tx.auditPage(null, Number.MAX_SAFE_INTEGER, 100_000))).length;

  describe("pruning history", () => {
    it("deletes only what is older than the horizon; what is kept answers exactly as before", async () => {
      const revisions = [...committedAt.keys()].sort((a, b) => a - b);
      // The revision in force three days ago, and one after it.
      const cutoff = clock + HOUR - 3 * 24 * HOUR;
      const horizon = Math.max(...revisions.filter((r) => committedAt.get(r)! <= cutoff));
      const later = revisions[revisions.length - 5]!;
      const before = new Map<number, unknown>();
      for (const r of [horizon, later]) {
        before.set(
          r,
          (await history(3650).engineAt(tenantId, { atRevision: r }))!.engine.listEffective(tenantId, "dave"),
        );
      }
      const rowsBefore = await auditCount();

      const out = await pruneHistory(test.store, { historyDays: 3, now });
      expect(out?.prunedThrough).toBe(horizon);
      expect(await auditCount()).toBe(rowsBefore - out!.deleted + 1); // + the mark
      expect(await pruneHistory(test.store, { historyDays: 3, now })).toBeUndefined();

      for (const r of [horizon, later]) {
        const at = (await history(3).engineAt(tenantId, { atRevision: r }))!;
        expect(at.engine.listEffective(tenantId, "dave")).toEqual(before.get(r));
      }
      // A reader given more days still stops where the rows stop.
      for (const days of [3, 3650]) {
        await expect(history(days).engineAt(tenantId, { atRevision: horizon - 1 })).rejects.toMatchObject({
          code: "FAILED_PRECONDITION",
          message: expect.stringContaining(`the oldest revision kept is ${horizon}`),
        });
        await expect(
          history(days).engineAt(tenantId, { atTime: new Date(START + 24 * HOUR).toISOString() }),
        ).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });
      }
      const page = await history(3650).accessChanges({ tenantId, userId: "dave", limit: 1000 });
      expect(page.oldestRevision).toBe(horizon);
      expect(Math.min(...page.changes.map((c) => c.revision))).toBeGreaterThan(horizon);
    });

    it("records the pruning in the audit log", async () => {
      const events = await admin.listAuditEvents(BOOTSTRAP, { pageSize: 1000 });
      const mark = events.events.find((e) => e.operation === "HistoryPruned");
      expect(mark).toMatchObject({ actor: "history-days", after: { historyDays: 3 } });
    });
  });
});
