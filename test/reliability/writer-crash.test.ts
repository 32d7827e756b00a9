/**
 * Writer crashes (issue 8, item 4): a writer child process (test/reliability/crash-writer.ts)
 * toggles a block of K = 20 permissions on one role, all K in one transaction held open ~100 ms,
 * and is killed with SIGKILL at a random moment — most kills land mid-transaction — over and
 * over, while the sidecar (a child process) answers K-item batch checks for a user holding that
 * role. Asserted:
 * - zero partial policies served: every answer grants all K or none;
 * - every answer's revision is a committed state (printed by the writer after its commit, or
 *   read from the file after the kill) and its decision is that state's;
 * - the store itself is never torn (all K rows or none after each kill);
 * - the sidecar never stops serving: zero errors, SERVING at the end, same process.
 *
 * Short (npm test): 30 kills (~20 s). Long (`ROLECALL_LONG=1` or `ROLECALL_CRASH_KILLS=N`): 200.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import { openDatabase } from "../../sidecar/src/store/database.js";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { readRevision } from "../../sidecar/src/store/revision.js";
import { sqliteStore } from "../../sidecar/src/store/sqlite-policy-store.js";
import { grpcClients } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";
import {
  BOOTSTRAP,
  call,
  catalog,
  envNumber,
  healthStatus,
  LONG,
  paced,
  plainPermissions,
  sleep,
  type WireDecision,
  waitFor,
} from "./support.js";

const KILLS = envNumber("ROLECALL_CRASH_KILLS", LONG ? 200 : 30);
const K = 20;
const STEP_MS = 5;
const RATE = 200;
const TENANT = "demo";
const USER = "crash-probe";
const WRITER = join(import.meta.dirname, "crash-writer.ts");

describe("a writer killed mid-transaction, again and again", () => {
  let sidecar: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;
  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    clients = grpcClients(sidecar.grpcAddress);
  });
  afterAll(async () => {
    clients?.close();
    await sidecar?.stop();
  });

  it(
    `never serves a partial policy and never stops serving (${KILLS} SIGKILLs)`,
    async () => {
      const db = openStore(sidecar.dbPath);
      const admin = createPolicyAdmin(sqliteStore(db), catalog());
      const { roleId } = await admin.createRole(BOOTSTRAP, { tenantId: TENANT, name: "Crash Block" });
      await admin.createUser(BOOTSTRAP, { tenantId: TENANT, userId: USER, displayName: "Crash Probe" });
      await admin.assignRoles(BOOTSTRAP, { tenantId: TENANT, userId: USER, roleIds: [roleId] });
      db.close();
      const block = plainPermissions("maxcontact")
        .slice(0, K)
        .map((p) => p.key);
      expect(block).toHaveLength(K);

      // revision → whether the block is granted there, for every committed revision.
      const reader = openDatabase(sidecar.dbPath, { readonly: true });
      const countBlock = reader
        .prepare("SELECT COUNT(*) FROM role_grants WHERE tenant_id = ? AND role_id = ?")
        .pluck();
      const stateAt = new Map<number, boolean>();
      const recordStore = () => {
        reader
          .transaction(() => {
            const n = countBlock.get(TENANT, roleId) as number;
            if (n !== 0 && n !== K) throw new Error(`the store holds ${n} of the ${K} block grants: torn`);
            stateAt.set(readRevision(reader), n === K);
          })
          .deferred();
      };
      recordStore();

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
        for (let i = 0; i < KILLS; i++) {
          const child: ChildProcess = spawn(
            process.execPath,
            ["--import", "tsx", WRITER, sidecar.dbPath, TENANT, roleId, block.join(","), String(STEP_MS)],
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
            stateAt.set(Number(revision), state === "on");
          }
          const before = stateAt.size;
          recordStore(); // the last commit, if the kill came between it and its line
          // Killed mid-transaction when the file's revision is the last printed one (nothing new committed).
          if (stateAt.size === before) midTransaction++;
        }
      } finally {
        killing = false;
      }
      await load;
      reader.close();

      const partial = answers.filter((a) => a.allowed !== 0 && a.allowed !== K).length;
      const unknown = answers.filter((a) => !stateAt.has(a.revision)).length;
      const wrong = answers.filter(
        (a) => stateAt.has(a.revision) && (a.allowed === K) !== stateAt.get(a.revision),
      ).length;
      const summary = {
        kills: KILLS,
        killedMidTransaction: midTransaction,
        commits,
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
      expect(midTransaction).toBeGreaterThan(KILLS / 3);
      expect(commits).toBeGreaterThan(0);
      expect(sidecar.child.exitCode).toBeNull();
      expect(await healthStatus(sidecar.grpcAddress)).toBe("SERVING");
      // ~20 s alone; each kill spawns a tsx child, which is slower when the suites run in parallel.
    },
    60_000 + KILLS * 3_000,
  );
});
