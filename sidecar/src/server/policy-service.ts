/**
 * PolicyService: decisions from the in-memory snapshot. A check never touches SQLite; it waits
 * only when the caller asked for a revision the sidecar has not applied yet.
 */
import { Code } from "@connectrpc/connect";
import type { Catalog } from "../../../catalog/catalog.js";
import { formatRequirement } from "../../../catalog/requirement.js";
import {
  type CheckPermissionResponse,
  type CheckPermissionsResponse,
  PolicyService,
  type Resource,
} from "../../../gen/rolecall/v1/policy_pb.js";
import { type Principal, principalLabel } from "../admin/principal.js";
import type { ProposedChange, Simulation, SimulationRequest } from "../admin/simulate.js";
import type { AppRegistry } from "../apps/app-registry.js";
import type { PastAsk } from "../history/history-bounds.js";
import type { PastSnapshots } from "../history/past-snapshots.js";
import type { Side } from "../policy/compare-users.js";
import { catalogOfTenantIn } from "../policy/custom-catalog.js";
import type { CheckRequest, Decision } from "../policy/decision.js";
import type { PolicyEngine } from "../policy/policy-engine.js";
import { userProfile } from "../policy/user-profile.js";
import type { RevisionFeed } from "../sync/revision-feed.js";
import type { RevisionGate } from "../sync/revision-gate.js";
import type { Authenticator } from "./auth.js";
import { systemOf } from "./catalog-service.js";
import { encodeCheckPermissionResponse, encodeCheckPermissionsResponse } from "./decision-codec.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import { permissionSources } from "./permission-sources.js";
import {
  bindService,
  type RpcContext,
  RpcError,
  requireField,
  type ServiceBinding,
  withEncoder,
} from "./rpc.js";
import { toCheckResponse, toExplainResponse, toWireReason } from "./to-proto.js";

/** What PolicyService needs from the running sidecar. */
export interface PolicyServiceDeps {
  readonly catalog: Catalog;
  readonly engine: PolicyEngine;
  readonly gate: RevisionGate;
  readonly feed: RevisionFeed;
  readonly auth: Authenticator;
  /** The registered apps, current as of the last sync. */
  readonly apps: () => AppRegistry;
  /** Why checks must fail closed now (sync too stale), or undefined when they may be answered. */
  readonly failClosedReason: () => string | undefined;
  /** Most items in one CheckPermissions call. */
  readonly maxBatchItems: number;
  /** Runs proposed admin writes on a copy of the policy as `actor` would (SimulateChanges). */
  readonly simulate: (actor: Principal, req: SimulationRequest) => Promise<Simulation>;
  /** Engines on past revisions (at_revision, at_time) and the users' access changes. */
  readonly history: PastSnapshots;
  /** Sees each decision (metrics, the decision log); must be cheap. */
  readonly onDecision?: (tenantId: string, userId: string, permission: string, decision: Decision) => void;
}

function toCheckRequest(
  permission: string,
  targetUserId: string,
  resource: Resource | undefined,
): CheckRequest {
  return {
    permission,
    ...(targetUserId !== "" ? { targetUserId } : {}),
    ...(resource
      ? { resource: { ownerUserId: resource.ownerUserId, participantUserIds: resource.participantUserIds } }
      : {}),
  };
}

/**
 * A decision as a finished CheckPermissionResponse message, for the Connect listener (the gRPC
 * listener writes the attached encoder's bytes instead). A finished message passes protobuf-es
 * create() as is, where an init object would be copied field by field.
 */
function checkResponseMessage(d: Decision): CheckPermissionResponse {
  return { $typeName: "rolecall.v1.CheckPermissionResponse", ...toCheckResponse(d) };
}

// Answers for the shared decisions (one per reason and snapshot), built once each.
const answers = new WeakMap<Decision, CheckPermissionResponse>();

/** A single check's answer, with its wire bytes for the gRPC listener; reused for shared decisions. */
function checkAnswer(d: Decision): CheckPermissionResponse {
  let answer = answers.get(d);
  if (answer === undefined) {
    answer = withEncoder(checkResponseMessage(d), () => encodeCheckPermissionResponse(d));
    if (d.missing.length === 0) answers.set(d, answer);
  }
  return answer;
}

