/**
 * Composes a running sidecar: catalog, store, engine, sync watcher, gRPC and HTTP listeners,
 * health and metrics. `rolecall serve` and the integration tests start it the same way.
 */
import { existsSync } from "node:fs";
import { HealthImplementation } from "grpc-health-check";
import type { Catalog } from "../../catalog/catalog.js";
import { loadCatalog } from "../../catalog/loader.js";
import { administersAnySystem } from "./admin/authorize.js";
import { createCurrentHolds } from "./admin/current-holds.js";
import { DEMO_TENANT_ID, seedDemo } from "./admin/demo-seed.js";
import { createPolicyAdmin } from "./admin/policy-admin.js";
import { type AppRegistration, AppRegistry } from "./apps/app-registry.js";
import { loadBootstrapToken } from "./bootstrap-token.js";
import type { SidecarOptions } from "./config.js";
import { createDemoRoute, demoAppRegistration } from "./demo/index.js";
import type { Logger } from "./logger.js";
import { createPolicyEngine, type PolicyEngine } from "./policy/policy-engine.js";
import { adminService } from "./server/admin-service.js";
import { createAuthenticator } from "./server/auth.js";
import { catalogService } from "./server/catalog-service.js";
import { DecisionLog } from "./server/decision-log.js";
import { isCallerError } from "./server/errors.js";
import type { DoneHook, ErrorHook } from "./server/grpc-adapter.js";
import { type GrpcListener, startGrpcListener } from "./server/grpc-server.js";
import { type HttpListener, type PlainRoute, startHttpListener } from "./server/http-server.js";
import { createMetrics, metricsRoute } from "./server/metrics.js";
import { policyService } from "./server/policy-service.js";
import { importCatalog } from "./store/catalog-import.js";
import type { Db } from "./store/database.js";
import { openStore } from "./store/open-store.js";
import { readRevision } from "./store/revision.js";
import { sqliteStore } from "./store/sqlite-policy-store.js";
import { hashToken } from "./store/tokens.js";
import { RevisionFeed } from "./sync/revision-feed.js";
import { RevisionGate } from "./sync/revision-gate.js";
import { SyncWatcher } from "./sync/sync-watcher.js";

/** Service names reported by grpc.health.v1 ("" is the whole server). */
export const HEALTH_SERVICES = [
  "",
  "rolecall.v1.PolicyService",
  "rolecall.v1.CatalogService",
  "rolecall.v1.AdminService",
];

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

function healthRoute(isServing: () => boolean): PlainRoute {
  return (req, res, url) => {
    if (url.pathname !== "/healthz" || req.method !== "GET") return false;
    const serving = isServing();
    res.writeHead(serving ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: serving ? "SERVING" : "NOT_SERVING" }));
    return true;
  };
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

/** `http://127.0.0.1:8080` → the same URL under localhost and [::1] too; other hosts unchanged. */
function loopbackAliases(url: string): string[] {
  const parsed = new URL(url);
  const loopback = ["127.0.0.1", "localhost", "[::1]"];
  if (!loopback.includes(parsed.hostname)) return [url];
  return loopback.map((host) => `${parsed.protocol}//${host}:${parsed.port}`);
}

/**
 * Whether a user may read others' decisions in their tenant: the admin rule (authorize.ts),
 * decided on the serving snapshot, which answers those reads too.
 */
function roleAdministratorCheck(engine: PolicyEngine, catalog: Catalog) {
  return (tenantId: string, userId: string): boolean => {
    const tenant = engine.snapshot?.tenants.get(tenantId);
    if (!tenant) return false;
    return administersAnySystem(
      catalog,
      (key) => engine.check(tenantId, userId, { permission: key }).allowed,
      tenant.systems,
    );
  };
}

