/**
 * Whether the sidecar serves: one flag behind grpc.health.v1 on the gRPC listener and
 * `GET /healthz` on the HTTP listener, following the sync watcher.
 */
import type { Logger } from "./logger.js";
import { GrpcHealth } from "./server/grpc-health.js";
import type { PlainRoute } from "./server/http-server.js";

/** Service names reported by grpc.health.v1 ("" is the whole server). */
export const HEALTH_SERVICES = [
  "",
  "rolecall.v1.PolicyService",
  "rolecall.v1.CatalogService",
  "rolecall.v1.AdminService",
];

/** The sidecar's health as both listeners report it. Starts NOT_SERVING. */
export interface SidecarHealth {
  /** The grpc.health.v1 service, for the gRPC listener. */
  readonly service: GrpcHealth;
  /** `GET /healthz`, for the HTTP listener: 200 SERVING or 503 NOT_SERVING. */
  readonly route: PlainRoute;
  /** Reports every service SERVING or NOT_SERVING. */
  setServing(serving: boolean): void;
  /** The sync watcher's `onHealth`: follows it, warning on every change but the first snapshot. */
  onSyncHealth(healthy: boolean): void;
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

/** Creates the health of one sidecar, NOT_SERVING until told otherwise. */
export function createHealth(logger: Logger): SidecarHealth {
  const service = new GrpcHealth(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, "NOT_SERVING"])));
  let serving = false;
  const setServing = (value: boolean) => {
    serving = value;
    for (const s of HEALTH_SERVICES) service.setStatus(s, value ? "SERVING" : "NOT_SERVING");
  };
  let everHealthy = false;
  return {
    service,
    route: healthRoute(() => serving),
    setServing,
    onSyncHealth: (healthy) => {
      const firstSnapshot = healthy && !everHealthy;
      everHealthy ||= healthy;
      setServing(healthy);
      // The first snapshot is the normal start, not news worth a warning.
      if (!firstSnapshot)
        logger.warn({ healthy }, healthy ? "sync healthy again" : "sync stale: failing closed");
    },
  };
}
