/**
 * SIGTERM while services are calling: the sidecar stops accepting, finishes the calls it has
 * accepted and exits 0 within its grace period. A caller sees each call either answered, and
 * answered right, or refused with UNAVAILABLE (which a grpc client may retry elsewhere); never a
 * wrong answer, a reset stream or a call hanging to its deadline.
 *
 * A plain check is answered in microseconds, so under load almost nothing is inside the server
 * when the signal lands; the second test therefore parks calls inside it on purpose (waiting for
 * a `min_revision` not yet applied) and only then sends SIGTERM.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const ROOT = join(import.meta.dirname, "..", "..");
/** Concurrent callers (more than the 100 streams one connection may carry at once). */
const CONCURRENCY = 200;
const DEADLINE_MS = 8_000;
/** The sidecar's default `shutdownGraceMs`. */
const GRACE_MS = 5_000;

type User = "dave" | "carol";

interface Outcome {
  readonly user: User;
  readonly endedAt: number;
  readonly response?: Record<string, unknown>;
  readonly error?: grpc.ServiceError;
}

const request = (user: User, minRevision?: number) => ({
  tenant_id: "demo",
  user_id: user,
  permission: "cxengage/CONTACTS_UPDATE",
  ...(minRevision === undefined ? {} : { min_revision: String(minRevision) }),
});

/** `{ UNAVAILABLE: n, ... }` for the failed outcomes. */
function codesOf(outcomes: readonly Outcome[]): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const o of outcomes) {
    if (!o.error) continue;
    const name = grpc.status[o.error.code] ?? String(o.error.code);
    codes[name] = (codes[name] ?? 0) + 1;
  }
  return codes;
}

/** Runs the CLI to completion; resolves with its exit code. */
function cli(args: readonly string[]): Promise<number | null> {
  const child = spawn(process.execPath, [join(ROOT, "bin/rolecall.js"), ...args], { stdio: "ignore" });
  return new Promise((resolve) => child.once("exit", resolve));
}

describe("graceful shutdown", () => {
  let sidecar: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;

  beforeEach(async () => {
    sidecar = await startSidecarProcess();
    clients = grpcClients(sidecar.grpcAddress);
  });
  afterEach(async () => {
    clients?.close();
    await sidecar?.stop("SIGKILL"); // a no-op when the test already saw it exit
  });

  it("SIGTERM under steady load: every call answered right or refused UNAVAILABLE; exit 0 in time", async () => {
    // The answers outside any shutdown, to compare every answer under shutdown with.
    const expected = {
      dave: await unary(clients.policy, "CheckPermission", request("dave")),
      carol: await unary(clients.policy, "CheckPermission", request("carol")),
    };
    expect(expected.dave).toMatchObject({ allowed: false, reason: "REASON_NOT_GRANTED" });
    expect(expected.carol).toMatchObject({ allowed: true, reason: "REASON_GRANTED" });

    const outcomes: Outcome[] = [];
    let stopIssuing = false;
    // Each caller loops until its call fails (the sidecar is gone) or the bound below hits.
    const caller = async (i: number) => {
      const user: User = i % 2 === 0 ? "dave" : "carol";
      while (!stopIssuing) {
        try {
          const response = await unary(clients.policy, "CheckPermission", request(user), {
            deadlineMs: DEADLINE_MS,
          });
          outcomes.push({ user, endedAt: performance.now(), response });
        } catch (err) {
          outcomes.push({ user, endedAt: performance.now(), error: err as grpc.ServiceError });
          return;
        }
      }
    };
    const callers = Array.from({ length: CONCURRENCY }, (_, i) => caller(i));

    // Let the load reach a steady state so the signal lands among calls.
    await new Promise((r) => setTimeout(r, 300));
    const answeredBeforeSignal = outcomes.length;
    const signalledAt = performance.now();
    const exited = sidecar.stop("SIGTERM");
    const bound = setTimeout(() => {
      stopIssuing = true;
    }, GRACE_MS + DEADLINE_MS);
    const [code] = await Promise.all([exited, Promise.all(callers)]);
    clearTimeout(bound);
    const exitMs = performance.now() - signalledAt;

    expect(answeredBeforeSignal).toBeGreaterThan(0);
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(GRACE_MS);
    // Every answer is the whole, right answer for its user.
    for (const o of outcomes) if (o.response) expect(o.response).toEqual(expected[o.user]);
    // Every caller ended on a refusal of a call the sidecar never accepted; no CANCELLED or
    // INTERNAL (a reset stream), no DEADLINE_EXCEEDED (a hang).
    expect(codesOf(outcomes)).toEqual({ UNAVAILABLE: CONCURRENCY });
    expect(sidecar.output()).not.toMatch(/"level":(50|60)/);
  });

  it("calls parked inside the sidecar at SIGTERM are answered, with the write they waited for", async () => {
    const before = await unary(clients.policy, "CheckPermission", request("dave"));
    expect(before).toMatchObject({ allowed: false, reason: "REASON_NOT_GRANTED" });
    const revision = Number(before.revision);

    // Each call asks for a revision the store has not reached: the sidecar accepts it and holds
    // it until the sync applies that revision (or the deadline passes).
    const outcomes: Outcome[] = [];
    const parked = Array.from({ length: CONCURRENCY }, async (_, i) => {
      const user: User = i % 2 === 0 ? "dave" : "carol";
      try {
        const response = await unary(clients.policy, "CheckPermission", request(user, revision + 1), {
          deadlineMs: DEADLINE_MS,
        });
        outcomes.push({ user, endedAt: performance.now(), response });
      } catch (err) {
        outcomes.push({ user, endedAt: performance.now(), error: err as grpc.ServiceError });
      }
    });
    await new Promise((r) => setTimeout(r, 300)); // the calls reach the server and park
    expect(outcomes).toEqual([]);

    const signalledAt = performance.now();
    const exited = sidecar.stop("SIGTERM");
    // While the sidecar drains, an admin grants dave the permission (a separate process, as in
    // production). The sidecar must keep syncing during its grace period to answer.
    await new Promise((r) => setTimeout(r, 100));
    expect(
      await cli([
        "admin",
        "grant",
        "demo",
        "custom-agent",
        "cxengage/CONTACTS_UPDATE",
        "--db",
        sidecar.dbPath,
      ]),
    ).toBe(0);
    const [code] = await Promise.all([exited, Promise.all(parked)]);
    const exitMs = performance.now() - signalledAt;

    expect(outcomes).toHaveLength(CONCURRENCY);
    // One connection carries at most 100 streams (maxConcurrentStreams): the server accepted
    // those and must answer every one; the rest waited in the client for a free stream, were
    // never accepted, and are refused UNAVAILABLE once the listener is gone.
    const answered = outcomes.filter((o) => o.response);
    expect(answered.length).toBeGreaterThanOrEqual(100);
    expect(codesOf(outcomes)).toEqual(
      answered.length === CONCURRENCY ? {} : { UNAVAILABLE: CONCURRENCY - answered.length },
    );
    for (const o of answered) {
      expect(o.endedAt).toBeGreaterThan(signalledAt);
      expect(o.response).toMatchObject({ allowed: true, reason: "REASON_GRANTED" });
      expect(Number(o.response!.revision)).toBeGreaterThan(revision);
    }
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(GRACE_MS);
  });
});
