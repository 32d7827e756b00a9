/** Registered applications (URL patterns → surfaces) the browser extension resolves pages with. */
import type { AppRegistration } from "../../apps/app-registry.js";
import { StoreError } from "../../store/store-error.js";
import { type AdminContext, gate } from "../admin-context.js";
import { checkAppRegistration } from "../app-validation.js";
import { requireTenant } from "../lookups.js";
import type { Principal } from "../principal.js";
import { checkId } from "../validate.js";
import { runRead, runWrite, type WriteResult } from "../write.js";

/** Registers or replaces an application of a tenant. */
export function putApp(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly app: AppRegistration },
): Promise<WriteResult> {
  return runWrite(ctx, actor, "PutApp", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "manage-apps");
    const tenantId = checkId("tenant_id", req.tenantId);
    const tenant = await requireTenant(tx, tenantId);
    const app = checkAppRegistration(ctx.catalog, tenant.systems, req.app);
    const before = (await tx.apps(tenantId)).find((a) => a.appId === app.appId) ?? null;
    await tx.putApp(tenantId, app, ctx.clock().toISOString());
    return { users: [], result: {}, before, after: app };
  });
}

/** Removes a registered application. */
export function deleteApp(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly appId: string },
): Promise<WriteResult> {
  return runWrite(ctx, actor, "DeleteApp", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "manage-apps");
    const tenantId = checkId("tenant_id", req.tenantId);
    const appId = checkId("app_id", req.appId);
    await requireTenant(tx, tenantId);
    const before = (await tx.apps(tenantId)).find((a) => a.appId === appId);
    if (!before) {
      throw new StoreError("NOT_FOUND", `unknown app '${appId}' in tenant '${tenantId}'`, {
        field: "app_id",
      });
    }
    await tx.deleteApp(tenantId, appId);
    return { users: [], result: {}, before, after: null };
  });
}

/** The applications registered for a tenant. */
export function listApps(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string },
): Promise<AppRegistration[]> {
  return runRead(ctx, async (tx) => {
    await gate(ctx, tx, actor, req.tenantId, "any");
    await requireTenant(tx, req.tenantId);
    return tx.apps(req.tenantId);
  });
}
