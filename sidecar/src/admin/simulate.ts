/**
 * What-if: proposed admin writes run through the real operations — the same rules, refusals and
 * rights — inside one store transaction that is then rolled back, so nothing is committed and
 * the revision does not move. The answer is the difference they would make: who gains or loses
 * which permissions and surfaces, per change and in all, and the license seats after them.
 */
import { compileSnapshot } from "../policy/compiler.js";
import { catalogOfTenantIn } from "../policy/custom-catalog.js";
import { effectiveKeysByUser } from "../policy/effective-keys.js";
import { resolveSurfaces, tenantOf } from "../policy/evaluator.js";
import type { Snapshot } from "../policy/snapshot.js";
import type { PolicyStoreReads } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";
import { type AdminContext, forTenant, gate } from "./admin-context.js";
import { createCurrentHolds } from "./current-holds.js";
import { ADMIN_OPERATIONS } from "./operations/index.js";
import type { Principal } from "./principal.js";
import { checkId } from "./validate.js";

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

/** One proposed write: the operation and its request, as the write itself would take it. */
export interface ProposedChange {
  readonly operation: (typeof SIMULATED_OPERATIONS)[number];
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

/** One user whose access would change. */
export interface UserAccessChange {
  readonly userId: string;
  readonly permissionsGained: readonly string[];
  readonly permissionsLost: readonly string[];
  readonly surfacesGained: readonly string[];
  readonly surfacesLost: readonly string[];
}

/** The answer of `simulateChanges`. */
export interface Simulation {
  readonly changes: readonly SimulatedChange[];
  readonly users: readonly UserAccessChange[];
  readonly seats: readonly { readonly licenseId: string; readonly used: number; readonly seats: number }[];
  /** The revision the simulation started from. */
  readonly revision: number;
}

/** Most changes in one simulation. */
export const MAX_SIMULATED_CHANGES = 100;

/** Carries the result out of the transaction it rolls back. */
class Rollback extends Error {
  constructor(readonly simulation: Simulation) {
    super("simulation rolled back");
  }
}

type Access = Map<string, Set<string>>;

function gainsAndLosses(before: Access, after: Access): { gaining: number; losing: number } {
  let gaining = 0;
  let losing = 0;
  for (const [user, keys] of after) {
    const had = before.get(user) ?? new Set<string>();
    if ([...keys].some((k) => !had.has(k))) gaining++;
    if ([...had].some((k) => !keys.has(k))) losing++;
  }
  for (const [user, had] of before) if (!after.has(user) && had.size > 0) losing++;
  return { gaining, losing };
}

/** Surfaces each user sees, for the users named. */
function surfacesOf(snapshot: Snapshot, tenantId: string, users: Iterable<string>): Map<string, Set<string>> {
  const tenant = tenantOf(snapshot, tenantId);
  // The tenant's own systems' surfaces are in its catalog only.
  const ids = [...catalogOfTenantIn(snapshot, tenantId).surfaces.values()]
    .filter((s) => tenant.systems.includes(s.system))
    .map((s) => s.id);
  const out = new Map<string, Set<string>>();
  for (const user of users) {
    const known = tenant.userIndex.has(user);
    const seen = known ? resolveSurfaces(snapshot, tenantId, user, ids).filter((d) => d.allowed) : [];
    out.set(user, new Set(seen.map((d) => d.surface)));
  }
  return out;
}

const diff = (a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): string[] =>
  [...(b ?? [])].filter((k) => a?.has(k) !== true).sort();

/** Runs `changes` on a copy of `tenantId`'s policy as `actor` would, and reports the difference. */
export async function simulateChanges(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly changes: readonly ProposedChange[] },
): Promise<Simulation> {
  if (req.changes.length > MAX_SIMULATED_CHANGES) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `at most ${MAX_SIMULATED_CHANGES} changes in one simulation, got ${req.changes.length}`,
      { field: "changes" },
    );
  }
  // Its own view of the actor's rights: what the simulated writes do must not outlive them.
  const sim: AdminContext = { ...ctx, holds: createCurrentHolds(ctx.store, ctx.catalog) };
  try {
    await ctx.store.write(async (tx) => {
      // A right may come from one of the tenant's own systems: gate on its catalog.
      const scoped = await forTenant(sim, tx, typeof req.tenantId === "string" ? req.tenantId : "");
      await gate(scoped, tx, actor, req.tenantId, "any");
      const tenantId = checkId("tenant_id", req.tenantId);
      const compile = async () => compileSnapshot(await tx.policySource(ctx.catalog, [tenantId]));
      const revision = await tx.revision();
      const start = await compile();
      tenantOf(start, tenantId); // NOT_FOUND for an unknown tenant
      const startAccess = effectiveKeysByUser(start, tenantId);
      let previous = startAccess;
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
        const now = refusal === undefined ? effectiveKeysByUser(await compile(), tenantId) : previous;
        const { gaining, losing } = gainsAndLosses(previous, now);
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
      const end = await compile();
      const endAccess = effectiveKeysByUser(end, tenantId);
      const touched = [...new Set([...startAccess.keys(), ...endAccess.keys()])].filter((u) => {
        const a = startAccess.get(u);
        const b = endAccess.get(u);
        return diff(a, b).length > 0 || diff(b, a).length > 0;
      });
      const surfacesBefore = surfacesOf(start, tenantId, touched);
      const surfacesAfter = surfacesOf(end, tenantId, touched);
      const users = touched.sort().map((userId) => ({
        userId,
        permissionsGained: diff(startAccess.get(userId), endAccess.get(userId)),
        permissionsLost: diff(endAccess.get(userId), startAccess.get(userId)),
        surfacesGained: diff(surfacesBefore.get(userId), surfacesAfter.get(userId)),
        surfacesLost: diff(surfacesAfter.get(userId), surfacesBefore.get(userId)),
      }));
      throw new Rollback({ changes, users, seats: await seatsOf(tx, tenantId), revision });
    });
  } catch (err) {
    if (err instanceof Rollback) return err.simulation;
    throw err;
  }
  throw new Error("unreachable: a simulation always rolls back");
}

async function seatsOf(tx: PolicyStoreReads, tenantId: string) {
  const seats = [];
  for (const pool of await tx.licensePools(tenantId)) {
    seats.push({
      licenseId: pool.licenseId,
      used: await tx.licenseUsed(tenantId, pool.licenseId),
      seats: pool.seats,
    });
  }
  return seats;
}
