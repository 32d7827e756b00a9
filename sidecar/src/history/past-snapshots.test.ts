/**
 * History (issue 15): a decision at revision R equals a fresh engine's on a copy of the store
 * taken at R (a real SQLite copy, serialized right after R committed); an ask by time finds the
 * revision in force then; a user's access changes equal the reference evaluator's brute force
 * over every revision; asks beyond the history kept are refused naming the oldest revision kept.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../catalog/loader.js";
import { applyChange, randomChange } from "../../../test/support/policy/random-admin-change.js";
import { referenceAccessChanges } from "../../../test/support/policy/reference-evaluator.js";
import { seededRandom } from "../../../test/support/seeded-random.js";
import { createTempDatabase, type TempDatabase } from "../../../test/support/store/test-database.js";
import { DEMO_TENANT_ID, seedDemo } from "../admin/demo-seed.js";
import { createPolicyAdmin, type PolicyAdmin } from "../admin/policy-admin.js";
import type { Principal } from "../admin/principal.js";
import { compileSnapshot } from "../policy/compiler.js";
import { createPolicyEngine } from "../policy/policy-engine.js";
import type { PolicySource } from "../policy/policy-source.js";
import type { Snapshot } from "../policy/snapshot.js";
import { readPolicySource } from "../store/read-policy.js";
import { sqliteStore } from "../store/sqlite-policy-store.js";
import { PastSnapshots } from "./past-snapshots.js";

const catalog = loadCatalog();
const tenantId = DEMO_TENANT_ID;
const BOOTSTRAP: Principal = { kind: "bootstrap" };
const WRITES = 120;
const START = Date.parse("2026-09-01T08:00:00Z");
const HOUR = 3_600_000;

let temp: TempDatabase;
let admin: PolicyAdmin;
let clock = START;
/** The policy read right after each revision committed. */
const sources = new Map<number, PolicySource>();
/** Real copies of the store file at some revisions (their paths). */
const copies = new Map<number, string>();
/** When each write committed. */
const committedAt = new Map<number, number>();

beforeAll(async () => {
  temp = createTempDatabase(catalog);
  admin = createPolicyAdmin(sqliteStore(temp.db), catalog, { clock: () => new Date(clock) });
  const record = () => {
    const source = readPolicySource(temp.db, catalog);
    sources.set(source.revision, source);
    return source;
  };
  const copy = (revision: number) => {
    const path = join(temp.dir, `at-${revision}.db`);
    temp.db.prepare("VACUUM INTO ?").run(path);
    copies.set(revision, path);
  };
  record();
  // Every write of the seed recorded too: the reference must see each revision.
  const recording = new Proxy(admin, {
    get: (target, name, receiver) => {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== "function" || name === "atomically") return value;
      return async (...args: unknown[]) => {
        const out = await (value as (...a: unknown[]) => Promise<unknown>)(...args);
        record();
        return out;
      };
    },
  });
  await seedDemo(recording, catalog);
  let latest = record();
  copy(latest.revision);
  const random = seededRandom(15);
  const tenant = latest.tenants.find((t) => t.id === tenantId)!;
  const space = {
    keys: [...catalog.permissions.values()]
      .filter((p) => tenant.systems.includes(p.system))
      .map((p) => p.key),
    licenseIds: [...catalog.licenses.keys()],
  };
  for (let i = 0; i < WRITES; i++) {
    clock += HOUR;
    const change = randomChange(random, latest.tenants.find((t) => t.id === tenantId)!, space);
    try {
      const { revision } = await applyChange(admin, BOOTSTRAP, change);
      if (revision === latest.revision) continue; // a no-op commits nothing
      committedAt.set(revision, clock);
    } catch (err) {
      if ((err as Error).name === "StoreError") continue; // refused by the admin rules
      throw err;
    }
    latest = record();
    if (i % 20 === 7) copy(latest.revision);
  }
});
afterAll(() => temp.cleanup());

const history = (historyDays = 3650, now = () => new Date(clock + HOUR)) =>
  new PastSnapshots({ store: sqliteStore(temp.db), catalog, historyDays, now });

