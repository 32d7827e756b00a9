/**
 * Freshness under load (issue 8, item 3): checks at a steady rate against the real sidecar while
 * a writer (this test, PolicyAdmin on the sidecar's store of record) flips one permission of one
 * user — a grant, then a revoke, and so on. Every check asks `min_revision` R = the revision of the last
 * write that has committed when the check is sent; its answer must carry a revision ≥ R and the
 * decision the store held at that revision (known for every revision: the writer records each
 * one). Zero stale answers, zero errors.
 *
 * Then the same load against a sidecar started with the TEST-ONLY switch
 * `ROLECALL_UNSAFE_IGNORE_MIN_REVISION=1` (sidecar/src/sidecar.ts), which makes it ignore
 * min_revision: the same assertion must now find stale answers — proof that it can fail.
 *
 * Over both store backends (issue 14): `sqlite`, the sidecar's own file; and `postgres`, a real
 * PostgreSQL primary that the sidecar follows into its own copy (`--primary`), where the writer
 * commits — there a check naming a revision committed on the primary must wait for the follower
 * to copy it.
 *
 * Short (npm test): ~500 checks/s while writes commit, one every 50 ms: 200 over SQLite (~10 s),
 * 60 over PostgreSQL (~5 s, its admin writes being slower); the unsafe run: 60 writes over SQLite
 * (~3 s), 80 over PostgreSQL (~5 s). Long (`ROLECALL_LONG=1`): 2,000 checks/s while 1,000 writes
 * commit, on each backend.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcClients } from "../support/clients.js";
import { STORE_BACKENDS } from "../support/store/backends.js";
import { usePostgres } from "../support/use-postgres.js";
import {
  BOOTSTRAP,
  call,
  LONG,
  paced,
  plainPermissions,
  type SidecarOver,
  sleep,
  startSidecarOver,
  type WireDecision,
} from "./support.js";

const RATE = LONG ? 2_000 : 500;
const WRITES = { sqlite: LONG ? 1_000 : 200, postgres: LONG ? 1_000 : 60 };
// Over PostgreSQL a follower often serves a commit before its writer hears COMMIT back (the
// notification carries the change: one read), so a stale answer needs more writes to show up.
const UNSAFE_WRITES = { sqlite: 60, postgres: 80 };
const WRITE_EVERY_MS = 50;
const TENANT = "demo";
const USER = "freshness-probe";

interface FreshnessResult {
  readonly checks: number;
  readonly skipped: number;
  readonly writes: number;
  readonly stale: number;
  readonly behind: number;
  readonly errors: number;
  readonly waitedForWrite: number;
  readonly seconds: number;
  readonly examples: readonly string[];
}

/**
 * Sets up a user holding one role with nothing in it, then runs `writes` flips of `permission`
 * on that role while checks go out at `rate`, each asking for the last committed revision.
 */
