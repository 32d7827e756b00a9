/**
 * What a running sidecar tells its operators: Prometheus metrics and logs. Its parts call these
 * hooks when something happens (a reload, a failed poll, a call answered or refused, a
 * decision), so the wiring in sidecar.ts stays wiring.
 */
import type { Logger } from "./logger.js";
import type { PolicyEngine } from "./policy/policy-engine.js";
import type { AuthenticatorOptions } from "./server/auth.js";
import { DecisionLog } from "./server/decision-log.js";
import { isCallerError } from "./server/errors.js";
import type { DoneHook, ErrorHook } from "./server/grpc-adapter.js";
import type { HttpListenerOptions, PlainRoute } from "./server/http-server.js";
import { createMetrics, type Metrics, metricsRoute } from "./server/metrics.js";
import type { PolicyServiceDeps } from "./server/policy-service.js";
import type { SyncWatcherOptions } from "./sync/sync-watcher.js";

/** Options of `createObservability`. */
export interface ObservabilityOptions {
  /** Fraction of decisions written to the decision log; 0 disables it. */
  readonly decisionLogSampleRate: number;
}

/** The metrics of one sidecar and the hooks that feed them and its logs. */
export interface Observability {
  /** The sidecar's own metrics registry and instruments. */
  readonly metrics: Metrics;
  /** The sync watcher's `onReload`: reload time, served revision, a debug line. */
  readonly onReload: NonNullable<SyncWatcherOptions["onReload"]>;
  /** The sync watcher's `onFailure`: counted always, logged on the first and every 100th in a row. */
  readonly onSyncFailure: NonNullable<SyncWatcherOptions["onFailure"]>;
  /** Both listeners' `onError`: counted by method and code; a caller's mistake logs at debug. */
  readonly onError: ErrorHook;
  /** Both listeners' `onDone`: the latency histogram, one child per method and listener. */
  readonly onDone: DoneHook;
  /** PolicyService's `onDecision`: counted by reason, sampled into the decision log. */
  readonly onDecision: NonNullable<PolicyServiceDeps["onDecision"]>;
  /** The authenticator's `onRefused`: one audit line per refused call. */
  readonly onRefusedCall: NonNullable<AuthenticatorOptions["onRefused"]>;
  /** The HTTP listener's `onRefused`: the same audit line for requests refused before any RPC. */
  readonly onRefusedRequest: NonNullable<HttpListenerOptions["onRefused"]>;
  /** `GET /metrics`, refreshing the cache and sync gauges before each scrape. */
  route(engine: Pick<PolicyEngine, "cacheStats">, sync: { readonly ageMs: number }): PlainRoute;
}

/** Creates the metrics and log hooks of one sidecar. */
export function createObservability(logger: Logger, options: ObservabilityOptions): Observability {
  const metrics = createMetrics();

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

  return {
    metrics,
    onReload: (e) => {
      metrics.reloadDuration.observe(e.durationMs / 1000);
      metrics.snapshotRevision.set(e.revision);
      logger.debug(
        { revision: e.revision, tenants: e.tenantIds, full: e.full, ms: e.durationMs },
        "policy reloaded",
      );
    },
    onSyncFailure: (err, consecutive) => {
      metrics.syncFailures.inc();
      // Log the first failure of a run and then every 100th, not every 20 ms poll.
      if (consecutive === 1 || consecutive % 100 === 0) {
        logger.warn(
          { err: (err as Error).message, consecutive },
          "store poll failed; serving the last good snapshot",
        );
      }
    },
    onError: (method, err, cause, requestId) => {
      metrics.rpcErrors.inc({ method, code: String(err.code) });
      if (isCallerError(err))
        logger.debug({ requestId, method, code: err.code, msg: err.message }, "call refused");
      else logger.error({ requestId, method, err: cause }, "call failed");
    },
    // One histogram child per method and listener, resolved when the service is mounted.
    onDone: (method, listener) => {
      const child = metrics.rpcDuration.labels({ method, listener });
      return (seconds) => child.observe(seconds);
    },
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
    onRefusedCall: (ctx, code, message) =>
      logger.info(
        { requestId: ctx.requestId, method: ctx.method, listener: ctx.listener, code, message },
        "refused",
      ),
    onRefusedRequest: (r) =>
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
    route: (engine, sync) =>
      metricsRoute(metrics, () => {
        const stats = engine.cacheStats();
        metrics.cacheHits.set(stats.hits);
        metrics.cacheMisses.set(stats.misses);
        metrics.syncAge.set(sync.ageMs / 1000);
      }),
  };
}
