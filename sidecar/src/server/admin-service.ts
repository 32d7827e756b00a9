/**
 * AdminService: reads and writes of the policy store. Every call needs a token; the store
 * decides what its principal may do. Each write answers with the revision it committed, which
 * the caller may pass as min_revision to PolicyService.
 */

import { Code } from "@connectrpc/connect";
import { AdminService, type App } from "../../../gen/rolecall/v1/admin_pb.js";
import type { AppRegistration } from "../apps/app-registry.js";
import type { PolicyAdmin } from "../store/admin.js";
import type { Principal } from "../store/authorize.js";
import type { Authenticator } from "./auth.js";
import { toRpcError } from "./errors.js";
import { bindService, type RpcContext, RpcError, type ServiceBinding } from "./rpc.js";

/** What AdminService needs from the running sidecar. */
export interface AdminServiceDeps {
  readonly admin: PolicyAdmin;
  readonly auth: Authenticator;
  /** The revision the store is at, for read responses. */
  readonly storeRevision: () => number;
}

function appFromWire(app: App | undefined): AppRegistration {
  if (!app) throw new RpcError(Code.InvalidArgument, "app is required");
  return {
    appId: app.appId,
    name: app.name,
    baseUrl: app.baseUrl,
    pages: app.pages.map((p) => ({ urlPattern: p.urlPattern, surfaceIds: p.surfaceIds })),
    selectors: app.selectors.map((s) => ({ surfaceId: s.surfaceId, selector: s.selector })),
    subject: {
      kind: (app.subject?.kind || "meta") as AppRegistration["subject"]["kind"],
      ...(app.subject?.selector ? { selector: app.subject.selector } : {}),
    },
  };
}

