/**
 * Composes a running sidecar: store, catalog, engine, sync watcher, gRPC and HTTP listeners,
 * health and metrics. `rolecall serve` and the integration tests start it the same way.
 */
import { HealthImplementation } from "grpc-health-check";
import { loadBootstrapToken } from "./bootstrap-token.js";
import type { SidecarOptions } from "./config.js";
import type { Logger } from "./logger.js";
import { isCallerError } from "./server/errors.js";
import type { ErrorHook } from "./server/grpc-adapter.js";
import { type GrpcListener, startGrpcListener } from "./server/grpc-server.js";
import { type HttpListener, type PlainRoute, startHttpListener } from "./server/http-server.js";
import { createMetrics, metricsRoute } from "./server/metrics.js";
import type { ServiceBinding } from "./server/rpc.js";

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

/** Starts a sidecar with the given options. */
export async function startSidecar(options: SidecarOptions, logger: Logger): Promise<Sidecar> {
  const metrics = createMetrics();
  const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, "NOT_SERVING"])));
  let serving = false;
  const setServing = (value: boolean) => {
    serving = value;
    for (const s of HEALTH_SERVICES) health.setStatus(s, value ? "SERVING" : "NOT_SERVING");
  };
  const bootstrap = loadBootstrapToken(options.db, options.adminToken);

  const onError: ErrorHook = (method, err, cause) => {
    metrics.rpcErrors.inc({ method, code: String(err.code) });
    if (isCallerError(err)) logger.debug({ method, code: err.code, msg: err.message }, "call refused");
    else logger.error({ method, err: cause }, "call failed");
  };
  const bindings: ServiceBinding[] = [];

  let grpc: GrpcListener | undefined;
  let http: HttpListener | undefined;
  try {
    grpc = await startGrpcListener({
      address: options.grpcAddress,
      bindings,
      health,
      maxMessageBytes: options.maxMessageBytes,
      maxConcurrentStreams: options.maxConcurrentStreams,
      tls: options.tls,
      onError,
    });
    http = await startHttpListener({
      address: options.httpAddress,
      bindings,
      routes: [healthRoute(() => serving), metricsRoute(metrics, () => {})],
      extensionOrigins: options.extensionOrigins,
      maxMessageBytes: options.maxMessageBytes,
      maxTimeoutMs: options.maxTimeoutMs,
      onError,
    });
  } catch (err) {
    await grpc?.close(0);
    throw err;
  }
  setServing(true);
  const listeners = { grpc, http };

  return {
    grpcAddress: listeners.grpc.address,
    httpUrl: listeners.http.url,
    adminTokenFile: bootstrap.createdAt,
    async close() {
      setServing(false);
      await Promise.all([
        listeners.grpc.close(options.shutdownGraceMs),
        listeners.http.close(options.shutdownGraceMs),
      ]);
    },
  };
}
