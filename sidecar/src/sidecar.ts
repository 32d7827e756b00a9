import { loadCatalog } from "../../catalog/loader.js";
import { mayActOnSnapshot } from "./admin/authorize.js";
import { DEMO_TENANT_ID } from "./admin/demo-seed.js";
import { simulateChanges } from "./admin/simulate.js";
import { loadBootstrapToken } from "./bootstrap-token.js";
import type { SidecarOptions } from "./config.js";
import { createSidecarDemo } from "./demo/index.js";
import { createHealth } from "./health.js";
import { PastSnapshots } from "./history/past-snapshots.js";
import { startHistoryPruner } from "./history/prune-history.js";
import type { Logger } from "./logger.js";
import { createObservability } from "./observability.js";
import { TenantNotReadyError } from "./policy/decision.js";
import { createPolicyEngine, type PolicyEngine } from "./policy/policy-engine.js";
import { prepareStore } from "./prepare-store.js";
import { reviewRoute } from "./review/review-route.js";
import { reapplyServeHeapFlags } from "./serve-heap.js";
import { adminService } from "./server/admin-service.js";
import { createAuthenticator } from "./server/auth.js";
import { authzenRoute } from "./server/authzen/authzen-route.js";
import { catalogService } from "./server/catalog-service.js";
import { type GrpcListener, startGrpcListener } from "./server/grpc-server.js";
import { type HttpListener, startHttpListener } from "./server/http-server.js";
import { policyService } from "./server/policy-service.js";
import { sqliteStore } from "./store/sqlite-policy-store.js";
import { hashToken } from "./store/tokens.js";
import { RevisionFeed } from "./sync/revision-feed.js";
import { RevisionGate } from "./sync/revision-gate.js";
import { SyncWatcher } from "./sync/sync-watcher.js";

export { HEALTH_SERVICES } from "./health.js";

/** A running sidecar. */
export interface Sidecar {
  readonly grpcAddress: string;
  readonly httpUrl: string;
  /** Path of a bootstrap token file created by this start, if any. */
  readonly adminTokenFile: string | undefined;
  /** Whether this start created the database (and the demo tenant). */
  readonly createdDatabase: boolean;
  /** Stops accepting, finishes in-flight calls within the grace period, closes the store. */
  close(): Promise<void>;
}

/**
 * TEST ONLY — never set in production. `ROLECALL_UNSAFE_IGNORE_MIN_REVISION=1` makes PolicyService
 * ignore `min_revision` (it answers at once from whatever snapshot it holds), breaking the
 * read-your-writes guarantee on purpose so test/reliability/freshness.test.ts can show that its
 * staleness assertion catches a sidecar without it.
 */
export const UNSAFE_IGNORE_MIN_REVISION_ENV = "ROLECALL_UNSAFE_IGNORE_MIN_REVISION";

/** The gate PolicyService waits on: the sync's own, or (test-only switch) one that never waits. */
function readGate(gate: RevisionGate, logger: Logger): RevisionGate {
  if (process.env[UNSAFE_IGNORE_MIN_REVISION_ENV] !== "1") return gate;
  logger.warn(
    `${UNSAFE_IGNORE_MIN_REVISION_ENV}=1: min_revision is IGNORED (test-only switch; stale reads possible)`,
  );
  const open = new RevisionGate();
  open.advance(Number.MAX_SAFE_INTEGER); // every min_revision counts as already applied
  return open;
}

/**
 * With a primary, only this process's follower writes the copy, and it wakes the reader each
 * time: the file poll is then a safety net, and eight sidecars of a host polling every 20 ms
 * would only compete for the cores the copies and checks need.
 */
const COPY_POLL_FLOOR_MS = 250;

/**
 * A store up to this size is read on the main thread (SyncWatcher), where the reader's worker
 * thread would cost ~10 MB of resident memory: the demo's is under 1 MiB (a full read: ~4 ms),
 * and a full read of a 2.5 MB store of 4,000 users took 35 ms. A larger store is read in the
 * worker, so a full read of many thousands of users never stalls checks.
 */
const IN_THREAD_STORE_BYTES = 2 << 20;

