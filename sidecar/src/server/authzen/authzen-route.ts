/**
 * The AuthZEN 1.0 Authorization API on the HTTP listener, as one plain route: the endpoints under
 * `/access/v1/` (the token's tenant) and `/tenants/{tenant}/access/v1/`, and the public metadata
 * document. Same bearer tokens and refusals as the Connect endpoints (auth.ts), same body limit
 * and batch limit, same metrics hooks; errors are HTTP statuses with a message, never decisions.
 * The spec: https://github.com/openid/authzen/blob/main/api/authorization-api-1_0.md
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Code } from "@connectrpc/connect";
import type { Principal } from "../../admin/principal.js";
import type { PolicyEngine } from "../../policy/policy-engine.js";
import { traceUnary } from "../../tracing.js";
import type { Authenticator } from "../auth.js";
import type { DoneHook, ErrorHook } from "../grpc-adapter.js";
import type { PlainRoute } from "../http-server.js";
import type { PolicyServiceDeps } from "../policy-service.js";
import { type RpcContext, requestIdFrom } from "../rpc.js";
import type { AuthzenCall } from "./authzen-call.js";
import { AuthzenError, toAuthzenError } from "./authzen-error.js";
import { evaluate, evaluateMany } from "./authzen-evaluate.js";
import { metadataDocument } from "./authzen-metadata.js";
import { parseBody } from "./authzen-request.js";
import { searchActions, searchResources, searchSubjects } from "./authzen-search.js";

/** What the AuthZEN endpoints need from the running sidecar. */
export interface AuthzenDeps {
  readonly engine: PolicyEngine;
  readonly auth: Authenticator;
  /** Why decisions must fail closed now (sync too stale), or undefined when they may be answered. */
  readonly failClosedReason: () => string | undefined;
  /** Most evaluations in one request (the CheckPermissions batch limit). */
  readonly maxBatchItems: number;
  /** Largest request body accepted. */
  readonly maxMessageBytes: number;
  readonly onDecision?: PolicyServiceDeps["onDecision"];
  readonly onError?: ErrorHook;
  readonly onDone?: DoneHook;
}

type Handler = (call: AuthzenCall, body: Record<string, unknown>, deps: AuthzenDeps) => unknown;

/** One AuthZEN request as its (traced) answer sees it. */
interface AccessRequest {
  readonly req: IncomingMessage;
  /** The tenant segment of the path, undecoded, when the path names one. */
  readonly rawTenant: string | undefined;
  /** Called once the body has arrived: the latency histogram starts there. */
  readonly markAnswerStart: () => void;
}

/** Each endpoint (the path after `access/v1/`) and its handler. */
const ENDPOINTS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ["evaluation", (call, body) => evaluate(call, body)],
  ["evaluations", (call, body, deps) => evaluateMany(call, body, deps.maxBatchItems)],
  ["search/subject", (call, body) => searchSubjects(call, body)],
  ["search/action", (call, body) => searchActions(call, body)],
  ["search/resource", (call, body) => searchResources(call, body)],
]);

/** AuthZEN answers never wait (no min_revision), so nothing listens to a call's signal. */
const NEVER_ABORTED = new AbortController().signal;

const METADATA_PATH = "/.well-known/authzen-configuration";
const ACCESS = /^(?:\/tenants\/([^/]+))?\/access\/v1\/(.+)$/;
const METADATA = /^\/\.well-known\/authzen-configuration(?:\/tenants\/([^/]+))?\/?$/;

