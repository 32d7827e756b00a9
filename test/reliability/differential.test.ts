/**
 * Differential (issue 8, item 2): random checks against the real sidecar (a child process, stock
 * grpc-js client) while this test changes the policy under it through PolicyAdmin on its store
 * of record — random grants, cascading revokes, role assignments and removals, user
 * (de)activations, role license changes (Calabrio's Performance Coaching grants Coachable
 * Performance User on association). On the real catalog the checks meet Calabrio's requirement
 * cycles, the live monitoring permissions whose Agent Monitoring need binds only the acting user
 * (checked with and without targets), and the View [Product] Data permissions that need a license
 * in the tenant's own pool. Right after each write commits, the whole policy is read at that revision
 * in one consistent read and kept; every answer, at whatever revision it carries, must equal the
 * reference evaluator (test/support/policy/reference-evaluator.ts) on the store as of that
 * revision: allowed, reason and missing. Zero mismatches.
 *
 * History (issue 15): one check in twenty asks `at_revision` R, a revision already committed:
 * the answer must carry R and equal the reference on the store as recorded right after R
 * committed — what a fresh sidecar would answer on a copy of the store restored at R. And some
 * writes (every fourth) are first simulated (SimulateChanges): after the run, each simulation must equal what
 * committing the same write did per the reference (whose effective set gained and lost which
 * permissions), or
 * report the refusal the commit met.
 *
 * Over both store backends (issue 14): `sqlite`, the sidecar's own file, written to by a second
 * connection; and `postgres`, a real PostgreSQL primary the sidecar follows into its own copy
 * (`--primary`), written to and read at each revision there — so the answers also cross the
 * follower, which must copy each revision whole.
 *
 * Short (npm test): a write every 25 ms, ~300 checks/s (a fifth of them 5-item batches, some with
 * target users and resources), ~10 s over SQLite and ~6 s over PostgreSQL. Long
 * (`ROLECALL_LONG=1`, or `ROLECALL_DIFF_SECONDS=N`): 120 s each at ~1,000 checks/s.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AdminChange,
  PolicyService,
  type SimulateChangesResponse,
} from "../../gen/rolecall/v1/policy_pb.js";
import type { ProposedChange } from "../../sidecar/src/admin/simulate.js";
import type { CheckRequest } from "../../sidecar/src/policy/decision.js";
import type { PolicySource, TenantPolicy } from "../../sidecar/src/policy/policy-source.js";
import { connectClient, grpcClients } from "../support/clients.js";
import { applyChange, randomChange } from "../support/policy/random-admin-change.js";
import { referenceCheck, referenceEffective } from "../support/policy/reference-evaluator.js";
import { seededRandom } from "../support/seeded-random.js";
import { STORE_BACKENDS } from "../support/store/backends.js";
import { usePostgres } from "../support/use-postgres.js";
import {
  BOOTSTRAP,
  call,
  catalog,
  envNumber,
  LONG,
  paced,
  RecordingWriter,
  type SidecarOver,
  sleep,
  startSidecarOver,
  type WireDecision,
} from "./support.js";

const SECONDS = {
  sqlite: envNumber("ROLECALL_DIFF_SECONDS", LONG ? 120 : 10),
  postgres: envNumber("ROLECALL_DIFF_SECONDS", LONG ? 120 : 6),
};
const RATE = LONG ? 1_000 : 300;
const WRITE_EVERY_MS = 25;
const TENANT = "demo";
/** Most writes simulated before they commit in one run (each is judged by the reference afterwards). */
const MAX_SIMULATIONS = 25;

const postgres = usePostgres();