/** Starts a sidecar with the given options. Throws (and leaves nothing running) when it cannot serve. */
export async function startSidecar(options: SidecarOptions, logger: Logger): Promise<Sidecar> {
  // A broken catalog refuses the start: never serve a partial one.
  const catalog = loadCatalog(options.catalogDir);
  const observability = createObservability(logger, options);
  const engine = createPolicyEngine({
    maxCachedUsers: options.maxCachedUsers,
    // A call waiting for a tenant still loading is held no longer than any other wait.
    maxTenantWaitMs: options.maxTimeoutMs,
  });
  const store = await prepareStore(options, catalog, engine, logger);
  const { admin, created } = store;
  const bootstrap = loadBootstrapToken(options.db, options.adminToken);
  const health = createHealth(logger);

  const gate = new RevisionGate({ maxWaitMs: options.maxTimeoutMs });
  const feed = new RevisionFeed();
  const watcher = new SyncWatcher({
    dbPath: options.db,
    catalog,
    engine,
    gate,
    feed,
    pollIntervalMs:
      options.primary === undefined
        ? options.pollIntervalMs
        : Math.max(options.pollIntervalMs, COPY_POLL_FLOOR_MS),
    maxStalenessMs: options.maxStalenessMs,
    ...(store.upstreamLastSuccess === undefined ? {} : { upstreamLastSuccess: store.upstreamLastSuccess }),
    worker: true,
    inThreadUpToBytes: IN_THREAD_STORE_BYTES,
    onMovedToWorker: (reason) => logger.info({ reason }, "reading the store in a worker thread from now on"),
    onWorkerStarted: reapplyServeHeapFlags,
    onReload: observability.onReload,
    onFailure: observability.onSyncFailure,
    onHealth: health.onSyncHealth,
  });
  try {
    await watcher.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  // The follower of a primary wakes the reader as soon as it has written the copy.
  store.whenCopied?.(() => watcher.pollSoon());

  const auth = createAuthenticator({
    bootstrapToken: bootstrap.token,
    tokens: { principalOf: (token) => watcher.directory.tokens.get(hashToken(token)) },
    grpcRequireToken: options.grpcRequireToken,
    isRoleAdministrator: decisionReaderCheck(engine, () => watcher.directory.owners),
    onRefused: observability.onRefusedCall,
  });
  const demo = createSidecarDemo({
    catalog,
    engine,
    tenantId: DEMO_TENANT_ID,
    enabled: options.demo,
    storeApps: () => watcher.directory.apps,
  });
  const bindings = [
    policyService({
      catalog,
      engine,
      gate: readGate(gate, logger),
      feed,
      auth,
      apps: demo.apps,
      failClosedReason: () => watcher.failClosedReason(),
      maxBatchItems: options.maxBatchItems,
      simulate: (actor, req) =>
        simulateChanges(admin.context, actor, req, { current: () => engine.snapshot }),
      // History is read where the sidecar reads: the file (through the admin's store, so their
      // transactions on the one connection queue behind each other), or its copy of the primary.
      history: new PastSnapshots({
        store: options.primary === undefined ? admin.context.store : sqliteStore(store.db),
        catalog,
        historyDays: options.historyDays,
        current: () => engine.snapshot,
      }),
      onDecision: observability.onDecision,
    }),
    catalogService(catalog, { engine, auth }),
    adminService({ admin, auth, storeRevision: store.revision }),
  ];

  let grpc: GrpcListener | undefined;
  let http: HttpListener | undefined;
  try {
    grpc = await startGrpcListener({
      address: options.grpcAddress,
      bindings,
      health: health.service,
      maxMessageBytes: options.maxMessageBytes,
      maxConcurrentStreams: options.maxConcurrentStreams,
      maxConnectionIdleMs: options.maxConnectionIdleMs,
      tls: options.tls,
      onError: observability.onError,
      onDone: observability.onDone,
    });
    http = await startHttpListener({
      address: options.httpAddress,
      bindings,
      routes: [
        health.route,
        observability.route(engine, watcher),
        reviewRoute({ engine, auth, gate, failClosedReason: () => watcher.failClosedReason() }),
        authzenRoute({
          engine,
          auth,
          failClosedReason: () => watcher.failClosedReason(),
          maxBatchItems: options.maxBatchItems,
          maxMessageBytes: options.maxMessageBytes,
          onDecision: observability.onDecision,
          onError: observability.onError,
          onDone: observability.onDone,
        }),
        ...demo.routes,
      ],
      extensionOrigins: options.extensionOrigins,
      maxMessageBytes: options.maxMessageBytes,
      maxTimeoutMs: options.maxTimeoutMs,
      onError: observability.onError,
      onDone: observability.onDone,
      onRefused: observability.onRefusedRequest,
    });
  } catch (err) {
    await grpc?.close(0);
    watcher.stop();
    await store.close();
    throw err;
  }
  demo.listening(http.url);
  // A copy already older than --max-staleness-ms (a start with the primary down) fails closed
  // from the start: health must say so too, or it would read SERVING until the sync next changed.
  health.setServing(engine.snapshot !== undefined && watcher.failClosedReason() === undefined);
  const pruner = startHistoryPruner(
    admin.context.store,
    { historyDays: options.historyDays, now: () => new Date() },
    logger,
  );
  const listeners = { grpc, http };

  return {
    grpcAddress: listeners.grpc.address,
    httpUrl: listeners.http.url,
    adminTokenFile: bootstrap.createdAt,
    createdDatabase: created,
    async close() {
      health.setServing(false);
      await Promise.all([
        listeners.grpc.close(options.shutdownGraceMs),
        listeners.http.close(options.shutdownGraceMs),
      ]);
      watcher.stop();
      await pruner.stop();
      await store.close();
    },
  };
}

/** The owner list passed for a user already known not to own the tenant. */
const NO_OWNERS: readonly string[] = Object.freeze([]);

/**
 * Whether a user may read others' decisions in their tenant: an owner of it, or a holder of a
 * permission giving `read-decisions` (admin/authorize.ts), decided on the serving snapshot, which
 * answers those reads too.
 */
function decisionReaderCheck(engine: PolicyEngine, owners: () => ReadonlyMap<string, ReadonlySet<string>>) {
  return (tenantId: string, userId: string): boolean => {
    // A tenant still loading after a start is never judged on missing data: UNAVAILABLE, retry.
    if (engine.tenantLoading(tenantId)) throw new TenantNotReadyError(tenantId);
    const tenant = engine.snapshot?.tenants.get(tenantId);
    if (!tenant) return false;
    // Owners first: no rights object to build for them. Others are decided without an owner list.
    if (owners().get(tenantId)?.has(userId) === true) return true;
    const rights = { id: tenantId, systems: tenant.systems, owners: NO_OWNERS };
    const holds = (key: string) => engine.check(tenantId, userId, { permission: key }).allowed;
    // The tenant's own catalog: a right may come from one of its own systems' adminRights.
    return mayActOnSnapshot(tenant.catalog.source, holds, rights, userId, "read-decisions");
  };
}
