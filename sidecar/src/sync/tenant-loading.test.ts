/**
 * A start that loads tenant by tenant (the sync worker's full read in parts) never answers for a
 * tenant that is not compiled yet: a call naming it fails UNAVAILABLE or waits for it, and once it
 * is in, every decision equals one made on the whole store compiled at once. Not timed: the parts
 * are applied in-thread and observed between them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { generateScale } from "../../../test/fixtures/scale.js";
import { testCatalog } from "../../../test/support/store/test-catalog.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { compileSnapshot } from "../policy/compiler.js";
import { TenantNotReadyError } from "../policy/decision.js";
import { check } from "../policy/evaluator.js";
import { createPolicyEngine } from "../policy/policy-engine.js";
import { readPolicySource } from "../store/read-policy.js";
import { RevisionFeed } from "./revision-feed.js";
import { RevisionGate } from "./revision-gate.js";
import { SyncWatcher } from "./sync-watcher.js";

const catalog = testCatalog();
const TENANTS = ["tenant-01", "tenant-02", "tenant-03"];
let temp: TempDatabase | undefined;
let watcher: SyncWatcher | undefined;
afterEach(() => {
  watcher?.stop();
  temp?.cleanup();
  watcher = undefined;
  temp = undefined;
});

describe("a start that loads tenant by tenant", () => {
  it("fails or waits for a tenant not compiled yet, then decides it exactly as the whole store", async () => {
    temp = createTempDatabase();
    generateScale(temp.db, catalog, { tenants: 3, users: 90, roles: 30, clock: () => new Date(0) });
    const truth = compileSnapshot(readPolicySource(temp.db, catalog));
    const user = (t: string) => `user-1@${t}.example`;
    const permissions = [...catalog.permissions.keys()].slice(0, 40);

    const engine = createPolicyEngine();
    const seen: { compiled: string[]; loading: string[] }[] = [];
    const outcomes: string[] = [];
    let waitForLast: Promise<void> | undefined;
    watcher = new SyncWatcher({
      dbPath: temp.path,
      catalog,
      engine,
      gate: new RevisionGate(),
      feed: new RevisionFeed(),
      worker: false,
      readInParts: 1, // a part per tenant
      onReload: () => {
        const snapshot = engine.snapshot!;
        seen.push({ compiled: [...snapshot.tenants.keys()], loading: [...snapshot.pendingTenantIds] });
        for (const t of snapshot.pendingTenantIds) {
          // Never a decision from a tenant that is not there yet: UNAVAILABLE, whatever is asked.
          expect(engine.tenantLoading(t)).toBe(true);
          for (const permission of permissions.slice(0, 3)) {
            let thrown: unknown;
            try {
              engine.check(t, user(t), { permission });
            } catch (err) {
              thrown = err;
            }
            expect(thrown).toBeInstanceOf(TenantNotReadyError);
            expect((thrown as TenantNotReadyError).code).toBe("UNAVAILABLE");
          }
        }
        if (seen.length === 1) {
          // A call with time left waits for the tenant, and goes on once it is in.
          const last = TENANTS[2]!;
          waitForLast = engine.tenantReady(last, Date.now() + 60_000)!.then(() => {
            outcomes.push(`${last} ready`);
          });
        }
      },
    });
    await watcher.start();

    // One tenant per part: the first installed alone, the others listed as loading until theirs.
    expect(seen).toEqual([
      { compiled: [TENANTS[0]], loading: [TENANTS[1], TENANTS[2]] },
      { compiled: [TENANTS[0], TENANTS[1]], loading: [TENANTS[2]] },
      { compiled: TENANTS, loading: [] },
    ]);
    await waitForLast;
    expect(outcomes).toEqual([`${TENANTS[2]} ready`]);
    expect(engine.tenantReady(TENANTS[2]!, undefined)).toBeUndefined();

    // Loaded in parts, every decision equals the one on the whole store compiled at once.
    const snapshot = engine.currentSnapshot();
    for (const t of TENANTS) {
      for (const userId of snapshot.tenants.get(t)!.userIds) {
        for (const permission of permissions) {
          expect(engine.check(t, userId, { permission })).toEqual(check(truth, t, userId, { permission }));
        }
      }
    }
  });

  it("fails a call UNAVAILABLE at its deadline while its tenant is still loading", async () => {
    temp = createTempDatabase();
    generateScale(temp.db, catalog, { tenants: 2, users: 20, roles: 20, clock: () => new Date(0) });
    const source = readPolicySource(temp.db, catalog);
    // Only the first tenant compiled; the second exists and never arrives.
    const engine = createPolicyEngine({
      snapshot: compileSnapshot({ ...source, tenants: source.tenants.slice(0, 1) }, [TENANTS[1]!]),
    });
    const waited = engine.tenantReady(TENANTS[1]!, Date.now() + 30);
    await expect(waited).rejects.toBeInstanceOf(TenantNotReadyError);
    await expect(waited).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(() => engine.check(TENANTS[1]!, `user-1@${TENANTS[1]}.example`, { permission: "x" })).toThrow(
      TenantNotReadyError,
    );
    // The compiled tenant is not held up by the loading one; an unknown tenant is still NOT_FOUND.
    expect(engine.tenantReady(TENANTS[0]!, undefined)).toBeUndefined();
    expect(() => engine.check("no-such-tenant", "u", { permission: "x" })).toThrow("unknown tenant");
  });
});
