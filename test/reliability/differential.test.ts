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
import type { CheckRequest } from "../../sidecar/src/policy/decision.js";
import type { TenantPolicy } from "../../sidecar/src/policy/policy-source.js";
import { grpcClients } from "../support/clients.js";
import { referenceCheck } from "../support/policy/reference-evaluator.js";
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
      const writeLoop = (async () => {
        for (let i = 0; i < 100_000 && !stop; i++) {
          const t = tenantAt(latest);
          const role = pick(t.roles);
          const user = pick(t.users);
          const op = random();
          const revision = await writer.write((admin) => {
            if (op < 0.35) {
              const permissions = [pick(allKeys), ...(random() < 0.3 ? [pick(allKeys)] : [])];
              return admin.grantPermissions(BOOTSTRAP, { tenantId: TENANT, roleId: role.id, permissions });
            }
            if (op < 0.6 && role.grants.length > 0) {
              return admin.revokePermissions(BOOTSTRAP, {
                tenantId: TENANT,
                roleId: role.id,
                permissions: [pick(role.grants)],
                cascade: true,
              });
            }
            if (op < 0.66) {
              const licenses = [pick(licenseIds), ...(random() < 0.5 ? [pick(licenseIds)] : [])];
              return admin.setRoleLicenses(BOOTSTRAP, {
                tenantId: TENANT,
                roleId: role.id,
                licenseIds: [...new Set(licenses)],
              });
            }
            if (op < 0.8)
              return admin.assignRoles(BOOTSTRAP, { tenantId: TENANT, userId: user.id, roleIds: [role.id] });
            if (op < 0.93 && user.roleIds.length > 0) {
              return admin.unassignRoles(BOOTSTRAP, {
                tenantId: TENANT,
                userId: user.id,
                roleIds: [pick(user.roleIds)],
              });
            }
            return admin.setUserActive(BOOTSTRAP, {
              tenantId: TENANT,
              userId: user.id,
              active: !user.active,
            });
          });
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
        errors,
        mismatches: mismatches.length,
      };
      console.log(`differential: ${JSON.stringify(summary)}`);
      expect(mismatches).toEqual([]);
      expect(errors).toBe(0);
      // The run must have exercised change, not one frozen revision (bounds loose enough for a
      // loaded 2-core machine: the generator skips slots rather than queue when the box is busy).
      expect(writes).toBeGreaterThan(seconds * 2);
      expect(revisionsSeen.size).toBeGreaterThan(seconds);
      expect(compared).toBeGreaterThan(seconds * 50);
    });
  },
);