/** Binds AdminService to the store's admin operations. */
export function adminService(deps: AdminServiceDeps): ServiceBinding {
  const { admin } = deps;
  const actor = (ctx: RpcContext): Principal => deps.auth.principal(ctx, "admin")!;
  const rev = (revision: number) => ({ revision: BigInt(revision) });
  const storeRev = () => BigInt(deps.storeRevision());

  const binding = bindService(AdminService, {
    listTenants: (_req, ctx) => ({
      tenants: admin
        .listTenants(actor(ctx))
        .map((t) => ({ id: t.id, name: t.name, systems: [...t.systems] })),
      revision: storeRev(),
    }),
    listUsers: (req, ctx) => ({
      users: admin.listUsers(actor(ctx), { tenantId: req.tenantId }).map((u) => ({
        userId: u.id,
        displayName: u.displayName,
        active: u.active,
        roleIds: [...u.roleIds],
      })),
      revision: storeRev(),
    }),
    listRoles: (req, ctx) => ({
      roles: admin.listRoles(actor(ctx), { tenantId: req.tenantId }).map((r) => ({
        roleId: r.id,
        name: r.name,
        kind: r.kind,
        basedOnRoleId: r.basedOn ?? "",
        permissions: [...r.grants],
        licenseIds: [...r.licenseIds],
        holderCount: r.holderCount,
      })),
      revision: storeRev(),
    }),
    getLicenseUsage: (req, ctx) => {
      const usage = admin.getLicenseUsage(actor(ctx), { tenantId: req.tenantId, licenseId: req.licenseId });
      return { ...usage, revision: storeRev() };
    },
    listAuditEvents: (req, ctx) => {
      if (req.pageSize < 0) throw new RpcError(Code.InvalidArgument, "page_size must not be negative");
      const page = admin.listAuditEvents(actor(ctx), {
        ...(req.tenantId !== "" ? { tenantId: req.tenantId } : {}),
        ...(req.pageSize > 0 ? { pageSize: req.pageSize } : {}),
        ...(req.pageToken !== "" ? { pageToken: req.pageToken } : {}),
      });
      return {
        events: page.events.map((e) => ({
          revision: BigInt(e.revision),
          actor: e.actor,
          operation: e.operation,
          before: e.before === null ? "" : JSON.stringify(e.before),
          after: e.after === null ? "" : JSON.stringify(e.after),
          time: e.time,
          tenantId: e.tenantId ?? "",
        })),
        nextPageToken: page.nextPageToken,
      };
    },
    createTenant: (req, ctx) =>
      rev(
        admin.createTenant(actor(ctx), {
          ...(req.tenantId !== "" ? { tenantId: req.tenantId } : {}),
          name: req.name,
          systems: req.systems,
        }).revision,
      ),
    createUser: (req, ctx) =>
      rev(
        admin.createUser(actor(ctx), {
          tenantId: req.tenantId,
          userId: req.userId,
          displayName: req.displayName,
        }).revision,
      ),
    setUserActive: (req, ctx) =>
      rev(
        admin.setUserActive(actor(ctx), { tenantId: req.tenantId, userId: req.userId, active: req.active })
          .revision,
      ),
    createRole: (req, ctx) => {
      const out = admin.createRole(actor(ctx), {
        tenantId: req.tenantId,
        name: req.name,
        ...(req.basedOnRoleId !== undefined ? { basedOnRoleId: req.basedOnRoleId } : {}),
        licenseIds: req.licenseIds,
      });
      return { roleId: out.roleId, revision: BigInt(out.revision) };
    },
    renameRole: (req, ctx) =>
      rev(
        admin.renameRole(actor(ctx), { tenantId: req.tenantId, roleId: req.roleId, name: req.name }).revision,
      ),
    deleteRole: (req, ctx) =>
      rev(admin.deleteRole(actor(ctx), { tenantId: req.tenantId, roleId: req.roleId }).revision),
    grantPermissions: (req, ctx) => {
      const out = admin.grantPermissions(actor(ctx), {
        tenantId: req.tenantId,
        roleId: req.roleId,
        permissions: req.permissions,
      });
      return { autoGranted: [...out.autoGranted], revision: BigInt(out.revision) };
    },
    revokePermissions: (req, ctx) => {
      const out = admin.revokePermissions(actor(ctx), {
        tenantId: req.tenantId,
        roleId: req.roleId,
        permissions: req.permissions,
        cascade: req.cascade,
      });
      return { revoked: [...out.revoked], revision: BigInt(out.revision) };
    },
    setRoleLicenses: (req, ctx) =>
      rev(
        admin.setRoleLicenses(actor(ctx), {
          tenantId: req.tenantId,
          roleId: req.roleId,
          licenseIds: req.licenseIds,
        }).revision,
      ),
    setLicenseSeats: (req, ctx) =>
      rev(
        admin.setLicenseSeats(actor(ctx), {
          tenantId: req.tenantId,
          licenseId: req.licenseId,
          seats: req.seats,
        }).revision,
      ),
    assignRoles: (req, ctx) =>
      rev(
        admin.assignRoles(actor(ctx), { tenantId: req.tenantId, userId: req.userId, roleIds: req.roleIds })
          .revision,
      ),
    unassignRoles: (req, ctx) =>
      rev(
        admin.unassignRoles(actor(ctx), { tenantId: req.tenantId, userId: req.userId, roleIds: req.roleIds })
          .revision,
      ),
    listApps: (req, ctx) => ({
      apps: admin.listApps(actor(ctx), { tenantId: req.tenantId }).map((a) => ({
        appId: a.appId,
        name: a.name,
        baseUrl: a.baseUrl,
        pages: a.pages.map((p) => ({ urlPattern: p.urlPattern, surfaceIds: [...p.surfaceIds] })),
        selectors: a.selectors.map((s) => ({ ...s })),
        subject: { kind: a.subject.kind, selector: a.subject.selector ?? "" },
      })),
      revision: storeRev(),
    }),
    putApp: (req, ctx) =>
      rev(admin.putApp(actor(ctx), { tenantId: req.tenantId, app: appFromWire(req.app) }).revision),
    deleteApp: (req, ctx) =>
      rev(admin.deleteApp(actor(ctx), { tenantId: req.tenantId, appId: req.appId }).revision),
  });
  return auditStoreRefusals(deps.auth, binding);
}

/**
 * The store decides what a principal may write (authorizeAdmin) and throws PERMISSION_DENIED
 * itself; those refusals must reach the audit log like the authenticator's. (RpcErrors came
 * from the authenticator, which has recorded them already.) The handlers are synchronous.
 */
function auditStoreRefusals(auth: Authenticator, binding: ServiceBinding): ServiceBinding {
  const handlers: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(binding.handlers)) {
    handlers[name] = (req: unknown, ctx: RpcContext) => {
      try {
        return (handler as (req: unknown, ctx: RpcContext) => unknown)(req, ctx);
      } catch (err) {
        const rpc = toRpcError(err);
        if (!(err instanceof RpcError) && rpc.code === Code.PermissionDenied) {
          auth.recordRefusal(ctx, rpc.code, rpc.message);
        }
        throw err;
      }
    };
  }
  return { service: binding.service, handlers };
}