describe.each(STORE_BACKENDS)(
  "differential over %s: the sidecar against the reference evaluator while the policy changes",
  (backend) => {
    const seconds = SECONDS[backend];
    let target: SidecarOver;
    let clients: ReturnType<typeof grpcClients>;
    let writer: RecordingWriter;

    beforeAll(async () => {
      target = await startSidecarOver(backend, { args: ["--poll-ms", "10"], postgres });
      clients = grpcClients(target.sidecar.grpcAddress);
      writer = await RecordingWriter.start(target);
    });
    afterAll(async () => {
      clients?.close();
      await target?.close();
    });

    it(`agrees on every answer over ${seconds} s of random checks and writes`, async () => {
      const seed = Number(process.env.ROLECALL_SEED ?? Date.now() % 1_000_000);
      const random = seededRandom(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const tenantAt = (revision: number): TenantPolicy =>
        writer.sources.get(revision)!.tenants.find((t) => t.id === TENANT)!;
      let latest = Math.max(...writer.sources.keys());
      const keysOf = (t: TenantPolicy) =>
        [...catalog().permissions.values()].filter((p) => t.systems.includes(p.system)).map((p) => p.key);
      const allKeys = keysOf(tenantAt(latest));
      const licenseIds = [...catalog().licenses.keys()];

      // ---- the writer: one random admin write every WRITE_EVERY_MS ----
      let writes = 0;
      let refused = 0;
      let stop = false;
      // Some writes are first simulated (SimulateChanges over Connect, as the bootstrap admin),
      // judged after the run against what committing them really did.
      const simulations: Simulated[] = [];
      const admin = connectClient(PolicyService, target.sidecar.httpUrl, {
        token: target.sidecar.adminToken,
      });
      const writeLoop = (async () => {
        for (let i = 0; i < 100_000 && !stop; i++) {
          const change = randomChange(random, tenantAt(latest), { keys: allKeys, licenseIds });
          const from = latest;
          const out =
            simulations.length < MAX_SIMULATIONS && i % 4 === 0
              ? await admin.simulateChanges({
                  tenantId: TENANT,
                  changes: [
                    { change: { case: change.operation, value: change.request } as AdminChange["change"] },
                  ],
                })
              : undefined;
          let refusal = "";
          const revision = await writer.write((a) =>
            applyChange(a, BOOTSTRAP, change).catch((err: unknown) => {
              refusal = (err as { code?: string }).code ?? "";
              throw err;
            }),
          );
          if (out !== undefined) simulations.push({ change, from, to: revision, refusal, out });
          if (revision === undefined) refused++;
          else {
            writes++;
            latest = revision;
          }
          await sleep(WRITE_EVERY_MS);
        }
      })();

      // ---- the checks: random requests, each answer compared at its own revision ----
      const mismatches: string[] = [];
      let compared = 0;
      let errors = 0;
      const revisionsSeen = new Set<number>();
      let pastCompared = 0;
      const errorSamples: string[] = [];
      const randomRequest = (t: TenantPolicy): { user: string; request: CheckRequest } => {
        const users = [...t.users.map((u) => u.id), "nobody"];
        const granted = t.roles.flatMap((r) => r.grants);
        const permission = granted.length > 0 && random() < 0.6 ? pick(granted) : pick(allKeys);
        const r = random();
        const request: CheckRequest =
          r < 0.1 || (r < 0.25 && catalog().permissions.get(permission)?.mutual === true)
            ? { permission, targetUserId: pick(users) }
            : r < 0.2
              ? { permission, resource: { ownerUserId: pick(users), participantUserIds: [pick(users)] } }
              : { permission };
        return { user: pick(users), request };
      };
      const toWire = (request: CheckRequest) => ({
        permission: request.permission,
        target_user_id: request.targetUserId ?? "",
        ...(request.resource
          ? {
              resource: {
                owner_user_id: request.resource.ownerUserId,
                participant_user_ids: request.resource.participantUserIds,
              },
            }
          : {}),
      });
      // Answers at a revision the writer has not read back yet, judged once the writes are done:
      // a follower may serve a PostgreSQL commit before the writer's read of it returns.
      const unrecorded: (() => void)[] = [];
      const compare = (user: string, request: CheckRequest, got: WireDecision, final = false) => {
        const revision = Number(got.revision);
        revisionsSeen.add(revision);
        const source = writer.sources.get(revision);
        if (source === undefined && !final) {
          unrecorded.push(() => compare(user, request, got, true));
          return;
        }
        if (source === undefined) {
          mismatches.push(`answer at revision ${revision}, which no write committed`);
          return;
        }
        const want = referenceCheck(source, TENANT, user, request);
        compared++;
        const same =
          got.allowed === want.allowed &&
          got.reason === `REASON_${want.reason}` &&
          JSON.stringify(got.missing) === JSON.stringify(want.missing);
        if (!same && mismatches.length < 20) {
          mismatches.push(
            `r${revision} ${user} ${JSON.stringify(request)}: got ${got.allowed} ${got.reason} ${JSON.stringify(got.missing)}, reference ${want.allowed} ${want.reason} ${JSON.stringify(want.missing)}`,
          );
        } else if (!same) mismatches.push("…");
      };

      const run = await paced({
        rate: RATE,
        durationMs: seconds * 1000,
        maxInFlight: 256,
        fire: async () => {
          const t = tenantAt(latest);
          if (random() < 0.05) {
            // A decision at a past revision: judged on the store as recorded right after it committed.
            const revision = pick([...writer.sources.keys()]);
            const { user, request } = randomRequest(tenantAt(revision));
            const r = await call<WireDecision>(clients.policy, "CheckPermission", {
              tenant_id: TENANT,
              user_id: user,
              ...toWire(request),
              at_revision: revision,
              min_revision: revision, // a follower's copy must hold the revision asked
            });
            if (!r.ok) {
              errors++;
              if (errorSamples.length < 5) errorSamples.push(`at_revision ${revision}: ${r.err.message}`);
            } else if (Number(r.res.revision) !== revision) {
              mismatches.push(`at_revision ${revision} answered at revision ${r.res.revision}`);
            } else {
              pastCompared++;
              compare(user, request, r.res);
            }
            return;
          }
          if (random() < 0.2) {
            const user = pick([...t.users.map((u) => u.id), "nobody"]);
            const requests = Array.from({ length: 5 }, () => randomRequest(t).request);
            const r = await call<{ results: WireDecision[] }>(clients.policy, "CheckPermissions", {
              tenant_id: TENANT,
              user_id: user,
              items: requests.map(toWire),
            });
            if (!r.ok) errors++;
            else {
              for (const [i, request] of requests.entries()) compare(user, request, r.res.results[i]!);
            }
            return;
          }
          const { user, request } = randomRequest(t);
          const r = await call<WireDecision>(clients.policy, "CheckPermission", {
            tenant_id: TENANT,
            user_id: user,
            ...toWire(request),
          });
          if (!r.ok) errors++;
          else compare(user, request, r.res);
        },
      });
      stop = true;
      await writeLoop;
      for (const judge of unrecorded) judge();
      const simulationMismatches = judgeSimulations(simulations, writer.sources);

      const summary = {
        backend,
        seed,
        seconds,
        calls: run.started,
        skipped: run.skipped,
        decisionsCompared: compared,
        writes,
        refusedWrites: refused,
        revisionsSeen: revisionsSeen.size,
        pastDecisionsCompared: pastCompared,
        simulationsCompared: simulations.length,
        errors,
        mismatches: mismatches.length,
        simulationMismatches: simulationMismatches.length,
      };
      console.log(`differential: ${JSON.stringify(summary)}`);
      for (const m of simulationMismatches.slice(0, 3)) console.log(`simulation mismatch: ${m}`);
      expect(mismatches).toEqual([]);
      expect(simulationMismatches).toEqual([]);
      expect(errorSamples).toEqual([]);
      expect(errors).toBe(0);
      // The run must have exercised change, not one frozen revision (bounds loose enough for a
      // loaded 2-core machine: the generator skips slots rather than queue when the box is busy).
      expect(writes).toBeGreaterThan(seconds * 2);
      expect(revisionsSeen.size).toBeGreaterThan(seconds);
      expect(compared).toBeGreaterThan(seconds * 50);
      expect(pastCompared).toBeGreaterThan(seconds * 2);
      expect(simulations.length).toBeGreaterThanOrEqual(3);
    });
  },
);

/** A write simulated before it was committed, and what the commit did. */
interface Simulated {
  readonly change: ProposedChange;
  /** The revision the write followed. */
  readonly from: number;
  /** The revision it committed, or undefined when refused. */
  readonly to: number | undefined;
  /** The commit's refusal code, when refused. */
  readonly refusal: string;
  readonly out: SimulateChangesResponse;
}

/**
 * Each simulation against what committing the same write did, per the reference evaluator on the
 * store before and after: the same users gaining and losing the same permissions, a refused
 * write reported as not applied, and the simulation started from the revision the write followed.
 */
function judgeSimulations(
  simulations: readonly Simulated[],
  sources: ReadonlyMap<number, PolicySource>,
): string[] {
  // SimulateChanges reports what checks would answer: a permission the user holds whose
  // acting-user-only requirement is unmet (live monitoring without Agent Monitoring) is denied,
  // so it is neither gained nor lost.
  const allowed = (source: PolicySource, userId: string): Set<string> => {
    const tenant = source.tenants.find((t) => t.id === TENANT)!;
    const user = tenant.users.find((u) => u.id === userId);
    if (user === undefined || !user.active) return new Set();
    return new Set(
      [...referenceEffective(source, tenant, user)].filter(
        (permission) => referenceCheck(source, TENANT, userId, { permission }).allowed,
      ),
    );
  };
  const problems: string[] = [];
  for (const { change, from, to, refusal, out } of simulations) {
    const label = `${change.operation} ${JSON.stringify(change.request)} at r${from}`;
    if (Number(out.revision) !== from) problems.push(`${label}: simulated at r${out.revision}`);
    // A commit that met a busy store (UNAVAILABLE) was not refused by a rule: nothing to judge.
    if (to === undefined && refusal === "UNAVAILABLE") continue;
    if (to === undefined && out.changes[0]?.applied === false && out.changes[0].refusalCode !== refusal) {
      problems.push(`${label}: simulation refused ${out.changes[0].refusalCode}, commit refused ${refusal}`);
    }
    if (out.changes[0]?.applied !== (to !== undefined)) {
      problems.push(
        `${label}: simulation applied=${out.changes[0]?.applied}, commit ${to === undefined ? `refused ${refusal}` : "landed"}`,
      );
      continue;
    }
    const before = sources.get(from)!;
    const after = to === undefined ? before : sources.get(to)!;
    const want = after.tenants
      .find((t) => t.id === TENANT)!
      .users.map((u) => {
        const [b, a] = [allowed(before, u.id), allowed(after, u.id)];
        return {
          userId: u.id,
          permissionsGained: [...a].filter((p) => !b.has(p)).sort(),
          permissionsLost: [...b].filter((p) => !a.has(p)).sort(),
        };
      })
      .filter((u) => u.permissionsGained.length > 0 || u.permissionsLost.length > 0);
    const got = out.users
      .map((u) => ({
        userId: u.userId,
        permissionsGained: [...u.permissionsGained].sort(),
        permissionsLost: [...u.permissionsLost].sort(),
      }))
      .filter((u) => u.permissionsGained.length > 0 || u.permissionsLost.length > 0)
      .sort((x, y) => (x.userId < y.userId ? -1 : 1));
    want.sort((x, y) => (x.userId < y.userId ? -1 : 1));
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      // Name only what differs: whole lists run to hundreds of keys.
      const flat = (xs: typeof want) =>
        new Set(
          xs.flatMap((u) => [
            ...u.permissionsGained.map((p) => `${u.userId} +${p}`),
            ...u.permissionsLost.map((p) => `${u.userId} -${p}`),
          ]),
        );
      const [g, w] = [flat(got), flat(want)];
      const onlySimulated = [...g].filter((x) => !w.has(x));
      const onlyCommitted = [...w].filter((x) => !g.has(x));
      problems.push(
        `${label}: only simulated ${JSON.stringify(onlySimulated)}, only committed ${JSON.stringify(onlyCommitted)}`,
      );
    }
  }
  return problems;
}
