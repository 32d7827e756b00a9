/** Prometheus metrics, served as text at `GET /metrics` on the HTTP listener. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { PlainRoute } from "./http-server.js";

/** The sidecar's metrics, in their own registry so tests can run several sidecars in one process. */
export function createMetrics() {
  const registry = new Registry();
  // The event-loop lag histogram samples on a libuv timer: prom-client's default 10 ms woke an
  // idle sidecar 100 times a second (~1% of a core, and CPU charged to every check at a few
  // hundred calls/s). Sampled every 100 ms, a stall still shows in full in the lag's max and
  // percentiles; only stalls shorter than 100 ms may be missed between samples.
  collectDefaultMetrics({ register: registry, prefix: "rolecall_", eventLoopMonitoringPrecision: 100 });
  return {
    registry,
    checks: new Counter({
      name: "rolecall_checks_total",
      help: "Permission decisions, by reason.",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    rpcDuration: new Histogram({
      name: "rolecall_rpc_duration_seconds",
      help: "Time to answer an RPC, by method and listener.",
      labelNames: ["method", "listener"] as const,
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    rpcErrors: new Counter({
      name: "rolecall_rpc_errors_total",
      help: "RPCs answered with an error, by method and code.",
      labelNames: ["method", "code"] as const,
      registers: [registry],
    }),
    cacheHits: new Gauge({
      name: "rolecall_cache_hits",
      help: "Effective-set cache hits since start.",
      registers: [registry],
    }),
    cacheMisses: new Gauge({
      name: "rolecall_cache_misses",
      help: "Effective-set cache misses since start.",
      registers: [registry],
    }),
    snapshotRevision: new Gauge({
      name: "rolecall_snapshot_revision",
      help: "Revision of the policy snapshot being served.",
      registers: [registry],
    }),
    syncAge: new Gauge({
      name: "rolecall_sync_age_seconds",
      help: "Seconds since the last successful poll of the store.",
      registers: [registry],
    }),
    syncFailures: new Counter({
      name: "rolecall_sync_failures_total",
      help: "Polls or reloads of the store that failed.",
      registers: [registry],
    }),
    reloadDuration: new Histogram({
      name: "rolecall_reload_duration_seconds",
      help: "Time to read and compile a new revision.",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    decisionLogDropped: new Counter({
      name: "rolecall_decision_log_dropped_total",
      help: "Decision log entries dropped because the buffer was full.",
      registers: [registry],
    }),
  };
}

/** The sidecar's metrics. */
export type Metrics = ReturnType<typeof createMetrics>;

/** `GET /metrics`: the registry in Prometheus text format. */
export function metricsRoute(metrics: Metrics, beforeScrape: () => void): PlainRoute {
  return async (req, res, url) => {
    if (url.pathname !== "/metrics" || req.method !== "GET") return false;
    beforeScrape();
    res.writeHead(200, { "content-type": metrics.registry.contentType });
    res.end(await metrics.registry.metrics());
    return true;
  };
}