describe("at_revision", () => {
  it("decides every user and permission as a fresh engine on a copy of the store taken at that revision", async () => {
    expect(copies.size).toBeGreaterThanOrEqual(5);
    let compared = 0;
    // Newest first, one reader: each revision is walked back from the one asked before it.
    // Oldest first, another: each is walked back from now.
    const newestFirst = [...copies].sort((a, b) => b[0] - a[0]);
    // A sidecar's first asks walk back from the snapshot it serves (the store now), a fresh
    // reader each; one serving a stale snapshot (another revision) must not start from it.
    const revisions = [...sources.keys()].sort((a, b) => a - b);
    const now = compileSnapshot(sources.get(revisions.at(-1)!)!);
    const stale = compileSnapshot(sources.get(revisions.at(-3)!)!);
    const asks = [
      ...newestFirst.map((c) => ({ past: "newest-first", copy: c })),
      ...newestFirst.map((c) => ({ past: "served", copy: c })),
      ...newestFirst.map((c) => ({ past: "served-stale", copy: c })),
      ...newestFirst.reverse().map((c) => ({ past: "oldest-first", copy: c })),
    ];
    const served = (snapshot: Snapshot) => () =>
      new PastSnapshots({ store: sqliteStore(temp.db), catalog, historyDays: 3650, current: () => snapshot });
    const readers = new Map([
      ["newest-first", history],
      ["oldest-first", history],
      ["served", served(now)],
      ["served-stale", served(stale)],
    ]);
    const kept = new Map([...readers].map(([k, make]) => [k, make()]));
    for (const {
      past: order,
      copy: [revision, path],
    } of asks) {
      // The served readers start afresh each ask: each is a first ask, walked back from now.
      const past = order.startsWith("served") ? readers.get(order)!() : kept.get(order)!;
      const copy = new Database(path, { readonly: true });
      const fresh = createPolicyEngine({ snapshot: compileSnapshot(readPolicySource(copy, catalog)) });
      copy.close();
      const at = (await past.engineAt(tenantId, { atRevision: revision }))!;
      expect(at.revision).toBe(revision);
      for (const user of sources.get(revision)!.tenants.find((t) => t.id === tenantId)!.users) {
        const want = fresh.listEffective(tenantId, user.id);
        const got = at.engine.listEffective(tenantId, user.id);
        const norm = (rows: typeof want) =>
          rows.map((r) => ({ ...r, grantedByRoleIds: [...r.grantedByRoleIds].sort() }));
        expect(norm(got)).toEqual(norm(want));
        const key = want.find((r) => r.allowed)?.permission ?? want[0]!.permission;
        expect(at.engine.check(tenantId, user.id, { permission: key })).toMatchObject({
          allowed: fresh.check(tenantId, user.id, { permission: key }).allowed,
          revision,
        });
        compared += want.length;
      }
    }
    expect(compared).toBeGreaterThan(2_000);
  });

  it("knows no tenant before the revision that created it", async () => {
    await expect(history().engineAt(tenantId, { atRevision: 1 })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "tenant 'demo' did not exist at revision 1",
    });
  });

  it("resolves a time to the revision in force then", async () => {
    const [revision, time] = [...committedAt].at(WRITES / 4)!;
    const between = new Date(time + HOUR / 2).toISOString();
    expect((await history().engineAt(tenantId, { atTime: between }))!.revision).toBe(revision);
    expect((await history().engineAt(tenantId, { atTime: new Date(time).toISOString() }))!.revision).toBe(
      revision,
    );
  });

  it("refuses asks beyond the history kept, naming the oldest revision kept", async () => {
    // Two days kept: only the last 48 hourly writes are inside.
    const recent = history(2);
    const first = Math.min(...committedAt.keys());
    const ask = recent.engineAt(tenantId, { atRevision: first });
    await expect(ask).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });
    await expect(ask).rejects.toThrow(/older than the history kept: the oldest revision kept is \d+/);
    await expect(history().engineAt(tenantId, { atRevision: 10_000 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/at_revision 10000 is not a revision of this store/),
    });
    await expect(history().engineAt(tenantId, { atTime: "last tuesday" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/RFC 3339/),
    });
    await expect(history().engineAt(tenantId, { atRevision: 3, atTime: "2026-09-01" })).rejects.toMatchObject(
      {
        code: "INVALID_ARGUMENT",
      },
    );
  });
});

