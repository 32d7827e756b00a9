/**
 * OpenTelemetry tracing: spans for every unary RPC (a check, a batch, an admin call), for each
 * admin write and each sync apply, exported over OTLP/HTTP (JSON) and configured by the standard
 * `OTEL_*` variables. Off unless an endpoint is given (`--otel URL`, `OTEL_EXPORTER_OTLP_ENDPOINT`
 * or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), and then only.
 *
 * Off costs nothing: nothing of OpenTelemetry is even loaded (every package is imported
 * dynamically by `startTracing`), and the wrappers hand back the very handler they were given, so
 * the check hot path runs no extra code and allocates nothing. They decide when services are
 * bound, so tracing starts before the sidecar does (cli/serve.ts).
 *
 * A caller's W3C `traceparent` (gRPC metadata or HTTP header) makes the RPC's span a child of the
 * caller's span, so a check shows up inside the trace of the request that asked for it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type * as Api from "@opentelemetry/api";
import type { Logger } from "./logger.js";
import { packageRoot } from "./package-root.js";
import type { Listener, RpcContext, UnaryHandler } from "./server/rpc.js";
import type { StoreRead } from "./sync/store-reader.js";

/** What a started tracer needs at every span: the API module and the tracer, both loaded lazily. */
interface ActiveTracing {
  readonly api: typeof Api;
  readonly tracer: Api.Tracer;
}

let active: ActiveTracing | undefined;

/** A started tracing pipeline: flush and stop it when the sidecar stops. */
export interface TracingHandle {
  /** Where spans are sent. */
  readonly url: string;
  shutdown(): Promise<void>;
}

/** The traces URL to export to, or undefined when tracing stays off. */
export function tracesUrl(endpoint: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none") return undefined;
  // The signal-specific variable is used as is; the general endpoint is a base (spec: append v1/traces).
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  if (endpoint === undefined || endpoint.trim() === "") return undefined;
  return `${endpoint.trim().replace(/\/+$/, "")}/v1/traces`;
}

/**
 * Loads the SDK and registers it (W3C trace-context propagation, async context) when `tracesUrl`
 * gives a URL; otherwise does nothing and returns undefined. `endpoint` is the `--otel` option,
 * which also reads `OTEL_EXPORTER_OTLP_ENDPOINT`.
 */
export async function startTracing(
  endpoint: string | undefined,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<TracingHandle | undefined> {
  const url = tracesUrl(endpoint, env);
  if (url === undefined) return undefined;
  try {
    return await startSdk(url, env, logger);
  } catch (err) {
    // Tracing is a window on the sidecar, not part of its job: serve without it.
    logger.error({ err, url }, "tracing: the OpenTelemetry SDK did not start; serving without tracing");
    return undefined;
  }
}

async function startSdk(url: string, env: NodeJS.ProcessEnv, logger: Logger): Promise<TracingHandle> {
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol !== undefined && protocol !== "http/json")
    logger.warn({ protocol }, "OTLP protocol not supported: spans are sent as http/json");
  const [api, sdk, otlp, resources, semconv] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/semantic-conventions"),
  ]);
  const { version } = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
    version: string;
  };
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the defaults (merge: later wins).
  const resource = resources
    .defaultResource()
    .merge(
      resources.resourceFromAttributes({
        [semconv.ATTR_SERVICE_NAME]: "rolecall",
        [semconv.ATTR_SERVICE_VERSION]: version,
      }),
    )
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  // Headers, timeout, compression and batching come from their OTEL_* variables.
  const exporter = new otlp.OTLPTraceExporter({ url });
  const provider = new sdk.NodeTracerProvider({
    resource,
    spanProcessors: [new sdk.BatchSpanProcessor(exporter)],
  });
  provider.register();
  active = { api, tracer: api.trace.getTracer("rolecall", version) };
  logger.info({ url }, "tracing: exporting spans over OTLP/HTTP");
  return {
    url,
    async shutdown() {
      active = undefined;
      await provider.shutdown();
    },
  };
}

/** Whether spans are being recorded (tests and the bench report it). */
export function tracingOn(): boolean {
  return active !== undefined;
}

/** Reads the W3C trace headers a call context carries. */
const TRACE_HEADERS: Api.TextMapGetter<RpcContext> = {
  keys: () => ["traceparent", "tracestate"],
  get: (ctx, key) =>
    key === "traceparent" ? ctx.traceparent : key === "tracestate" ? ctx.tracestate : undefined,
};

