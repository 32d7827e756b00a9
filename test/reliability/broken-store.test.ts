/**
 * Broken store (issue 8, item 5): the sidecar's database file is locked by another process while
 * its WAL index is mid-rewrite (a stuck recovery), deleted, truncated, overwritten with garbage,
 * and replaced by a file with a newer schema. In each case the sidecar, running as a child
 * process with `--max-staleness-ms 1500`:
 * - keeps answering from the last good snapshot (same revision, same decisions) at first;
 * - reports the trouble: rolecall_sync_failures_total rises and rolecall_sync_age_seconds grows
 *   on /metrics;
 * - fails closed once max staleness has passed: grpc.health.v1 NOT_SERVING, /healthz 503,
 *   checks UNAVAILABLE — and never before;
 * - never crashes;
 * - recovers once a good copy is back: SERVING, the same decisions, and a new write (through a
 *   separate writer and through the sidecar's own AdminService) reaches its checks.
 *
 * Locked with its WAL index settled, the store cannot change (no connection can begin a read or
 * a write), and the sidecar can tell without SQLite that nothing was committed: it keeps serving,
 * SERVING, past max staleness, and its polls never wait on the locks.
 *
 * Short (npm test): each fault held ~2.5 s, ~30 s in all. Long (`ROLECALL_LONG=1`): each fault
 * held 10 s and the whole cycle repeated 3 times.
 */

import { randomBytes } from "node:crypto";
import { copyFileSync, openSync, renameSync, rmSync, truncateSync, writeSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import { openDatabase } from "../../sidecar/src/store/database.js";
import { SCHEMA_VERSION } from "../../sidecar/src/store/migrations.js";
import { openStore } from "../../sidecar/src/store/open-store.js";
import { readRevision } from "../../sidecar/src/store/revision.js";
import { sqliteStore } from "../../sidecar/src/store/sqlite-policy-store.js";
import { grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";
import { holdWalReadLocks, tearWalIndexHeader } from "../support/wal-lock-holder.js";
import {
  BOOTSTRAP,
  call,
  catalog,
  fileSize,
  healthStatus,
  LONG,
  metric,
  sleep,
  type WireDecision,
  waitFor,
} from "./support.js";

const MAX_STALENESS_MS = 1_500;
const HOLD_MS = LONG ? 10_000 : 2_500;
const ROUNDS = LONG ? 3 : 1;
const PERMISSION = "cxengage/CONTACTS_UPDATE";

interface Fault {
  readonly name: string;
  /** Whether the sidecar must fail closed after max staleness (else it keeps serving). */
  readonly failsClosed: boolean;
  /** Breaks the file; returns how to undo it in place, or undefined to restore the good copy. */
  readonly breakIt: (dbPath: string, goodPath: string) => Promise<(() => Promise<void>) | undefined>;
}

/** Another process holds the WAL's read locks; with `tear`, the WAL index is left mid-rewrite too. */
async function lockIt(dbPath: string, tear: boolean): Promise<() => Promise<void>> {
  const holder = await holdWalReadLocks(dbPath);
  const untear = tear ? tearWalIndexHeader(dbPath) : () => {};
  return async () => {
    untear();
    await holder.release();
  };
}

/** Puts a good copy back the way an operator restores a file: copy beside it, then rename over it. */
function restore(dbPath: string, goodPath: string): void {
  copyFileSync(goodPath, `${dbPath}.restoring`);
  renameSync(`${dbPath}.restoring`, dbPath);
}

const FAULTS: readonly Fault[] = [
  { name: "locked by another process", failsClosed: false, breakIt: (dbPath) => lockIt(dbPath, false) },
  {
    name: "locked by another process, its WAL index mid-rewrite",
    failsClosed: true,
    breakIt: (dbPath) => lockIt(dbPath, true),
  },
  {
    name: "deleted",
    failsClosed: true,
    breakIt: async (dbPath) => {
      rmSync(dbPath);
      return undefined;
    },
  },
  {
    name: "truncated to 0 bytes",
    failsClosed: true,
    breakIt: async (dbPath) => {
      truncateSync(dbPath, 0);
      return undefined;
    },
  },
  {
    name: "overwritten with garbage in place",
    failsClosed: true,
    breakIt: async (dbPath) => {
      const fd = openSync(dbPath, "r+");
      writeSync(fd, randomBytes(Math.max(4096, fileSize(dbPath))), 0, undefined, 0);
      return undefined;
    },
  },
  {
    name: "replaced by a file with a newer schema_version",
    failsClosed: true,
    breakIt: async (dbPath, goodPath) => {
      const next = `${dbPath}.newer`;
      copyFileSync(goodPath, next);
      const db = openDatabase(next);
      db.prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)").run(
        SCHEMA_VERSION + 1,
        "from the future",
        new Date().toISOString(),
      );
      db.pragma("wal_checkpoint(TRUNCATE)");
      db.close();
      rmSync(`${next}-wal`, { force: true });
      rmSync(`${next}-shm`, { force: true });
      renameSync(next, dbPath);
      return undefined;
    },
  },
];