describe("ListAccessChanges", () => {
  it("lists, page by page, exactly the revisions at which each user's access changed", async () => {
    const past = history();
    const all = [...sources.values()];
    let total = 0;
    for (const userId of ["alice", "dave", "lena"]) {
      const want = referenceAccessChanges(all, tenantId, userId);
      const got: {
        revision: number;
        permissionsGained: readonly string[];
        permissionsLost: readonly string[];
      }[] = [];
      let below: number | undefined;
      for (;;) {
        const page = await past.accessChanges({
          tenantId,
          userId,
          limit: 4,
          ...(below === undefined ? {} : { belowRevision: below }),
        });
        got.push(...page.changes);
        below = page.nextBelow;
        if (below === undefined) break;
      }
      expect(
        got.map(({ revision, permissionsGained, permissionsLost }) => ({
          revision,
          permissionsGained,
          permissionsLost,
        })),
      ).toEqual(want);
      total += want.length;
    }
    expect(total).toBeGreaterThan(5);
  });

  it("narrows to one permission, with time, actor, operation and a summary", async () => {
    const all = [...sources.values()];
    const lena = referenceAccessChanges(all, tenantId, "lena");
    const key = lena.flatMap((c) => [...c.permissionsGained, ...c.permissionsLost])[0]!;
    const page = await history().accessChanges({ tenantId, userId: "lena", permission: key, limit: 50 });
    expect(page.changes.map((c) => c.revision)).toEqual(
      referenceAccessChanges(all, tenantId, "lena", key).map((c) => c.revision),
    );
    for (const c of page.changes) {
      expect(c.time).toBe(new Date(committedAt.get(c.revision) ?? START).toISOString());
      expect(c.actor).toBe("bootstrap");
      expect(c.operation).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(c.summary).not.toBe("");
    }
  });

  it("names an unknown user with a suggestion", async () => {
    await expect(history().accessChanges({ tenantId, userId: "lenna", limit: 5 })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringMatching(/unknown user 'lenna'.*lena/),
    });
  });
});

describe("history of a tenant with a system of its own", () => {
  it("decides the past on the tenant's own catalog, and lists changes of its permissions", async () => {
    const own = createTempDatabase(catalog);
    try {
      let at = START;
      const ownAdmin = createPolicyAdmin(sqliteStore(own.db), catalog, { clock: () => new Date(at) });
      await ownAdmin.createTenant(BOOTSTRAP, { tenantId: "acme", name: "Acme", systems: [] });
      const desktop = JSON.parse(readFileSync("examples/systems/agent-desktop.json", "utf8")) as unknown;
      const put = await ownAdmin.putSystem(BOOTSTRAP, { tenantId: "acme", system: { json: desktop } });
      await ownAdmin.createUser(BOOTSTRAP, { tenantId: "acme", userId: "ann", displayName: "Ann" });
      at += HOUR;
      const granted = await ownAdmin.assignRoles(BOOTSTRAP, {
        tenantId: "acme",
        userId: "ann",
        roleIds: ["agent-desktop.agent"],
      });
      at += HOUR;
      await ownAdmin.unassignRoles(BOOTSTRAP, {
        tenantId: "acme",
        userId: "ann",
        roleIds: ["agent-desktop.agent"],
      });
      const history = new PastSnapshots({
        store: sqliteStore(own.db),
        catalog,
        historyDays: 3650,
        now: () => new Date(at),
      });
      const then = (await history.engineAt("acme", { atRevision: granted.revision }))!;
      expect(then.engine.check("acme", "ann", { permission: "agent-desktop/desktop.use" }).allowed).toBe(
        true,
      );
      const page = await history.accessChanges({
        tenantId: "acme",
        userId: "ann",
        permission: "agent-desktop/desktop.use",
        limit: 10,
      });
      expect(page.changes.map((c) => [c.permissionsGained, c.permissionsLost])).toEqual([
        [[], ["agent-desktop/desktop.use"]],
        [["agent-desktop/desktop.use"], []],
      ]);
      // History does not cross the PutSystem: the list says where it ends.
      expect(page.oldestRevision).toBe(put.revision);
    } finally {
      own.cleanup();
    }
  });
});
