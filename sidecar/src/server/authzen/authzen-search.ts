/**
 * The three AuthZEN searches, answered for what rolecall knows: its users (subject search: who may
 * take this action on this resource) and its permissions (action search: what may this user do
 * to this resource). Every result, fed back into an evaluation, decides `true`, as the spec asks.
 * Rolecall keeps no inventory of the PEP's resources (they arrive as properties with each
 * request), so resource search validates the request and answers an empty page.
 */
import type { CheckRequest } from "../../policy/decision.js";
import { decodePageToken, encodePageToken } from "../page-token.js";
import { resolveAction, tenantActions } from "./action-resolver.js";
import type { AuthzenCall } from "./authzen-call.js";
import { AuthzenError } from "./authzen-error.js";
import {
  type PageRequest,
  parseActionSearch,
  parsePage,
  parseResourceSearch,
  parseSubjectSearch,
  type Resource,
} from "./authzen-request.js";

/** Most results one search page may ask for (`page.limit`). */
export const MAX_PAGE_LIMIT = 1000;

/** A search answer of the spec's shape. */
export interface SearchAnswer<T> {
  readonly results: readonly T[];
  readonly page: { readonly next_token: string };
}

function afterToken(token: string): string | undefined {
  if (token === "") return undefined;
  const last = decodePageToken(token);
  if (last === undefined) {
    throw new AuthzenError(400, "page.next_token is not one this sidecar issued; send it back as given");
  }
  return last;
}

function scopeOf(resource: Resource): Pick<CheckRequest, "resource"> {
  if (resource.ownerId === undefined && resource.participants.length === 0) return {};
  return { resource: { ownerUserId: resource.ownerId ?? "", participantUserIds: resource.participants } };
}

/** Pages over sorted `candidates` after the token, keeping those `keep` accepts. */
function pageOf<T>(
  page: PageRequest,
  candidates: (after: string | undefined, limit: number) => readonly string[],
  keep: (id: string) => boolean,
  result: (id: string) => T,
): SearchAnswer<T> {
  let after = afterToken(page.token);
  const out: string[] = [];
  // Ask for one more than the page holds: it tells whether another page exists.
  for (;;) {
    const batch = candidates(after, page.limit + 1);
    for (const id of batch) {
      if (out.length === page.limit)
        return { results: out.map(result), page: { next_token: encodePageToken(out.at(-1)!) } };
      if (keep(id)) out.push(id);
    }
    if (batch.length <= page.limit) return { results: out.map(result), page: { next_token: "" } };
    after = batch.at(-1);
  }
}

/** `POST /access/v1/search/subject`: the tenant's users allowed the action on the resource. */
export function searchSubjects(
  call: AuthzenCall,
  body: Record<string, unknown>,
): SearchAnswer<{ type: "user"; id: string }> {
  const req = parseSubjectSearch(body);
  const page = parsePage(body, MAX_PAGE_LIMIT);
  const { engine, tenantId } = call;
  const permission = resolveAction(engine.currentSnapshot(), tenantId, req.action.name);
  // Who holds a permission is tenant-wide data: the read-decisions right, or a service token.
  call.auth.authorizeTenantRead(call.ctx, call.principal, tenantId);
  const scope = scopeOf(req.resource);
  return pageOf(
    page,
    // lookupUsers ignores the resource: its users are candidates, each then decided on it.
    (after, limit) =>
      engine.lookupUsers(tenantId, permission, { ...(after !== undefined ? { after } : {}), limit }),
    (userId) =>
      scope.resource === undefined || engine.check(tenantId, userId, { permission, ...scope }).allowed,
    (id) => ({ type: "user", id }),
  );
}

/** `POST /access/v1/search/action`: the permissions the user may use on the resource. */
export function searchActions(
  call: AuthzenCall,
  body: Record<string, unknown>,
): SearchAnswer<{ name: string }> {
  const req = parseActionSearch(body);
  const page = parsePage(body, MAX_PAGE_LIMIT);
  const { engine, tenantId } = call;
  const keys = tenantActions(engine.currentSnapshot(), tenantId).keys;
  call.auth.authorizeRead(call.ctx, call.principal, tenantId, req.subject.id);
  const scope = scopeOf(req.resource);
  const userId = req.subject.id;
  return pageOf(
    page,
    (after, limit) => {
      let i = 0;
      if (after !== undefined) while (i < keys.length && keys[i]! <= after) i++;
      return keys.slice(i, i + limit);
    },
    (permission) => engine.check(tenantId, userId, { permission, ...scope }).allowed,
    (name) => ({ name }),
  );
}

/** `POST /access/v1/search/resource`: validated and authorized like the others; always empty. */
export function searchResources(call: AuthzenCall, body: Record<string, unknown>): SearchAnswer<never> {
  const req = parseResourceSearch(body);
  parsePage(body, MAX_PAGE_LIMIT);
  resolveAction(call.engine.currentSnapshot(), call.tenantId, req.action.name);
  call.auth.authorizeRead(call.ctx, call.principal, call.tenantId, req.subject.id);
  return { results: [], page: { next_token: "" } };
}
