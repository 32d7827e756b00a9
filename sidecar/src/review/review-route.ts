/**
 * `GET /v1/tenants/{tenant}/review?format=csv|json&system=S&min_revision=N` on the HTTP listener:
 * the access review as a download, for the extension's "Export CSV". Authenticated like the
 * Connect calls (bearer token) and allowed only to principals that may read every user's
 * decisions in the tenant (its owners, holders of the 'read-decisions' right, the bootstrap
 * token). Errors answer JSON `{code, message}` like the browser guard's refusals.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { PolicyEngine } from "../policy/policy-engine.js";
import { prepareReview, type Review } from "../policy/review-rows.js";
import type { Authenticator } from "../server/auth.js";
import { toRpcError } from "../server/errors.js";
import type { PlainRoute } from "../server/http-server.js";
import { type RpcContext, RpcError, requestIdFrom } from "../server/rpc.js";
import type { RevisionGate } from "../sync/revision-gate.js";
import {
  isReviewFormat,
  REVIEW_FORMATS,
  type ReviewFormat,
  reviewFileName,
  reviewMediaType,
  writeReview,
} from "./review-stream.js";

/** What the route needs from the running sidecar. */
export interface ReviewRouteDeps {
  readonly engine: Pick<PolicyEngine, "currentSnapshot">;
  readonly auth: Authenticator;
  /** Waited on for `min_revision`, like PolicyService's reads. */
  readonly gate: Pick<RevisionGate, "revision" | "reach">;
  /** Why reads must fail closed now (sync too stale), or undefined. */
  readonly failClosedReason: () => string | undefined;
}

const PATH = /^\/v1\/tenants\/([^/]+)\/review$/;

const STATUS: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.FailedPrecondition]: 412,
  [Code.DeadlineExceeded]: 504,
  [Code.Unavailable]: 503,
};

function answerError(res: ServerResponse, err: unknown): void {
  const rpc = toRpcError(err);
  if (res.headersSent) {
    // Rows are already on their way: cut the body short so the download visibly fails.
    res.destroy();
    return;
  }
  res.writeHead(STATUS[rpc.code] ?? 500, { "content-type": "application/json" });
  res.end(JSON.stringify({ code: codeToString(rpc.code), message: rpc.message }));
}

/** The request's query, checked: format, system, min_revision. */
function queryOf(url: URL): { format: ReviewFormat; system: string | undefined; minRevision: number } {
  const format = url.searchParams.get("format") ?? "csv";
  if (!isReviewFormat(format)) {
    throw new RpcError(
      Code.InvalidArgument,
      `format must be one of ${REVIEW_FORMATS.join(", ")}, not '${format}'`,
    );
  }
  const system = url.searchParams.get("system") || undefined;
  const min = url.searchParams.get("min_revision") ?? "0";
  if (!/^\d{1,15}$/.test(min)) {
    throw new RpcError(Code.InvalidArgument, `min_revision must be a revision number, not '${min}'`);
  }
  return { format, system, minRevision: Number(min) };
}

/** Creates the route. */
export function reviewRoute(deps: ReviewRouteDeps): PlainRoute {
  return async (req, res, url) => {
    const match = PATH.exec(url.pathname);
    if (!match) return false;
    if (req.method !== "GET") {
      res.writeHead(405, { allow: "GET", "content-type": "application/json" });
      res.end(JSON.stringify({ code: "invalid_argument", message: "the review is read with GET" }));
      return true;
    }
    const aborted = new AbortController();
    res.once("close", () => aborted.abort());
    try {
      const review = await admit(deps, req, url, decodeURIComponent(match[1]!), aborted.signal);
      await send(res, review.review, review.format, aborted.signal);
    } catch (err) {
      if (!aborted.signal.aborted) answerError(res, err);
    }
    return true;
  };
}

/** Everything before the first byte: authenticate, authorize, wait for the revision, prepare. */
async function admit(
  deps: ReviewRouteDeps,
  req: IncomingMessage,
  url: URL,
  tenantId: string,
  signal: AbortSignal,
): Promise<{ review: Review; format: ReviewFormat }> {
  const header = req.headers["x-request-id"];
  const ctx: RpcContext = {
    signal,
    deadline: undefined,
    authorization: req.headers.authorization,
    listener: "http",
    method: "GET /v1/tenants/{tenant}/review",
    requestId: requestIdFrom(typeof header === "string" ? header : undefined),
  };
  // A policy read: a token always (this is the HTTP listener), then the tenant-wide read right.
  const principal = deps.auth.principal(ctx, "policy");
  deps.auth.authorizeTenantRead(
    ctx,
    principal,
    tenantId,
    `the access review of tenant '${tenantId}' (every user's permissions)`,
  );
  const query = queryOf(url);
  const stale = deps.failClosedReason();
  if (stale !== undefined) throw new RpcError(Code.Unavailable, stale);
  if (query.minRevision > deps.gate.revision) await deps.gate.reach(query.minRevision, undefined, signal);
  const review = prepareReview(deps.engine.currentSnapshot(), { tenantId, system: query.system });
  return { review, format: query.format };
}

async function send(res: ServerResponse, review: Review, format: ReviewFormat, signal: AbortSignal) {
  const headers: Record<string, string> = {
    "content-type": reviewMediaType(format),
    "content-disposition": `attachment; filename="${reviewFileName(review, format)}"`,
    "cache-control": "no-store",
    "x-rolecall-revision": String(review.revision),
  };
  // The extension reads the file name and revision from a cross-origin answer.
  if (res.hasHeader("access-control-allow-origin")) {
    headers["access-control-expose-headers"] =
      `${String(res.getHeader("access-control-expose-headers") ?? "")}, content-disposition, x-rolecall-revision`.replace(
        /^, /,
        "",
      );
  }
  res.writeHead(200, headers);
  await writeReview(review, format, res, { signal });
}