/** The past revision a read asks for, or `undefined` for the present. */
function pastAskOf(req: { readonly atRevision: bigint; readonly atTime: string }): PastAsk | undefined {
  if (req.atRevision === 0n && req.atTime === "") return undefined;
  return { atRevision: Number(req.atRevision), atTime: req.atTime };
}

/** Most access changes in one ListAccessChanges page, and the default. */
const ACCESS_CHANGES_PAGE = { max: 1_000, default: 50 } as const;

/** Binds PolicyService to the sidecar's engine and sync state. */
export function policyService(deps: PolicyServiceDeps): ServiceBinding {
  const { engine, auth } = deps;
  /** The catalog a tenant is decided on (its own systems included) as a snapshot (default: the serving one) has it. */
  const catalogOf = (tenantId: string, snapshot = engine.snapshot): Catalog => {
    return snapshot?.tenants.has(tenantId) === true ? catalogOfTenantIn(snapshot, tenantId) : deps.catalog;
  };

  /**
   * Everything a read does before deciding: authenticate, refuse when fail-closed, wait for
   * min_revision. Returns a promise only when it must wait, so the common path stays synchronous.
   */
  const admit = (ctx: RpcContext, minRevision: bigint, tenantId: string): Promise<void> | undefined => {
    const stale = deps.failClosedReason();
    if (stale !== undefined) throw new RpcError(Code.Unavailable, stale);
    const min = Number(minRevision);
    // Reading ctx.signal creates an AbortController and a cancel listener: only a wait needs one.
    if (min <= deps.gate.revision) return tenantLoaded(ctx, tenantId);
    return deps.gate.reach(min, ctx.deadline, ctx.signal)!.then(() => tenantLoaded(ctx, tenantId));
  };
  /** A tenant still loading after a start is waited for (up to the deadline), never decided partly loaded. */
  const tenantLoaded = (ctx: RpcContext, tenantId: string): Promise<void> | undefined =>
    engine.tenantLoading(tenantId) ? engine.tenantReady(tenantId, ctx.deadline, ctx.signal) : undefined;
  /** A mutual check answers whether the target holds the permission too: that is reading the target. */
  const authorizeTarget = (
    ctx: RpcContext,
    principal: Principal | undefined,
    tenantId: string,
    userId: string,
    targetUserId: string,
  ) => {
    if (targetUserId !== "" && targetUserId !== userId)
      auth.authorizeRead(ctx, principal, tenantId, targetUserId);
  };
  const then = <T>(wait: Promise<void> | undefined, answer: () => T): T | Promise<T> =>
    wait === undefined ? answer() : wait.then(answer);
  /**
   * Answers on the live engine, or — for an ask of a past revision — on an engine rebuilt at
   * that revision (the answer's revision is then that revision).
   */
  const decideAt = <T>(
    wait: Promise<void> | undefined,
    tenantId: string,
    ask: PastAsk | undefined,
    answer: (on: PolicyEngine, past: boolean) => T,
  ): T | Promise<T> => {
    if (ask === undefined) return then(wait, () => answer(engine, false));
    return (async () => {
      await wait;
      const past = await deps.history.engineAt(tenantId, ask);
      return answer(past!.engine, true);
    })();
  };

  return bindService(PolicyService, {
    checkPermission(req, ctx) {
      const principal = auth.principal(ctx, "policy");
      const tenantId = requireField(req.tenantId, "tenant_id");
      const userId = requireField(req.userId, "user_id");
      const permission = requireField(req.permission, "permission");
      auth.authorizeRead(ctx, principal, tenantId, userId);
      authorizeTarget(ctx, principal, tenantId, userId, req.targetUserId);
      return decideAt(admit(ctx, req.minRevision, tenantId), tenantId, pastAskOf(req), (on, past) => {
        const d = on.check(tenantId, userId, toCheckRequest(permission, req.targetUserId, req.resource));
        if (!past) deps.onDecision?.(tenantId, userId, permission, d);
        return checkAnswer(d);
      });
    },

    checkPermissions(req, ctx) {
      const principal = auth.principal(ctx, "policy");
      const tenantId = requireField(req.tenantId, "tenant_id");
      const userId = requireField(req.userId, "user_id");
      if (req.items.length > deps.maxBatchItems) {
        throw new RpcError(
          Code.ResourceExhausted,
          `items has ${req.items.length} entries; at most ${deps.maxBatchItems} per call — split the batch`,
        );
      }
      const requests = req.items.map((item, i) =>
        toCheckRequest(
          requireField(item.permission, `items[${i}].permission`),
          item.targetUserId,
          item.resource,
        ),
      );
      auth.authorizeRead(ctx, principal, tenantId, userId);
      for (const item of req.items) authorizeTarget(ctx, principal, tenantId, userId, item.targetUserId);
      return then(admit(ctx, req.minRevision, tenantId), () => {
        const decisions = engine.checkMany(tenantId, userId, requests);
        const observe = deps.onDecision;
        if (observe)
          for (const [i, d] of decisions.entries()) observe(tenantId, userId, requests[i]!.permission, d);
        const revision = decisions[0]?.revision ?? engine.snapshot?.revision ?? 0;
        const response: CheckPermissionsResponse = {
          $typeName: "rolecall.v1.CheckPermissionsResponse",
          results: decisions.map(checkResponseMessage),
          revision: BigInt(revision),
        };
        return withEncoder(response, () => encodeCheckPermissionsResponse(decisions, revision));
      });
    },

    explainPermission(req, ctx) {
      const principal = auth.principal(ctx, "policy");
      const tenantId = requireField(req.tenantId, "tenant_id");
      const userId = requireField(req.userId, "user_id");
      const permission = requireField(req.permission, "permission");
      auth.authorizeRead(ctx, principal, tenantId, userId);
      authorizeTarget(ctx, principal, tenantId, userId, req.targetUserId);
      auth.authorizeExplain(ctx, principal);
      return decideAt(admit(ctx, req.minRevision, tenantId), tenantId, pastAskOf(req), (on) =>
        toExplainResponse(
          on.explain(tenantId, userId, toCheckRequest(permission, req.targetUserId, req.resource)),
        ),
      );
    },

    listEffectivePermissions(req, ctx) {
      const principal = auth.principal(ctx, "policy");
      const tenantId = requireField(req.tenantId, "tenant_id");
      const userId = requireField(req.userId, "user_id");
      if (req.system !== undefined) systemOf(catalogOf(tenantId), req.system);
      auth.authorizeRead(ctx, principal, tenantId, userId);
      return decideAt(admit(ctx, req.minRevision, tenantId), tenantId, pastAskOf(req), (on) => {
        const snapshot = on.currentSnapshot();
        const catalog = catalogOf(tenantId, snapshot);
        const rows = on.listEffective(tenantId, userId, req.system);
        const profile = userProfile(snapshot, tenantId, userId);
        return {
          permissions: rows.map((row) => {
            const p = catalog.permissions.get(row.permission)!;
            return {
              permission: row.permission,
              name: p.name,
              category: p.categoryName,
              system: p.system,
              allowed: row.allowed,
              reason: toWireReason(row.reason),
              missing: [...row.missing],
              grantedByRoleIds: [...row.grantedByRoleIds],
              ...permissionSources(p, row.allowed, profile.licenseIds),
            };
          }),
          roleIds: profile.roleIds,
          licenseIds: profile.licenseIds,
          revision: BigInt(snapshot.revision),
        };
      });
    },

    lookupUsers(req, ctx) {
      const principal = auth.principal(ctx, "policy");
      const tenantId = requireField(req.tenantId, "tenant_id");
      const permission = requireField(req.permission, "permission");
      if (req.pageSize < 0) throw new RpcError(Code.InvalidArgument, "page_size must not be negative");
      auth.authorizeTenantRead(ctx, principal, tenantId);
      return then(admit(ctx, req.minRevision, tenantId), () => {
        const revision = engine.currentSnapshot().revision;
        const limit = req.pageSize > 0 ? req.pageSize : undefined;
        const after = req.pageToken === "" ? undefined : lookupAfter(req.pageToken);
        // One more than asked tells whether another page exists.
        const ids = engine.lookupUsers(tenantId, permission, {
          ...(after !== undefined ? { after } : {}),
          ...(limit !== undefined ? { limit: limit + 1 } : {}),
        });
        const more = limit !== undefined && ids.length > limit;
        const page = more ? ids.slice(0, limit) : ids;
        return {
          userIds: page,
          nextPageToken: more ? encodePageToken(page[page.length - 1]!) : "",
          revision: BigInt(revision),
        };
      });
    },

    resolveSurfaces(req, ctx) {
      const principal = auth.principal(ctx, "policy");
      const tenantId = requireField(req.tenantId, "tenant_id");
      const userId = requireField(req.userId, "user_id");
      const url = requireField(req.url, "url");
      if (!URL.canParse(url)) throw new RpcError(Code.InvalidArgument, `url '${url}' is not an absolute URL`);
      auth.authorizeRead(ctx, principal, tenantId, userId);
      const explains = auth.mayExplain(principal);
      return then(admit(ctx, req.minRevision, tenantId), () => {
        const revision = engine.currentSnapshot().revision;
        const match = deps.apps().match(tenantId, url);
        if (!match) return { surfaces: [], revision: BigInt(revision), appId: "" };
        const decisions = engine.resolveSurfaces(tenantId, userId, match.surfaceIds);
        const catalog = catalogOf(tenantId);
        return {
          appId: match.app.appId,
          revision: BigInt(revision),
          surfaces: decisions.map((d) => {
            const surface = catalog.surfaces.get(d.surface)!;
            return {
              surfaceId: surface.id,
              system: surface.system,
              label: surface.label,
              kind: surface.kind,
              selector: match.selectorFor(surface.id) ?? surface.selector,
              requirement: formatRequirement(surface.requires),
              allowed: d.allowed,
              reason: toWireReason(d.reason),
              missing: [...d.missing],
              summary:
                d.allowed || !explains
                  ? ""
                  : engine.explain(tenantId, userId, { surface: surface.id }).summary,
            };
          }),
        };
      });
    },

    compareUsers(req, ctx) {
      const principal = auth.principal(ctx, "policy");
      const tenantId = requireField(req.tenantId, "tenant_id");
      const userId = requireField(req.userId, "user_id");
      const otherUserId = requireField(req.otherUserId, "other_user_id");
      if (req.system !== undefined) systemOf(catalogOf(tenantId), req.system);
      auth.authorizeRead(ctx, principal, tenantId, userId);
      auth.authorizeRead(ctx, principal, tenantId, otherUserId);
      return decideAt(admit(ctx, req.minRevision, tenantId), tenantId, pastAskOf(req), (on) => {
        const snapshot = on.currentSnapshot();
        const catalog = catalogOf(tenantId, snapshot);
        const out = on.compareUsers(tenantId, userId, otherUserId, {
          system: req.system,
          includeSame: req.includeSame,
        });
        const side = (d: Side) => ({
          allowed: d.allowed,
          reason: toWireReason(d.reason),
          missing: [...d.missing],
          grantedByRoleIds: [...d.grantedByRoleIds],
        });
        return {
          permissions: out.permissions.map((r) => ({
            permission: r.id,
            name: catalog.permissions.get(r.id)!.name,
            system: r.system,
            user: side(r.user),
            other: side(r.other),
            differs: r.differs,
          })),
          surfaces: out.surfaces.map((r) => ({
            surfaceId: r.id,
            label: catalog.surfaces.get(r.id)!.label,
            system: r.system,
            user: side(r.user),
            other: side(r.other),
            differs: r.differs,
          })),
          permissionDifferences: out.permissionDifferences,
          surfaceDifferences: out.surfaceDifferences,
          revision: BigInt(out.revision),
        };
      });
    },

    async simulateChanges(req, ctx) {
      const principal = auth.principal(ctx, "admin");
      if (principal === undefined) {
        throw new RpcError(
          Code.Unauthenticated,
          "SimulateChanges needs a token: it takes the rights of the writes it simulates",
        );
      }
      const tenantId = requireField(req.tenantId, "tenant_id");
      const changes = req.changes.map((c, i): ProposedChange => {
        if (c.change.case === undefined) {
          throw new RpcError(Code.InvalidArgument, `changes[${i}] names no write (set one of its fields)`);
        }
        return { operation: c.change.case, request: c.change.value };
      });
      await admit(ctx, req.minRevision, tenantId);
      const out = await deps.simulate(principal, { tenantId, changes, outcomesOnly: req.outcomesOnly });
      return {
        changes: out.changes.map((c) => ({ ...c })),
        users: out.users.map((u) => ({
          userId: u.userId,
          permissionsGained: [...u.permissionsGained],
          permissionsLost: [...u.permissionsLost],
          surfacesGained: [...u.surfacesGained],
          surfacesLost: [...u.surfacesLost],
        })),
        seats: out.seats.map((l) => ({ ...l })),
        revision: BigInt(out.revision),
      };
    },

    async *watchPolicy(req, ctx) {
      const principal = auth.principal(ctx, "policy");
      const tenantId = req.tenantId;
      // Which tenants change when is tenant data: a user watches their own tenant only.
      if (principal !== undefined && principal.kind !== "bootstrap") {
        if (tenantId === "") {
          throw new RpcError(
            Code.InvalidArgument,
            "tenant_id is required when watching with a tenant's token",
          );
        }
        if (tenantId !== principal.tenantId) {
          auth.recordRefusal(ctx, Code.PermissionDenied, `watching tenant '${tenantId}' from another tenant`);
          throw new RpcError(
            Code.PermissionDenied,
            `${principalLabel(principal)} may not watch tenant '${tenantId}'`,
          );
        }
      }
      // Subscribe before reading the current revision, so nothing published in between is lost.
      const events = deps.feed.subscribe(ctx.signal);
      const current = engine.snapshot?.revision ?? 0;
      yield { revision: BigInt(current), tenantIds: [] };
      for await (const event of events) {
        if (event.revision <= current) continue;
        if (tenantId !== "" && event.tenantIds.length > 0 && !event.tenantIds.includes(tenantId)) continue;
        yield { revision: BigInt(event.revision), tenantIds: [...event.tenantIds] };
      }
    },

    async listAccessChanges(req, ctx) {
      const principal = auth.principal(ctx, "policy");
      const tenantId = requireField(req.tenantId, "tenant_id");
      const userId = requireField(req.userId, "user_id");
      if (req.pageSize < 0) throw new RpcError(Code.InvalidArgument, "page_size must not be negative");
      if (req.pageSize > ACCESS_CHANGES_PAGE.max) {
        throw new RpcError(Code.InvalidArgument, `page_size is at most ${ACCESS_CHANGES_PAGE.max}`);
      }
      const below = req.pageToken === "" ? undefined : Number(decodePageToken(req.pageToken));
      if (below !== undefined && !Number.isSafeInteger(below)) {
        throw new RpcError(
          Code.InvalidArgument,
          "page_token is not one this sidecar issued; pass next_page_token as given",
        );
      }
      // Whose access changed when is as much the user's data as their decisions.
      auth.authorizeRead(ctx, principal, tenantId, userId);
      await admit(ctx, req.minRevision, tenantId);
      const page = await deps.history.accessChanges({
        tenantId,
        userId,
        ...(req.permission !== undefined ? { permission: req.permission } : {}),
        limit: req.pageSize > 0 ? req.pageSize : ACCESS_CHANGES_PAGE.default,
        ...(below !== undefined ? { belowRevision: below } : {}),
      });
      return {
        changes: page.changes.map((c) => ({
          ...c,
          revision: BigInt(c.revision),
          permissionsGained: [...c.permissionsGained],
          permissionsLost: [...c.permissionsLost],
        })),
        nextPageToken: page.nextBelow === undefined ? "" : encodePageToken(String(page.nextBelow)),
        revision: BigInt(page.revision),
        oldestRevision: BigInt(page.oldestRevision),
      };
    },
  });
}

function lookupAfter(token: string): string {
  const after = decodePageToken(token);
  if (after === undefined) {
    throw new RpcError(
      Code.InvalidArgument,
      "page_token is not one this sidecar issued; pass next_page_token as given",
    );
  }
  return after;
}