describe("a broken policy store", () => {
  let sidecar: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;
  let goodPath: string;
  let customAgentRoleId: string;

  const check = (user: string, minRevision = 0) =>
    call<WireDecision>(clients.policy, "CheckPermission", {
      tenant_id: "demo",
      user_id: user,
      permission: PERMISSION,
      min_revision: minRevision,
    });

  beforeAll(async () => {
    sidecar = await startSidecarProcess({
      args: ["--poll-ms", "20", "--max-staleness-ms", String(MAX_STALENESS_MS)],
    });
    clients = grpcClients(sidecar.grpcAddress);
    const db = openStore(sidecar.dbPath);
    const roles = await createPolicyAdmin(sqliteStore(db), catalog()).listRoles(BOOTSTRAP, {
      tenantId: "demo",
    });
    customAgentRoleId = roles.find((r) => r.name === "Custom Agent")!.id;
    // A good copy: everything checkpointed into the main file, so the bytes alone are the database.
    db.pragma("wal_checkpoint(TRUNCATE)");
    goodPath = `${sidecar.dbPath}.good`;
    await db.backup(goodPath);
    db.close();
  });
  afterAll(async () => {
    clients?.close();
    const code = await sidecar?.stop();
    // Exit code 0 on SIGTERM: it was alive and shut down cleanly after all of it.
    expect(code).toBe(0);
  });

  /** Metrics say trouble; after max staleness it fails closed, never open; the age keeps growing. */
  async function expectFailsClosed(brokeAt: number, failures0: number): Promise<void> {
    expect(await metric(sidecar.httpUrl, "rolecall_sync_failures_total")).toBeGreaterThan(failures0);
    expect(
      await waitFor(async () => (await healthStatus(sidecar.grpcAddress)) === "NOT_SERVING", 5_000),
    ).toBe(true);
    expect(Date.now() - brokeAt).toBeGreaterThanOrEqual(MAX_STALENESS_MS - 100);
    const closed = await check("carol");
    expect(closed.ok ? closed.res : closed.err.code).toBe(grpc.status.UNAVAILABLE);
    expect((await fetch(`${sidecar.httpUrl}/healthz`)).status).toBe(503);
    const age1 = await metric(sidecar.httpUrl, "rolecall_sync_age_seconds");
    expect(age1).toBeGreaterThan(MAX_STALENESS_MS / 1000);
    await sleep(Math.max(300, HOLD_MS - (Date.now() - brokeAt)));
    expect(await metric(sidecar.httpUrl, "rolecall_sync_age_seconds")).toBeGreaterThan(age1);
  }

  /** Nothing can be committed meanwhile, and the sidecar sees so: fresh, SERVING and answering past max staleness. */
  async function expectKeepsServing(brokeAt: number, failures0: number, revision: unknown): Promise<void> {
    await sleep(Math.max(MAX_STALENESS_MS + 500, HOLD_MS) - (Date.now() - brokeAt));
    expect(await healthStatus(sidecar.grpcAddress)).toBe("SERVING");
    const carol = await check("carol");
    expect(carol.ok && carol.res).toMatchObject({ allowed: true, revision });
    expect((await fetch(`${sidecar.httpUrl}/healthz`)).status).toBe(200);
    expect(await metric(sidecar.httpUrl, "rolecall_sync_age_seconds")).toBeLessThan(1);
    expect(await metric(sidecar.httpUrl, "rolecall_sync_failures_total")).toBe(failures0);
  }

  for (let round = 1; round <= ROUNDS; round++) {
    for (const fault of FAULTS) {
      it(`${fault.name}${ROUNDS > 1 ? ` (round ${round})` : ""}: ${fault.failsClosed ? "serves the last good snapshot, fails closed after max staleness" : "keeps serving past max staleness"}, recovers`, async () => {
        const before = await check("dave");
        expect(before.ok).toBe(true);
        if (!before.ok) return;
        const revision = before.res.revision;
        expect(await healthStatus(sidecar.grpcAddress)).toBe("SERVING");
        const failures0 = await metric(sidecar.httpUrl, "rolecall_sync_failures_total");

        const brokeAt = Date.now();
        const undo = await fault.breakIt(sidecar.dbPath, goodPath);
        try {
          // Within max staleness: the last good snapshot answers, health says SERVING.
          await sleep(400);
          const during = await check("dave");
          expect(during.ok && during.res).toMatchObject({ allowed: false, revision });
          const carol = await check("carol");
          expect(carol.ok && carol.res).toMatchObject({ allowed: true, revision });
          if (Date.now() - brokeAt < MAX_STALENESS_MS - 200) {
            expect(await healthStatus(sidecar.grpcAddress)).toBe("SERVING");
          }
          if (fault.failsClosed) await expectFailsClosed(brokeAt, failures0);
          else await expectKeepsServing(brokeAt, failures0, revision);
          expect(sidecar.child.exitCode).toBeNull();
        } finally {
          if (undo === undefined) restore(sidecar.dbPath, goodPath);
          else await undo();
        }

        // Recovery: serving again with the same decisions...
        expect(
          await waitFor(async () => (await healthStatus(sidecar.grpcAddress)) === "SERVING", 5_000),
        ).toBe(true);
        const after = await check("dave");
        expect(after.ok && after.res).toMatchObject({ allowed: false, reason: "REASON_NOT_GRANTED" });

        // ...and syncing again: a separate writer's grant, then the sidecar's own AdminService revoke.
        const db = openStore(sidecar.dbPath);
        try {
          const granted = (
            await createPolicyAdmin(sqliteStore(db), catalog()).grantPermissions(BOOTSTRAP, {
              tenantId: "demo",
              roleId: customAgentRoleId,
              permissions: [PERMISSION],
            })
          ).revision;
          const seen = await check("dave", granted);
          expect(seen.ok && seen.res).toMatchObject({ allowed: true });
          expect(seen.ok && Number(seen.res.revision)).toBeGreaterThanOrEqual(granted);

          const revoked = await unary<{ revision: string }>(
            clients.admin,
            "RevokePermissions",
            { tenant_id: "demo", role_id: customAgentRoleId, permissions: [PERMISSION] },
            { token: sidecar.adminToken },
          );
          // The admin write must land in the file the sidecar serves from, not in a replaced one.
          expect(Number(revoked.revision)).toBe(granted + 1);
          expect(readRevision(db)).toBe(granted + 1);
          const back = await check("dave", Number(revoked.revision));
          expect(back.ok ? back.res : back.err.details).toMatchObject({ allowed: false });
          // Keep the good copy equal to the store, so the next fault restores to this state.
          db.pragma("wal_checkpoint(TRUNCATE)");
          await db.backup(goodPath);
        } finally {
          db.close();
        }
      });
    }
  }
});
