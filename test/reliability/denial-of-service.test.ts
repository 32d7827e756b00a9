/**
 * Denial of service (issue 8, item 6) against the real sidecar process: oversized messages,
 * 100,000-item batches and compression bombs are refused with proper errors and bounded memory
 * (the child's RSS read from /proc); a thousand idle TCP connections to each listener plus
 * slowloris clients do not keep other callers from being answered within the latency budget,
 * and the HTTP listener's headersTimeout closes the slow sockets.
 *
 * Short variant (inside `npm test`): 10 oversized batches per kind, 1,000 idle sockets per
 * listener, 50 slowloris sockets, about 30 s. Long variant:
 * `ROLECALL_LONG=1 npx vitest run test/reliability/denial-of-service.test.ts` (100 batches per
 * kind, 5,000 idle sockets per listener, 500 slowloris sockets).
 */
import { connect, type Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CheckPermissionRequestSchema,
  CheckPermissionsRequestSchema,
} from "../../gen/rolecall/v1/policy_pb.js";
import { grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";
import { memoryOf, openFds, rawConnectUnary, rawGrpcUnary } from "./helpers.js";
import { LONG, quantile, waitFor } from "./support.js";

const MiB = 1024 * 1024;
const BATCH_REPEATS = LONG ? 100 : 10;
const IDLE_SOCKETS = LONG ? 5_000 : 1_000;
const SLOW_SOCKETS = LONG ? 500 : 50;
/**
 * Latency budget for a normal check while under attack (issue 8: "within the latency budget"):
 * p99 under 50 ms, or under 3x the p99 measured just before the attack when the shared machine
 * is busier than that (vitest runs suites in parallel on 2 cores); a listener the attack starves
 * answers in hundreds of ms or not at all, which fails either way.
 */
const P99_BUDGET_MS = 50;
const P99_BASELINE_FACTOR = 3;
/**
 * Growth of the sidecar's resident memory the oversized-input runs may cause: one decoded
 * 100,000-item batch is ~15 MB of objects, and V8 keeps some of its grown heap; measured +33 to
 * +65 MiB over a ~115 MiB baseline on this machine. Unbounded growth would be 10x that.
 */
const RSS_GROWTH_BOUND_MIB = 128;
/** The HTTP listener's headersTimeout (http-server.ts), plus the 1 s sweep and slack. */
const SLOWLORIS_CLOSE_BOUND_MS = 10_000 + 3_500;

const CHECK = "/rolecall.v1.PolicyService/CheckPermission";
const BATCH = "/rolecall.v1.PolicyService/CheckPermissions";

describe("denial of service", () => {
  let sidecar: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;
  let pid: number;
  let httpPort: number;
  let grpcPort: number;

  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    clients = grpcClients(sidecar.grpcAddress);
    pid = sidecar.child.pid!;
    httpPort = Number(new URL(sidecar.httpUrl).port);
    grpcPort = Number(sidecar.grpcAddress.split(":").pop());
    // Warm up both listeners so the baseline memory includes what a serving sidecar holds anyway.
    for (let i = 0; i < 200; i++) await checkGrpc();
  });
  afterAll(async () => {
    clients?.close();
    await sidecar?.stop();
  });

  const checkGrpc = () =>
    unary<{ allowed: boolean }>(clients.policy, "CheckPermission", {
      tenant_id: "demo",
      user_id: "carol",
      permission: "cxengage/CONTACTS_READ",
    });

  const checkBytes = (userId: string) =>
    toBinary(
      CheckPermissionRequestSchema,
      create(CheckPermissionRequestSchema, {
        tenantId: "demo",
        userId,
        permission: "cxengage/CONTACTS_READ",
      }),
    );

  it("refuses a message over 1 MiB with RESOURCE_EXHAUSTED on gRPC, and answers one just under it", async () => {
    const over = await rawGrpcUnary(clients.policy, CHECK, checkBytes("u".repeat(MiB + 1024)));
    expect(over.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    // The limit, not the size of the user id, is what refused it.
    const under = await rawGrpcUnary(clients.policy, CHECK, checkBytes("u".repeat(MiB - 1024)));
    expect(under.err).toBeNull();
  });

  it("refuses a body over 1 MiB on Connect with resource_exhausted, JSON and binary, and a gzip bomb too", async () => {
    const token = sidecar.adminToken;
    const json = JSON.stringify({
      tenantId: "demo",
      userId: "u".repeat(MiB + 1024),
      permission: "cxengage/CONTACTS_READ",
    });
    const viaJson = await rawConnectUnary(sidecar.httpUrl, CHECK, json, { token });
    expect(viaJson.status).toBe(429);
    expect(JSON.parse(viaJson.body.toString())).toMatchObject({ code: "resource_exhausted" });
    const viaBinary = await rawConnectUnary(sidecar.httpUrl, CHECK, checkBytes("u".repeat(MiB + 1024)), {
      token,
      contentType: "application/proto",
    });
    expect(JSON.parse(viaBinary.body.toString())).toMatchObject({ code: "resource_exhausted" });
    // 64 MiB of zeros compress to about 64 KiB: the limit must apply to the inflated size.
    const before = memoryOf(pid);
    const bomb = gzipSync(Buffer.alloc(64 * MiB));
    const viaBomb = await rawConnectUnary(sidecar.httpUrl, CHECK, bomb, {
      token,
      contentType: "application/proto",
      headers: { "content-encoding": "gzip" },
    });
    expect(JSON.parse(viaBomb.body.toString())).toMatchObject({ code: "resource_exhausted" });
    expect(memoryOf(pid).rssMiB - before.rssMiB).toBeLessThan(RSS_GROWTH_BOUND_MIB);
  });

  it(`refuses 100,000-item CheckPermissions batches (${BATCH_REPEATS}x each way) with bounded memory`, {
    timeout: LONG ? 600_000 : 30_000,
  }, async () => {
    // Short keys keep 100,000 items under the 1 MiB limit (~700 KB), so the batch limit itself is
    // what must refuse them; real keys make 2.6 MB, refused by the size limit.
    const shortItems = toBinary(
      CheckPermissionsRequestSchema,
      create(CheckPermissionsRequestSchema, {
        tenantId: "demo",
        userId: "carol",
        items: Array.from({ length: 100_000 }, () => ({ permission: "a/b" })),
      }),
    );
    const realItems = toBinary(
      CheckPermissionsRequestSchema,
      create(CheckPermissionsRequestSchema, {
        tenantId: "demo",
        userId: "carol",
        items: Array.from({ length: 100_000 }, () => ({ permission: "cxengage/CONTACTS_READ" })),
      }),
    );
    expect(shortItems.byteLength).toBeLessThan(MiB);
    expect(realItems.byteLength).toBeGreaterThan(MiB);
    const emptyJsonItems = JSON.stringify({
      tenantId: "demo",
      userId: "carol",
      items: Array.from({ length: 100_000 }, () => ({})),
    });
    expect(emptyJsonItems.length).toBeLessThan(MiB);

    const before = memoryOf(pid);
    const started = performance.now();
    for (let i = 0; i < BATCH_REPEATS; i++) {
      const small = await rawGrpcUnary(clients.policy, BATCH, shortItems);
      expect(small.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(small.err?.details).toContain("at most 1000");
      const big = await rawGrpcUnary(clients.policy, BATCH, realItems);
      expect(big.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      const viaConnect = await rawConnectUnary(sidecar.httpUrl, BATCH, emptyJsonItems, {
        token: sidecar.adminToken,
      });
      expect(JSON.parse(viaConnect.body.toString())).toMatchObject({
        code: "resource_exhausted",
        message: expect.stringContaining("at most 1000"),
      });
    }
    const seconds = (performance.now() - started) / 1000;
    const after = memoryOf(pid);
    console.log(
      `batches: ${BATCH_REPEATS * 3} refused 100,000-item batches in ${seconds.toFixed(1)} s; ` +
        `RSS ${before.rssMiB.toFixed(0)} → ${after.rssMiB.toFixed(0)} MiB, peak ${after.peakMiB.toFixed(0)} MiB`,
    );
    expect(after.rssMiB - before.rssMiB).toBeLessThan(RSS_GROWTH_BOUND_MIB);
    expect((await checkGrpc()).allowed).toBe(true);
  });

  it(`answers callers within budget while ${IDLE_SOCKETS} idle sockets per listener and ${SLOW_SOCKETS} slowloris clients hang on, and closes the slow ones`, {
    timeout: LONG ? 300_000 : 40_000,
  }, async () => {
    const baseline = await measureLatency(3_000);
    const fdsBefore = openFds(pid);
    const memBefore = memoryOf(pid);
    const idleHttp = await openSockets(httpPort, IDLE_SOCKETS);
    const idleGrpc = await openSockets(grpcPort, IDLE_SOCKETS);
    const slow = await openSockets(SLOW_SOCKETS > 0 ? httpPort : 0, SLOW_SOCKETS);
    const openedAt = Date.now();
    // Slowloris: a request line, then one more header line a second, never the blank line.
    for (const s of slow) {
      s.write(`POST /rolecall.v1.CatalogService/ListSystems HTTP/1.1\r\nHost: 127.0.0.1:${httpPort}\r\n`);
    }
    const drip = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write(`x-slow-${Date.now()}: 1\r\n`);
    }, 1_000);
    try {
      expect(
        await waitFor(() => openFds(pid) >= fdsBefore + 2 * IDLE_SOCKETS, 10_000),
        "sidecar accepted the sockets",
      ).toBe(true);
      const fdsUnderAttack = openFds(pid);
      const under = await measureLatency(5_000);
      const memUnderAttack = memoryOf(pid);
      console.log(
        `idle/slow: baseline p50 ${baseline.p50.toFixed(2)} ms p99 ${baseline.p99.toFixed(2)} ms; ` +
          `under attack (${fdsUnderAttack - fdsBefore} extra fds) ${under.count} checks, p50 ${under.p50.toFixed(2)} ms ` +
          `p99 ${under.p99.toFixed(2)} ms; RSS ${memBefore.rssMiB.toFixed(0)} → ${memUnderAttack.rssMiB.toFixed(0)} MiB`,
      );
      expect(under.p99).toBeLessThan(Math.max(P99_BUDGET_MS, P99_BASELINE_FACTOR * baseline.p99));
      expect(under.failures).toBe(0);

      // headersTimeout closes the slowloris sockets, and the idle HTTP ones, which never sent a
      // request line either.
      const closed = await waitFor(
        () => slow.every((s) => s.destroyed) && idleHttp.every((s) => s.destroyed),
        SLOWLORIS_CLOSE_BOUND_MS - (Date.now() - openedAt),
      );
      const closedAfter = Date.now() - openedAt;
      console.log(
        `slowloris: ${slow.filter((s) => s.destroyed).length}/${slow.length} slow and ` +
          `${idleHttp.filter((s) => s.destroyed).length}/${idleHttp.length} idle HTTP sockets closed by the sidecar ` +
          `after ${closedAfter} ms; ${idleGrpc.filter((s) => !s.destroyed).length}/${idleGrpc.length} idle gRPC sockets still open`,
      );
      expect(closed, "the HTTP listener did not close slow sockets within headersTimeout").toBe(true);
      expect((await checkGrpc()).allowed).toBe(true);
    } finally {
      clearInterval(drip);
      for (const s of [...idleHttp, ...idleGrpc, ...slow]) s.destroy();
    }
    // Sockets released: the sidecar's descriptors come back down.
    expect(await waitFor(() => openFds(pid) <= fdsBefore + 10, 10_000)).toBe(true);
  });

  /** Serial checks on both listeners for `ms`: a gRPC caller and a Connect caller side by side. */
  async function measureLatency(ms: number) {
    const samples: number[] = [];
    let failures = 0;
    const until = Date.now() + ms;
    const body = JSON.stringify({ tenantId: "demo", userId: "carol", permission: "cxengage/CONTACTS_READ" });
    const grpcLoop = async () => {
      while (Date.now() < until) {
        const t = performance.now();
        const res = await checkGrpc().catch(() => undefined);
        samples.push(performance.now() - t);
        if (res?.allowed !== true) failures++;
      }
    };
    const connectLoop = async () => {
      while (Date.now() < until) {
        const t = performance.now();
        const res = await rawConnectUnary(sidecar.httpUrl, CHECK, body, { token: sidecar.adminToken }).catch(
          () => undefined,
        );
        samples.push(performance.now() - t);
        if (res?.status !== 200) failures++;
      }
    };
    await Promise.all([grpcLoop(), connectLoop()]);
    return { count: samples.length, failures, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
  }
});

/** Opens `n` TCP connections to a loopback port and leaves them idle (no bytes sent). */
async function openSockets(port: number, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  // In waves of 100: a burst of thousands of SYNs would overflow the listen backlog.
  for (let i = 0; i < n; i += 100) {
    const wave = Array.from(
      { length: Math.min(100, n - i) },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect(port, "127.0.0.1", () => resolve(s));
          s.on("error", reject);
          s.on("data", () => {}); // SETTINGS frames, a 408: read and ignore
        }),
    );
    sockets.push(...(await Promise.all(wave)));
  }
  for (const s of sockets) {
    s.removeAllListeners("error");
    s.on("error", () => {});
  }
  return sockets;
}
