/**
 * `GET /v1/tenants/{tenant}/review?format=csv|json&system=S&min_revision=N` on the HTTP listener:
 * the access review as a download, for the extension's "Export CSV". Authenticated like the
 * Connect calls (bearer token) and allowed only to principals that may read every user's
 * decisions in the tenant (its owners, holders of the 'read-decisions' right, the bootstrap
 * token). Errors answer JSON `{code, message}` like the browser guard's refusals.
 *
 * `POST /v1/tenants/{tenant}/review/tickets?format=…&system=…` (same token, same right) answers
 * `{ticket, url, expiresAt, filename}`: a single-use, minute-long ticket (review-tickets.ts) for
 * which `GET …/review?…&ticket=T` needs no Authorization header, so the browser itself can
 * stream the export to disk (the extension holds none of it).
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
import { ReviewTickets } from "./review-tickets.js";

/** What the route needs from the running sidecar. */
export interface ReviewRouteDeps {
  readonly engine: Pick<PolicyEngine, "currentSnapshot">;
  readonly auth: Authenticator;
  /** Waited on for `min_revision`, like PolicyService's reads. */
  readonly gate: Pick<RevisionGate, "revision" | "reach">;
  /** Why reads must fail closed now (sync too stale), or undefined. */
  readonly failClosedReason: () => string | undefined;
  /** Download tickets issued and spent. Default: the route's own. */
  readonly tickets?: ReviewTickets;
}

const PATH = /^\/v1\/tenants\/([^/]+)\/review$/;
const TICKETS_PATH = /^\/v1\/tenants\/([^/]+)\/review\/tickets$/;

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

/** Answers 405 unless `req` uses `method`. */
function onlyMethod(req: IncomingMessage, res: ServerResponse, method: string, what: string): boolean {
  if (req.method === method) return true;
  res.writeHead(405, { allow: method, "content-type": "application/json" });
  res.end(JSON.stringify({ code: "invalid_argument", message: `${what} with ${method}` }));
  return false;
}

/** Creates the route. */
export function reviewRoute(deps: ReviewRouteDeps): PlainRoute {
  const tickets = deps.tickets ?? new ReviewTickets();
  return async (req, res, url) => {
    const ticketsMatch = TICKETS_PATH.exec(url.pathname);
    if (ticketsMatch) {
      if (!onlyMethod(req, res, "POST", "a download ticket is asked for")) return true;
      try {
        const issued = issueTicket(deps, tickets, req, url, decodeURIComponent(ticketsMatch[1]!));
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(JSON.stringify(issued));
      } catch (err) {
        answerError(res, err);
      }
      return true;
    }
    const match = PATH.exec(url.pathname);
    if (!match) return false;
    if (!onlyMethod(req, res, "GET", "the review is read")) return true;
    const aborted = new AbortController();
    res.once("close", () => aborted.abort());
    try {
      const tenantId = decodeURIComponent(match[1]!);
      const review = await admit(deps, tickets, req, url, tenantId, aborted.signal);
      await send(res, review.review, review.format, aborted.signal);
    } catch (err) {
      if (!aborted.signal.aborted) answerError(res, err);
    }
    return true;
  };
}

function contextOf(
  req: IncomingMessage,
  method: string,
  authorization: string | undefined,
  signal: AbortSignal,
): RpcContext {
  const header = req.headers["x-request-id"];
  return {
    signal,
    deadline: undefined,
    authorization,
    listener: "http",
    method,
    requestId: requestIdFrom(typeof header === "string" ? header : undefined),
  };
}

/** A policy read: a token always (this is the HTTP listener), then the tenant-wide read right. */
function authorizeReview(deps: ReviewRouteDeps, ctx: RpcContext, tenantId: string): void {
  const principal = deps.auth.principal(ctx, "policy");
  deps.auth.authorizeTenantRead(
    ctx,
    principal,
    tenantId,
    `the access review of tenant '${tenantId}' (every user's permissions)`,
  );
}

/** `POST …/review/tickets`: a download ticket for the export the query names, after the same checks. */
function issueTicket(
  deps: ReviewRouteDeps,
  tickets: ReviewTickets,
  req: IncomingMessage,
  url: URL,
  tenantId: string,
): { ticket: string; url: string; expiresAt: string; filename: string } {
  const authorization = req.headers.authorization;
  const ctx = contextOf(
    req,
    "POST /v1/tenants/{tenant}/review/tickets",
    authorization,
    new AbortController().signal,
  );
  authorizeReview(deps, ctx, tenantId);
  const { format, system } = queryOf(url);
  // An unknown tenant or system is refused now, not when the browser downloads.
  const review = prepareReview(deps.engine.currentSnapshot(), { tenantId, system });
  const { ticket, expiresAt } = tickets.issue({ tenantId, format, system }, authorization);
  const query = new URLSearchParams({ format, ...(system === undefined ? {} : { system }), ticket });
  return {
    ticket,
    url: `/v1/tenants/${encodeURIComponent(tenantId)}/review?${query}`,
    expiresAt: new Date(expiresAt).toISOString(),
    filename: reviewFileName(review, format),
  };
}

/** Everything before the first byte: authenticate, authorize, wait for the revision, prepare. */
async function admit(
  deps: ReviewRouteDeps,
  tickets: ReviewTickets,
  req: IncomingMessage,
  url: URL,
  tenantId: string,
  signal: AbortSignal,
): Promise<{ review: Review; format: ReviewFormat }> {
  const query = queryOf(url);
  // A ticket stands for the token that asked for it: that token and its right are checked again.
  const ticket = url.searchParams.get("ticket");
  if (ticket !== null && req.headers.authorization !== undefined) {
    throw new RpcError(Code.InvalidArgument, "send a download ticket or a token, not both");
  }
  const authorization =
    ticket === null
      ? req.headers.authorization
      : tickets.redeem(ticket, { tenantId, format: query.format, system: query.system });
  authorizeReview(deps, contextOf(req, "GET /v1/tenants/{tenant}/review", authorization, signal), tenantId);
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
