/**
 * What-if: proposed admin writes run through the real operations — the same rules, refusals and
 * rights — inside one store transaction that is then rolled back, so nothing is committed and
 * the revision does not move. The answer is the difference they would make: who gains or loses
 * which permissions and surfaces, per change and in all, and the license seats after them.
 */
import { compileSnapshot } from "../policy/compiler.js";
import { UnknownTenantError } from "../policy/decision.js";
import { tenantOf } from "../policy/evaluator.js";
import type { Snapshot } from "../policy/snapshot.js";
import { StoreError } from "../store/store-error.js";
import {
  accessChanges,
  countChanged,
  seatsUsed,
  servedTenantAccess,
  type TenantAccess,
  tenantAccess,
  type UserAccessChange,
} from "./access-diff.js";
import { type AdminContext, forTenant, gate } from "./admin-context.js";
import { createCurrentHolds } from "./current-holds.js";
import { ADMIN_OPERATIONS } from "./operations/index.js";
import type { Principal } from "./principal.js";
import { stateAfterWrite } from "./simulated-state.js";
import { checkId } from "./validate.js";

export type { UserAccessChange } from "./access-diff.js";

/** The writes a simulation may propose (AdminChange's cases). */
export const SIMULATED_OPERATIONS = [
  "grantPermissions",
  "revokePermissions",
  "assignRoles",
  "unassignRoles",
  "setRoleLicenses",
  "setLicenseSeats",
  "setUserActive",
  "createRole",
  "deleteRole",
] as const;

/** A write a simulation may propose. */
export type SimulatedOperation = (typeof SIMULATED_OPERATIONS)[number];

/** One proposed write: the operation and its request, as the write itself would take it. */
export interface ProposedChange {
  readonly operation: SimulatedOperation;
  readonly request: { readonly tenantId: string };
}

/** What one proposed write would do. */
export interface SimulatedChange {
  readonly operation: string;
  readonly applied: boolean;
  readonly refusalCode: string;
  readonly refusal: string;
  readonly usersGaining: number;
  readonly usersLosing: number;
}

/** The answer of `simulateChanges`. */
export interface Simulation {
  readonly changes: readonly SimulatedChange[];
  readonly users: readonly UserAccessChange[];
  readonly seats: readonly { readonly licenseId: string; readonly used: number; readonly seats: number }[];
  /** The revision the simulation started from. */
  readonly revision: number;
}

/** What `simulateChanges` is asked. */
export interface SimulationRequest {
  readonly tenantId: string;
  readonly changes: readonly ProposedChange[];
  /**
   * Only whether each write would be applied or refused (its authorization and admin rules, as
   * the real write): no access difference is worked out (users and seats empty, counts 0).
   */
  readonly outcomesOnly?: boolean;
}

/** Most changes in one simulation. */
export const MAX_SIMULATED_CHANGES = 100;

/** The counts of an outcomes-only simulation: nothing is worked out. */
const NO_COUNTS = Object.freeze({ gaining: 0, losing: 0 });

/** Carries the result out of the transaction it rolls back. */
class Rollback extends Error {
  constructor(readonly simulation: Simulation) {
    super("simulation rolled back");
  }
}

/** Options of `simulateChanges`. */
export interface SimulateOptions {
  /**
   * The policy a sidecar serves: used as the starting state when it is exactly the store's
   * (same database and revision), saving a read and a compile of the tenant.
   */
  readonly current?: () => Snapshot | undefined;
}

/** Runs `changes` on a copy of `tenantId`'s policy as `actor` would, and reports the difference. */
export async function simulateChanges(
  ctx: AdminContext,
  actor: Principal,
  req: SimulationRequest,
  options: SimulateOptions = {},
): Promise<Simulation> {
  if (req.changes.length > MAX_SIMULATED_CHANGES) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `at most ${MAX_SIMULATED_CHANGES} changes in one simulation, got ${req.changes.length}`,
      { field: "changes" },
    );
  }
  // Its own view of the actor's rights: what the simulated writes do must not outlive them.
  // Until a simulated write moves the revision, the served snapshot answers (it is the store's).
  const sim: AdminContext = {
    ...ctx,
    holds: createCurrentHolds(ctx.store, ctx.catalog, () => options.current?.()),
  };
  const outcomesOnly = req.outcomesOnly === true;
  try {
    await ctx.store.write(async (tx) => {
      // A right may come from one of the tenant's own systems: gate on its catalog.
      const scoped = await forTenant(sim, tx, typeof req.tenantId === "string" ? req.tenantId : "");
      await gate(scoped, tx, actor, req.tenantId, "any");
      const tenantId = checkId("tenant_id", req.tenantId);
      const access = async (): Promise<TenantAccess> => {
        const snapshot = compileSnapshot(await tx.policySource(ctx.catalog, [tenantId]));
        return tenantAccess(snapshot, tenantId);
      };
      const revision = await tx.revision();
      if (outcomesOnly && (await tx.tenant(tenantId)) === undefined) throw new UnknownTenantError(tenantId);
      const serving = options.current?.();
      const start = outcomesOnly
        ? undefined
        : serving !== undefined &&
            serving.revision === revision &&
            serving.databaseId === (await tx.databaseId()) &&
            serving.tenants.has(tenantId)
          ? servedTenantAccess(serving, tenantId)
          : await access();
      if (start !== undefined) tenantOf(start.snapshot, tenantId); // NOT_FOUND for an unknown tenant
      let previous = start;
      const changes: SimulatedChange[] = [];
      for (const [i, change] of req.changes.entries()) {
        const run = ADMIN_OPERATIONS[change.operation] as (
          ctx: AdminContext,
          actor: Principal,
          request: unknown,
        ) => Promise<unknown>;
        if (change.request.tenantId !== tenantId) {
          throw new StoreError(
            "INVALID_ARGUMENT",
            `changes[${i}] names tenant '${change.request.tenantId}', not '${tenantId}'`,
            {
              field: `changes[${i}].tenant_id`,
            },
          );
        }
        let refusal: StoreError | undefined;
        try {
          await run(sim, actor, change.request);
        } catch (err) {
          if (!(err instanceof StoreError)) throw err;
          refusal = err;
        }
        // A refused write changed nothing (its own transaction rolled back): no reread.
        const now =
          refusal === undefined && previous !== undefined
            ? tenantAccess(
                await stateAfterWrite(
                  tx,
                  ctx.catalog,
                  previous.shared,
                  tenantId,
                  change.operation,
                  change.request,
                ),
                tenantId,
                previous,
              )
            : previous;
        const { gaining, losing } =
          previous === undefined || now === undefined ? NO_COUNTS : countChanged(previous, now);
        changes.push({
          operation: change.operation.charAt(0).toUpperCase() + change.operation.slice(1),
          applied: refusal === undefined,
          refusalCode: refusal?.code ?? "",
          refusal: refusal?.message ?? "",
          usersGaining: gaining,
          usersLosing: losing,
        });
        previous = now;
      }
      if (start === undefined || previous === undefined) {
        throw new Rollback({ changes, users: [], seats: [], revision });
      }
      // The state after the last change is the end state: no third read.
      const seats = seatsUsed(previous, await tx.licensePools(tenantId));
      throw new Rollback({ changes, users: accessChanges(start, previous), seats, revision });
    });
  } catch (err) {
    if (err instanceof Rollback) return err.simulation;
    throw err;
  }
  throw new Error("unreachable: a simulation always rolls back");
}