/** Span attributes a request tells about itself: the tenant, user and permission asked about. */
function requestAttributes(span: Api.Span, request: unknown): void {
  const r = request as { tenantId?: unknown; userId?: unknown; permission?: unknown; items?: unknown };
  if (typeof r.tenantId === "string" && r.tenantId !== "")
    span.setAttribute("rolecall.tenant_id", r.tenantId);
  if (typeof r.userId === "string" && r.userId !== "") span.setAttribute("rolecall.user_id", r.userId);
  if (typeof r.permission === "string" && r.permission !== "")
    span.setAttribute("rolecall.permission", r.permission);
  if (Array.isArray(r.items)) span.setAttribute("rolecall.batch.items", r.items.length);
}

/** Ends a span with what the answer decided, when it is a decision (AuthZEN's too) or a batch of them. */
function endAnswered(span: Api.Span, answer: unknown): void {
  const a = answer as { allowed?: unknown; decision?: unknown; results?: unknown };
  if (typeof a?.allowed === "boolean") span.setAttribute("rolecall.allowed", a.allowed);
  if (typeof a?.decision === "boolean") span.setAttribute("rolecall.allowed", a.decision);
  if (Array.isArray(a?.results))
    span.setAttribute(
      "rolecall.batch.allowed",
      a.results.filter((r: { allowed?: unknown }) => r?.allowed === true).length,
    );
  span.end();
}

function endFailed(api: typeof Api, span: Api.Span, err: unknown): void {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "number") span.setAttribute("rpc.grpc.status_code", code);
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({
    code: api.SpanStatusCode.ERROR,
    message: err instanceof Error ? err.message : String(err),
  });
  span.end();
}

/**
 * Wraps a unary handler in a SERVER span continuing the caller's trace; with tracing off, returns
 * `handler` itself. `method` is `package.Service/Method`; `system` names the protocol when it is
 * neither gRPC nor Connect (AuthZEN's plain HTTP).
 */
export function traceUnary<I, O>(
  method: string,
  listener: Listener,
  handler: UnaryHandler<I, O>,
  system: string = listener === "grpc" ? "grpc" : "connect_rpc",
): UnaryHandler<I, O> {
  const tracing = active;
  if (tracing === undefined) return handler;
  const { api, tracer } = tracing;
  const slash = method.indexOf("/");
  const attributes: Api.Attributes = {
    "rpc.system": system,
    "rpc.service": method.slice(0, slash),
    "rpc.method": method.slice(slash + 1),
  };
  return (request, ctx) => {
    const parent = api.propagation.extract(api.ROOT_CONTEXT, ctx, TRACE_HEADERS);
    const span = tracer.startSpan(method, { kind: api.SpanKind.SERVER, attributes }, parent);
    requestAttributes(span, request);
    let answer: O | Promise<O>;
    try {
      answer = api.context.with(api.trace.setSpan(parent, span), handler, undefined, request, ctx);
    } catch (err) {
      endFailed(api, span, err);
      throw err;
    }
    if (!(answer instanceof Promise)) {
      endAnswered(span, answer);
      return answer;
    }
    return answer.then(
      (value) => {
        endAnswered(span, value);
        return value;
      },
      (err: unknown) => {
        endFailed(api, span, err);
        throw err;
      },
    );
  };
}

/** Runs `body` in an INTERNAL span (a child of the current one, e.g. the admin RPC's); just runs it when off. */
export function traceAsync<T>(name: string, attributes: Api.Attributes, body: () => Promise<T>): Promise<T> {
  const tracing = active;
  if (tracing === undefined) return body();
  const { api, tracer } = tracing;
  return tracer.startActiveSpan(name, { attributes }, (span) =>
    body().then(
      (value) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        endFailed(api, span, err);
        throw err;
      },
    ),
  );
}

/** The synchronous `traceAsync`: a span around `body`, or just `body` when off. */
export function traceSync<T>(name: string, attributes: Api.Attributes, body: () => T): T {
  const tracing = active;
  if (tracing === undefined) return body();
  const { api, tracer } = tracing;
  return tracer.startActiveSpan(name, { attributes }, (span) => {
    try {
      const value = body();
      span.end();
      return value;
    } catch (err) {
      endFailed(api, span, err);
      throw err;
    }
  });
}

/** What a sync apply span tells: the revision read, whether everything was, and how many tenants. */
export function syncAttributes(read: StoreRead): Api.Attributes {
  return read.source === undefined
    ? { "rolecall.sync.full": read.full }
    : {
        "rolecall.sync.full": read.full,
        "rolecall.revision": read.source.revision,
        "rolecall.sync.tenants": read.source.tenants.length,
      };
}