/** Opens the store, brings its catalog up to date and, for a new file, builds the demo tenant. */
async function prepareStore(options: SidecarOptions, catalog: Catalog, engine: PolicyEngine, logger: Logger) {
  const created = !existsSync(options.db);
  // A short busy timeout: admin writes run on the event loop that answers checks.
  const db: Db = openStore(options.db, { busyTimeoutMs: 1_000 });
  try {
    const imported = importCatalog(db, catalog);
    if (imported.changed) logger.info({ revision: imported.revision }, "catalog imported into the store");
    const store = sqliteStore(db);
    const admin = createPolicyAdmin(store, catalog, {
      holds: createCurrentHolds(store, catalog, () => engine.snapshot),
    });
    if (created && options.demo) {
      const demo = await seedDemo(admin, catalog);
      logger.info({ revision: demo.revision, skipped: demo.skipped }, "demo tenant created");
    }
    return { db, admin, created };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Starts a sidecar with the given options. Throws (and leaves nothing running) when it cannot serve. */
export async function startSidecar(options: SidecarOptions, logger: Logger): Promise<Sidecar> {
  // A broken catalog refuses the start: never serve a partial one.
  const catalog = loadCatalog(options.catalogDir);
  const metrics = createMetrics();
  const engine = createPolicyEngine({ maxCachedUsers: options.maxCachedUsers });
  const { db, admin, created } = await prepareStore(options, catalog, engine, logger);
  const bootstrap = loadBootstrapToken(options.db, options.adminToken);

  const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, "NOT_SERVING"])));
  let serving = false;
  const setServing = (value: boolean) => {
    serving = value;
    for (const s of HEALTH_SERVICES) health.setStatus(s, value ? "SERVING" : "NOT_SERVING");
  };

  const gate = new RevisionGate({ maxWaitMs: options.maxTimeoutMs });
  const feed = new RevisionFeed();
  let everHealthy = false;
  const watcher = new SyncWatcher({
    dbPath: options.db,
    catalog,
    engine,
    gate,
    feed,
    pollIntervalMs: options.pollIntervalMs,
    maxStalenessMs: options.maxStalenessMs,
    worker: true,
    onReload: (e) => {
      metrics.reloadDuration.observe(e.durationMs / 1000);
      metrics.snapshotRevision.set(e.revision);
      logger.debug(
        { revision: e.revision, tenants: e.tenantIds, full: e.full, ms: e.durationMs },
        "policy reloaded",
      );
    },
    onFailure: (err, consecutive) => {
      metrics.syncFailures.inc();
      // Log the first failure of a run and then every 100th, not every 20 ms poll.
      if (consecutive === 1 || consecutive % 100 === 0) {
        logger.warn(
          { err: (err as Error).message, consecutive },
          "store poll failed; serving the last good snapshot",
        );
      }
    },
    onHealth: (healthy) => {
      const firstSnapshot = healthy && !everHealthy;
      everHealthy ||= healthy;
      setServing(healthy);
      // The first snapshot is the normal start, not news worth a warning.
      if (!firstSnapshot)
        logger.warn({ healthy }, healthy ? "sync healthy again" : "sync stale: failing closed");
    },
  });
  try {
    await watcher.start();
  } catch (err) {
    db.close();
    throw err;
  }

  const onError: ErrorHook = (method, err, cause, requestId) => {
    metrics.rpcErrors.inc({ method, code: String(err.code) });
    if (isCallerError(err))
      logger.debug({ requestId, method, code: err.code, msg: err.message }, "call refused");
    else logger.error({ requestId, method, err: cause }, "call failed");
  };
  // One histogram child per method and listener, resolved when the service is mounted.
  const onDone: DoneHook = (method, listener) => {
    const child = metrics.rpcDuration.labels({ method, listener });
    return (seconds) => child.observe(seconds);
  };
  const auth = createAuthenticator({
    bootstrapToken: bootstrap.token,
    tokens: { principalOf: (token) => watcher.directory.tokens.get(hashToken(token)) },
    grpcRequireToken: options.grpcRequireToken,
    isRoleAdministrator: roleAdministratorCheck(engine, catalog),
    onRefused: (ctx, code, message) =>
      logger.info(
        { requestId: ctx.requestId, method: ctx.method, listener: ctx.listener, code, message },
        "refused",
      ),
  });

  // The demo app's registration needs the HTTP URL, known only once the listener is bound.
  let demoRegistrations: AppRegistration[] = [];
  let apps: { source: unknown; registry: AppRegistry } | undefined;
  const appRegistry = () => {
    const source = watcher.directory.apps;
    if (apps?.source !== source) {
      apps = { source, registry: new AppRegistry(source, demoRegistrations) };
    }
    return apps.registry;
  };

  // One counter child per reason, resolved once: a 1,000-item batch counts 1,000 decisions.
  const checkCounters = new Map<string, { inc(): void }>();
  const checksBy = (reason: string) => {
    let counter = checkCounters.get(reason);
    if (!counter) {
      counter = metrics.checks.labels({ reason });
      checkCounters.set(reason, counter);
    }
    return counter;
  };
  const decisionLogger = logger.child({ component: "decision-log" });
  const decisionLog = new DecisionLog({
    sampleRate: options.decisionLogSampleRate,
    write: (batch) => {
      for (const entry of batch) decisionLogger.info(entry, "decision");
    },
    onDrop: () => metrics.decisionLogDropped.inc(),
  });

  const bindings = [
    policyService({
      catalog,
      engine,
      gate: readGate(gate, logger),
      feed,
      auth,
      apps: appRegistry,
      failClosedReason: () => watcher.failClosedReason(),
      maxBatchItems: options.maxBatchItems,
      onDecision: (tenantId, userId, permission, d) => {
        checksBy(d.reason).inc();
        if (decisionLog.enabled) {
          decisionLog.record({
            tenantId,
            userId,
            permission,
            allowed: d.allowed,
            reason: d.reason,
            revision: d.revision,
          });
        }
      },
    }),
    catalogService(catalog),
    adminService({ admin, auth, storeRevision: () => readRevision(db) }),
  ];
  // The demo pages need no token, so they render the demo tenant only, and only when it is on.
  const demoRoute = createDemoRoute({
    catalog,
    decide: (tenantId, userId, surfaceIds) => {
      if (tenantId !== DEMO_TENANT_ID) return undefined;
      try {
        const decisions = engine.resolveSurfaces(tenantId, userId, surfaceIds);
        if (decisions.some((d) => d.reason === "USER_UNKNOWN")) return undefined;
        return new Map(decisions.map((d) => [d.surface, d.allowed]));
      } catch {
        return undefined;
      }
    },
  });

  let grpc: GrpcListener | undefined;
  let http: HttpListener | undefined;
  try {
    grpc = await startGrpcListener({
      address: options.grpcAddress,
      bindings,
      health,
      maxMessageBytes: options.maxMessageBytes,
      maxConcurrentStreams: options.maxConcurrentStreams,
      maxConnectionIdleMs: options.maxConnectionIdleMs,
      tls: options.tls,
      onError,
      onDone,
    });
    http = await startHttpListener({
      address: options.httpAddress,
      bindings,
      routes: [
        healthRoute(() => serving),
        metricsRoute(metrics, () => {
          const stats = engine.cacheStats();
          metrics.cacheHits.set(stats.hits);
          metrics.cacheMisses.set(stats.misses);
          metrics.syncAge.set(watcher.ageMs / 1000);
        }),
        ...(options.demo ? [demoRoute] : []),
      ],
      extensionOrigins: options.extensionOrigins,
      maxMessageBytes: options.maxMessageBytes,
      maxTimeoutMs: options.maxTimeoutMs,
      onError,
      onDone,
      // The same audit record as a refused RPC, for requests refused before any RPC.
      onRefused: (r) =>
        logger.info(
          {
            path: r.path,
            listener: "http",
            status: r.status,
            host: r.host,
            origin: r.origin,
            message: r.message,
          },
          "refused",
        ),
    });
  } catch (err) {
    await grpc?.close(0);
    watcher.stop();
    db.close();
    throw err;
  }
  // The demo answers under every loopback name a browser may use for it.
  demoRegistrations = options.demo
    ? loopbackAliases(http.url).map((url) => ({ ...demoAppRegistration(catalog, url), selectors: [] }))
    : [];
  setServing(engine.snapshot !== undefined);
  const listeners = { grpc, http };

  return {
    grpcAddress: listeners.grpc.address,
    httpUrl: listeners.http.url,
    adminTokenFile: bootstrap.createdAt,
    createdDatabase: created,
    async close() {
      setServing(false);
      await Promise.all([
        listeners.grpc.close(options.shutdownGraceMs),
        listeners.http.close(options.shutdownGraceMs),
      ]);
      watcher.stop();
      db.close();
    },
  };
}
