/**
 * The envelope of every admin write: one transaction that holds the write lock from its first
 * read, runs the operation's checks and changes, refuses a change by which anyone would gain
 * what the acting non-owner does not hold (escalation.ts), and — unless nothing changed — bumps
 * the revision once and appends the change-log and audit rows. Any failure rolls it all back.
 */
import { isDeepStrictEqual } from "node:util";
import type { PolicyStoreReads, PolicyStoreTx } from "../store/policy-store.js";
import { traceAsync } from "../tracing.js";
import { type AdminContext, forTenant } from "./admin-context.js";
import { watchForGains } from "./escalation.js";
import { type Principal, principalLabel } from "./principal.js";

/**
 * Every write's answer carries the revision it committed — or, for a write that changed nothing
 * (granting what the role already holds), the current revision: nothing is committed or audited.
 */
export interface WriteResult {
  readonly revision: number;
}

/** What a write's body did. */
export interface WriteBody<T> {
  readonly result: T;
  readonly before: unknown;
  readonly after: unknown;
  /**
   * The users whose records (name, active flag, roles) the write changed: a sidecar rereads just
   * those, not the whole tenant. Omitted when any of the tenant's users may have changed.
   */
  readonly users?: readonly string[];
}

/**
 * Runs `body` as the admin write `operation` on `tenantId`, audited as `actor`; traced when
 * tracing is on. The body gets the context scoped to the tenant: its catalog holds the tenant's
 * own systems.
 */
export function runWrite<T extends object>(
  ctx: AdminContext,
  actor: Principal,
  operation: string,
  tenantId: string,
  body: (tx: PolicyStoreTx, scoped: AdminContext) => Promise<WriteBody<T>>,
): Promise<T & WriteResult> {
  const attributes = { "rolecall.operation": operation, "rolecall.tenant_id": tenantId };
  return traceAsync("rolecall.admin.write", attributes, () => write(ctx, actor, operation, tenantId, body));
}

function write<T extends object>(
  ctx: AdminContext,
  actor: Principal,
  operation: string,
  tenantId: string,
  body: (tx: PolicyStoreTx, scoped: AdminContext) => Promise<WriteBody<T>>,
): Promise<T & WriteResult> {
  return ctx.store.write(async (tx): Promise<T & WriteResult> => {
    const noGainsBeyondActor = await watchForGains(ctx, tx, actor, tenantId);
    const out = await body(tx, typeof tenantId === "string" ? await forTenant(ctx, tx, tenantId) : ctx);
    // A no-op must not bump the revision: every sidecar would recompile the tenant for nothing.
    if (out.before !== null && isDeepStrictEqual(out.before, out.after)) {
      return { ...out.result, revision: await tx.revision() };
    }
    await noGainsBeyondActor?.();
    const revision = await tx.commit({
      tenantId,
      operation,
      detail: { operation, ...(out.users === undefined ? {} : { users: out.users }) },
      time: ctx.clock().toISOString(),
      actor: principalLabel(actor),
      before: out.before,
      after: out.after,
    });
    return { ...out.result, revision };
  });
}

/** Runs an admin read in one consistent read transaction. */
export function runRead<T>(ctx: AdminContext, body: (tx: PolicyStoreReads) => Promise<T>): Promise<T> {
  return ctx.store.read(body);
}
