/**
 * Writer crashes (issue 8, item 4): a writer child process (test/reliability/crash-writer.ts)
 * toggles a block of K = 20 permissions on one role, all K in one transaction held open ~100 ms,
 * and is killed with SIGKILL at a random moment — most kills land mid-transaction — over and
 * over, while the sidecar (a child process) answers K-item batch checks for a user holding that
 * role. Asserted:
 * - zero partial policies served: every answer grants all K or none;
 * - every answer's revision is a committed one (in the store of record's change log) and its
 *   decision is that revision's state (as the log and the writer's printed commits record it);
 * - the store itself is never torn (all K rows or none after each kill);
 * - the sidecar never stops serving: zero errors, SERVING at the end, same process.
 *
 * Over both store backends (issue 14): `sqlite`, the writer on the sidecar's own file; and
 * `postgres`, the writer holding an open transaction of many statements on a real PostgreSQL
 * primary that the sidecar follows into its own copy (`--primary`) — the server must roll back
 * what a killed client left, and the follower must never copy part of a revision.
 *
 * Short (npm test): 30 kills over SQLite (~20 s), 12 over PostgreSQL (~10 s). Long (`ROLECALL_LONG=1`
 * or `ROLECALL_CRASH_KILLS=N`): 200 on each.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childScriptArgs } from "../support/child-script.js";
import { grpcClients } from "../support/clients.js";
import { STORE_BACKENDS } from "../support/store/backends.js";
import { usePostgres } from "../support/use-postgres.js";
import {
  BOOTSTRAP,
  call,
  envNumber,
  healthStatus,
  LONG,
  paced,
  plainPermissions,
  type SidecarOver,
  sleep,
  startSidecarOver,
  type WireDecision,
  waitFor,
} from "./support.js";

const KILLS = {
  sqlite: envNumber("ROLECALL_CRASH_KILLS", LONG ? 200 : 30),
  postgres: envNumber("ROLECALL_CRASH_KILLS", LONG ? 200 : 12),
};
const K = 20;
const STEP_MS = 5;
const RATE = 200;
const TENANT = "demo";
const USER = "crash-probe";
const WRITER = join(import.meta.dirname, "crash-writer.ts");

const postgres = usePostgres();

describe.each(STORE_BACKENDS)("a writer killed mid-transaction, again and again, over %s", (backend) => {
  const kills = KILLS[backend];
  let target: SidecarOver;
  let clients: ReturnType<typeof grpcClients>;
  beforeAll(async () => {
    target = await startSidecarOver(backend, { postgres });
    clients = grpcClients(target.sidecar.grpcAddress);
  });
  afterAll(async () => {
    clients?.close();
    await target?.close();
  });

  it(
    `never serves a partial policy and never stops serving (${kills} SIGKILLs)`,
    async () => {
      const { admin, reader, sidecar } = target;
      const { roleId } = await admin.createRole(BOOTSTRAP, { tenantId: TENANT, name: "Crash Block" });
      await admin.createUser(BOOTSTRAP, { tenantId: TENANT, userId: USER, displayName: "Crash Probe" });
      await admin.assignRoles(BOOTSTRAP, { tenantId: TENANT, userId: USER, roleIds: [roleId] });
      const block = plainPermissions("maxcontact")
        .slice(0, K)
        .map((p) => p.key);
      expect(block).toHaveLength(K);

      // revision → whether the block is granted there, as the writer printed it or the store held it.
      const bookkept = new Map<number, boolean>();
      const recordStore = () =>
        reader.read(async (tx) => {
          const n = (await tx.grants(TENANT, roleId)).filter((k) => block.includes(k)).length;
          if (n !== 0 && n !== K) throw new Error(`the store holds ${n} of the ${K} block grants: torn`);
          bookkept.set(await tx.revision(), n === K);
        });
      await recordStore();
      const startRevision = Math.max(...bookkept.keys());
      // The load starts once the sidecar serves the setup (a follower copies it a moment later).
      const caughtUp = await call(
        clients.policy,
        "CheckPermission",
        { tenant_id: TENANT, user_id: USER, permission: block[0], min_revision: startRevision },
        10_000,
      );
      expect(caughtUp.ok).toBe(true);

      // Checks all along: one K-item batch per call, each answer kept and judged at the end.
      const answers: { revision: number; allowed: number }[] = [];
      let errors = 0;
      let killing = true;
      const load = paced({
        rate: RATE,
        durationMs: 600_000,
        maxInFlight: 256,
        stop: () => !killing,
        fire: async () => {
          const r = await call<{ results: WireDecision[]; revision: string }>(
            clients.policy,
            "CheckPermissions",
            {
              tenant_id: TENANT,
              user_id: USER,
              items: block.map((permission) => ({ permission })),
            },
          );
          if (!r.ok) {
            errors++;
            return;
          }
          const revisions = new Set(r.res.results.map((x) => x.revision));
          if (revisions.size !== 1) errors++; // one batch, one snapshot
          answers.push({
            revision: Number(r.res.revision),
            allowed: r.res.results.filter((x) => x.allowed).length,
          });
        },
      });

      let midTransaction = 0;
      let commits = 0;
      try {
        for (let i = 0; i < kills; i++) {
          const child: ChildProcess = spawn(
            process.execPath,
            [...childScriptArgs(WRITER), target.location, TENANT, roleId, block.join(","), String(STEP_MS)],
            { stdio: ["ignore", "pipe", "inherit"] },
          );
          let out = "";
          child.stdout!.on("data", (d: Buffer) => {
            out += d.toString();
          });
          const exited = new Promise((r) => child.once("exit", r));
          expect(await waitFor(() => out.includes("ready") || child.exitCode !== null, 15_000)).toBe(true);
          // Somewhere in the first few transactions (each ~K * STEP_MS = 100 ms long).
          await sleep(Math.floor(Math.random() * 350));
          process.kill(child.pid!, "SIGKILL");
          await exited;
          const lines = out.split("\n").filter((l) => l.startsWith("commit "));
          commits += lines.length;
          for (const line of lines) {
            const [, revision, state] = line.split(" ");
            bookkept.set(Number(revision), state === "on");
          }
          const before = bookkept.size;
          await recordStore(); // the last commit, if the kill came between it and its line
          // Killed mid-transaction when the store's revision is the last printed one (nothing new committed).
          if (bookkept.size === before) midTransaction++;
        }
      } finally {
        killing = false;
      }
      await load;

      // The committed revisions are the store of record's change log (on PostgreSQL, the
      // primary's, which also holds a commit whose COMMIT reached the server just before its
      // client died): the bookkeeping must agree with it, and every answer be at one of them.
      const logged = await target.changesAbove(startRevision);
      const committed = new Map<number, boolean>([[startRevision, bookkept.get(startRevision)!]]);
      for (const c of logged) committed.set(c.revision, c.kind === "GrantPermissions");
      const bookkeeping = [...bookkept].filter(([r, on]) => committed.get(r) !== on).length;
      const partial = answers.filter((a) => a.allowed !== 0 && a.allowed !== K).length;
      const unknown = answers.filter((a) => !committed.has(a.revision)).length;
      const wrong = answers.filter(
        (a) => committed.has(a.revision) && (a.allowed === K) !== committed.get(a.revision),
      ).length;
      const summary = {
        backend,
        kills,
        killedMidTransaction: midTransaction,
        commits,
        committedRevisions: logged.length,
        answers: answers.length,
        revisionsServed: new Set(answers.map((a) => a.revision)).size,
        partial,
        unknownRevision: unknown,
        wrongState: wrong,
        errors,
      };
      console.log(`writer-crash: ${JSON.stringify(summary)}`);
      expect(partial).toBe(0);
      expect(unknown).toBe(0);
      expect(wrong).toBe(0);
      expect(errors).toBe(0);
      expect(bookkeeping).toBe(0);
      expect(midTransaction).toBeGreaterThan(kills / 3);
      expect(commits).toBeGreaterThan(0);
      expect(sidecar.child.exitCode).toBeNull();
      expect(await healthStatus(sidecar.grpcAddress)).toBe("SERVING");
      // ~20 s alone; each kill spawns a writer child, which is slower when the suites run in parallel.
    },
    60_000 + kills * 3_000,
  );
});