/** A path segment as a tenant id; a 400 for one that does not decode. */
function tenantSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AuthzenError(400, `tenant '${raw}' in the path is not valid percent-encoding`);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const [type, text] =
    typeof body === "string"
      ? ["text/plain; charset=utf-8", `${body}\n`]
      : ["application/json", JSON.stringify(body)];
  // With its length known the answer goes out in one write, not as chunks.
  res.writeHead(status, {
    "content-type": type,
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** The body as text, refusing (413) more than `max` bytes without reading them all. */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  const tooBig = () =>
    new AuthzenError(413, `the request body is over ${max} bytes; send fewer evaluations per request`);
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > max) return Promise.reject(tooBig());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        reject(tooBig());
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function headerText(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

function isJson(req: IncomingMessage): boolean {
  const type = (req.headers["content-type"] ?? "").split(";", 1)[0]!.trim().toLowerCase();
  return type === "application/json";
}

/** The tenant a call is about: the path's, else the token's; refuses another tenant's path. */
function tenantOf(principal: Principal, fromPath: string | undefined, refuse: (m: string) => never): string {
  if (principal.kind === "bootstrap") {
    if (fromPath !== undefined) return fromPath;
    throw new AuthzenError(
      400,
      "the bootstrap token belongs to no tenant: call /tenants/{tenant}/access/v1/… to name one",
    );
  }
  if (fromPath !== undefined && fromPath !== principal.tenantId) {
    return refuse(`a token of tenant '${principal.tenantId}' may not ask about tenant '${fromPath}'`);
  }
  return principal.tenantId;
}

/** The AuthZEN route for the HTTP listener (add it to HttpListenerOptions.routes). */
export function authzenRoute(deps: AuthzenDeps): PlainRoute {
  const observers = new Map<string, ((seconds: number) => void) | undefined>();
  const observerOf = (method: string) => {
    if (!observers.has(method)) observers.set(method, deps.onDone?.(method, "http"));
    return observers.get(method);
  };

  const metadata = (req: IncomingMessage, res: ServerResponse, tenant: string | undefined) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "the metadata document is read with GET", { allow: "GET, HEAD" });
      return;
    }
    const base = `http://${req.headers.host ?? "localhost"}`;
    const pdp = tenant === undefined ? base : `${base}/tenants/${encodeURIComponent(tenant)}`;
    send(res, 200, metadataDocument(pdp), { "cache-control": "public, max-age=300" });
  };

  /** Everything between the request and its answer: who asks, about which tenant, the decision. */
  const answer = async (
    endpoint: string,
    handler: Handler,
    { req, rawTenant, markAnswerStart }: AccessRequest,
    ctx: RpcContext,
  ): Promise<unknown> => {
    if (req.method !== "POST") throw new AuthzenError(405, `${endpoint} is called with POST`);
    const principal = deps.auth.principal(ctx, "policy");
    if (principal === undefined)
      throw new AuthzenError(401, "this call needs 'authorization: Bearer <token>'");
    const fromPath = rawTenant === undefined ? undefined : tenantSegment(rawTenant);
    const tenantId = tenantOf(principal, fromPath, (message) => {
      deps.auth.recordRefusal(ctx, Code.PermissionDenied, message);
      throw new AuthzenError(403, message);
    });
    const stale = deps.failClosedReason();
    if (stale !== undefined) throw new AuthzenError(503, stale);
    if (!isJson(req)) {
      throw new AuthzenError(415, "send the request as JSON: 'content-type: application/json'");
    }
    const text = await readBody(req, deps.maxMessageBytes);
    // As on the Connect endpoints, the histogram times the answer, not the body's arrival.
    markAnswerStart();
    const body = parseBody(text);
    const call: AuthzenCall = {
      ctx,
      auth: deps.auth,
      principal,
      tenantId,
      engine: deps.engine,
      onDecision: deps.onDecision,
    };
    return handler(call, body, deps);
  };
  // Each endpoint's answer in a SERVER span when tracing is on (the answer itself when off).
  const traced = new Map(
    [...ENDPOINTS].map(([endpoint, handler]) => [
      endpoint,
      traceUnary<AccessRequest, unknown>(
        `AuthZEN/${endpoint}`,
        "http",
        (request, ctx) => answer(endpoint, handler, request, ctx),
        "authzen",
      ),
    ]),
  );

  const access = async (
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: string,
    rawTenant: string | undefined,
  ) => {
    const method = `AuthZEN/${endpoint}`;
    const observe = observerOf(method);
    let started = observe ? performance.now() : 0;
    const header = req.headers["x-request-id"];
    const callerId = typeof header === "string" ? header : undefined;
    // The spec: the caller's X-Request-ID comes back unchanged; a made-up one otherwise.
    const requestId = requestIdFrom(callerId);
    const echo: Record<string, string> = { "x-request-id": callerId ?? requestId };
    const ctx: RpcContext = {
      signal: NEVER_ABORTED,
      deadline: undefined,
      authorization: req.headers.authorization,
      listener: "http",
      method,
      requestId,
      traceparent: headerText(req, "traceparent"),
      tracestate: headerText(req, "tracestate"),
    };
    const markAnswerStart = () => {
      if (observe) started = performance.now();
    };
    try {
      send(res, 200, await traced.get(endpoint)!({ req, rawTenant, markAnswerStart }, ctx), echo);
    } catch (err) {
      const { error, rpc } = toAuthzenError(err);
      deps.onError?.(method, rpc, err, requestId);
      const extra: Record<string, string> = { ...echo };
      if (error.status === 401) extra["www-authenticate"] = "Bearer";
      if (error.status === 405) extra.allow = "POST";
      // An unread body stays in the socket: close it rather than parse it as the next request.
      if (!req.complete) extra.connection = "close";
      send(res, error.status, error.message, extra);
    } finally {
      observe?.((performance.now() - started) / 1000);
    }
  };

  return async (req, res, url) => {
    const path = url.pathname;
    if (path.startsWith(METADATA_PATH)) {
      const m = METADATA.exec(path);
      if (!m) return false;
      try {
        metadata(req, res, m[1] === undefined ? undefined : tenantSegment(m[1]));
      } catch (err) {
        const { error } = toAuthzenError(err);
        send(res, error.status, error.message);
      }
      return true;
    }
    const m = ACCESS.exec(path);
    if (!m) return false;
    if (!ENDPOINTS.has(m[2]!)) {
      send(res, 404, `no AuthZEN endpoint '${m[2]}'; the endpoints are ${[...ENDPOINTS.keys()].join(", ")}`);
      return true;
    }
    await access(req, res, m[2]!, m[1]);
    return true;
  };
}