async function runFreshness(target: SidecarOver, rate: number, writes: number): Promise<FreshnessResult> {
  const clients = grpcClients(target.sidecar.grpcAddress);
  try {
    const { admin } = target;
    const { roleId } = await admin.createRole(BOOTSTRAP, { tenantId: TENANT, name: "Freshness Probe" });
    await admin.createUser(BOOTSTRAP, { tenantId: TENANT, userId: USER, displayName: "Freshness Probe" });
    await admin.assignRoles(BOOTSTRAP, { tenantId: TENANT, userId: USER, roleIds: [roleId] });
    const permission = plainPermissions("cxengage")[0]?.key ?? plainPermissions("maxcontact")[0]!.key;

    // revision → whether USER holds `permission` in the store at that revision.
    const stateAt = new Map<number, boolean>();
    let committed = await target.reader.read(async (tx) => tx.revision());
    stateAt.set(committed, false);
    let done = 0;
    const writer = (async () => {
      for (let k = 1; k <= writes; k++) {
        const on = k % 2 === 1;
        const { revision } = on
          ? await admin.grantPermissions(BOOTSTRAP, { tenantId: TENANT, roleId, permissions: [permission] })
          : await admin.revokePermissions(BOOTSTRAP, { tenantId: TENANT, roleId, permissions: [permission] });
        stateAt.set(revision, on);
        committed = revision;
        done = k;
        await sleep(WRITE_EVERY_MS);
      }
    })();

    let stale = 0;
    let behind = 0;
    let errors = 0;
    let waitedForWrite = 0;
    let writerDone = false;
    void writer.then(() => {
      writerDone = true;
    });
    const examples: string[] = [];
    const judge = (min: number, revision: number, allowed: boolean) => {
      const want = stateAt.get(revision);
      if (revision < min || want === undefined || allowed !== want) {
        stale++;
        if (revision < min) behind++;
        if (examples.length < 5) {
          examples.push(
            `min ${min}: answered at ${revision} allowed=${allowed}, store at ${min}: ${stateAt.get(min)}`,
          );
        }
      }
    };
    // Answers above the last revision the writer heard back of, judged once the writes are done:
    // a follower may serve a PostgreSQL commit before its writer's COMMIT returns.
    const unconfirmed: (() => void)[] = [];
    const run = await paced({
      rate,
      // Until the writer is done: the generator stops when time is up, so size it generously.
      durationMs: writes * WRITE_EVERY_MS * 3,
      maxInFlight: 1024,
      stop: () => writerDone,
      fire: async () => {
        const min = committed;
        const r = await call<WireDecision>(
          clients.policy,
          "CheckPermission",
          { tenant_id: TENANT, user_id: USER, permission, min_revision: min },
          3_000,
        );
        if (!r.ok) {
          errors++;
          if (examples.length < 5) examples.push(`min ${min}: error ${r.err.code} ${r.err.details}`);
          return;
        }
        const revision = Number(r.res.revision);
        if (revision === min && min === committed) waitedForWrite++;
        const { allowed } = r.res;
        if (revision > committed) unconfirmed.push(() => judge(min, revision, allowed));
        else judge(min, revision, allowed);
      },
    });
    await writer;
    for (const late of unconfirmed) late();
    return {
      checks: run.started,
      skipped: run.skipped,
      writes: done,
      stale,
      behind,
      errors,
      waitedForWrite,
      seconds: Math.round(run.elapsedMs / 100) / 10,
      examples,
    };
  } finally {
    clients.close();
  }
}

const postgres = usePostgres();

describe.each(STORE_BACKENDS)("freshness under load over %s", (backend) => {
  const writes = WRITES[backend];

  describe("min_revision is honoured", () => {
    let target: SidecarOver;
    beforeAll(async () => {
      target = await startSidecarOver(backend, { postgres });
    });
    afterAll(async () => {
      await target?.close();
    });

    it(`answers every check at or after its min_revision while ${writes} writes commit (${RATE} checks/s)`, async () => {
      const result = await runFreshness(target, RATE, writes);
      console.log(`freshness over ${backend} (guarantee on): ${JSON.stringify(result)}`);
      expect(result.writes).toBe(writes);
      expect(result.stale, result.examples.join("\n")).toBe(0);
      expect(result.errors, result.examples.join("\n")).toBe(0);
      expect(result.checks).toBeGreaterThan(writes * 2);
    });
  });

  describe("with the guarantee deliberately disabled (ROLECALL_UNSAFE_IGNORE_MIN_REVISION=1)", () => {
    let target: SidecarOver;
    beforeAll(async () => {
      target = await startSidecarOver(backend, {
        postgres,
        env: { ROLECALL_UNSAFE_IGNORE_MIN_REVISION: "1" },
      });
    });
    afterAll(async () => {
      await target?.close();
    });

    it("catches stale answers: the assertion above would fail", async () => {
      const result = await runFreshness(target, RATE, UNSAFE_WRITES[backend]);
      console.log(`freshness over ${backend} (guarantee OFF): ${JSON.stringify(result)}`);
      expect(result.stale).toBeGreaterThan(0);
      expect(result.behind).toBeGreaterThan(0);
    });
  });
});
