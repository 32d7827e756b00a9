/**
 * AdminService: reads and writes of the policy store. Every call needs a token; the store
 * decides what its principal may do. Each write answers with the revision it committed, which
 * the caller may pass as min_revision to PolicyService.
 */

import { Code } from "@connectrpc/connect";
import {
  AdminService,
  type App,
  type CreateTenantRequest,
  type PutAppRequest,
  type PutSystemRequest,
} from "../../../gen/rolecall/v1/admin_pb.js";
import type { PolicyAdmin, WriteResult } from "../admin/policy-admin.js";
import type { Principal } from "../admin/principal.js";
import type { AppRegistration } from "../apps/app-registry.js";
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

/** PutSystem's document: `system` (a JSON object) or `system_json` (text), exactly one. */
function systemFromWire(req: PutSystemRequest): Parameters<PolicyAdmin["putSystem"]>[1] {
  const hasText = req.systemJson !== "";
  if (req.system !== undefined && hasText) {
    throw new RpcError(Code.InvalidArgument, "set system or system_json, not both");
  }
  return {
    tenantId: req.tenantId,
    system: hasText ? { text: req.systemJson } : { json: req.system },
    ...(req.fileName !== "" ? { fileName: req.fileName } : {}),
  };
}

/** Binds AdminService to the admin operations (defined once, in admin/operations/). */
export function adminService(deps: AdminServiceDeps): ServiceBinding {
  const { admin } = deps;
  const actor = (ctx: RpcContext): Principal => deps.auth.principal(ctx, "admin")!;
  const storeRev = () => BigInt(deps.storeRevision());
  // Most requests already carry exactly the operation's fields: they are passed through as they are.
  const write =
    <R>(run: (actor: Principal, req: R) => Promise<WriteResult>) =>
    async (req: R, ctx: RpcContext) => ({ revision: BigInt((await run(actor(ctx), req)).revision) });

  const binding = bindService(AdminService, {
    listTenants: async (_req, ctx) => ({
      tenants: (await admin.listTenants(actor(ctx))).map((t) => ({
        id: t.id,
        name: t.name,
        systems: [...t.systems],
        ownerUserIds: [...t.owners],
      })),
      revision: storeRev(),
    }),
    listUsers: async (req, ctx) => ({
      users: (await admin.listUsers(actor(ctx), req)).map((u) => ({
        userId: u.id,
        displayName: u.displayName,
        active: u.active,
        roleIds: [...u.roleIds],
      })),
      revision: storeRev(),
    }),
    listRoles: async (req, ctx) => ({
      roles: (await admin.listRoles(actor(ctx), req)).map((r) => ({
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
    getLicenseUsage: async (req, ctx) => ({
      ...(await admin.getLicenseUsage(actor(ctx), req)),
      revision: storeRev(),
    }),
    listAuditEvents: async (req, ctx) => {
      if (req.pageSize < 0) throw new RpcError(Code.InvalidArgument, "page_size must not be negative");
      const page = await admin.listAuditEvents(actor(ctx), {
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
    // An empty tenant_id means "derive it from the name".
    createTenant: write((a, req: CreateTenantRequest) =>
      admin.createTenant(a, { ...req, tenantId: req.tenantId === "" ? undefined : req.tenantId }),
    ),
    setTenantOwners: write(admin.setTenantOwners),
    createUser: write(admin.createUser),
    setUserActive: write(admin.setUserActive),
    createRole: async (req, ctx) => {
      const out = await admin.createRole(actor(ctx), req);
      return { roleId: out.roleId, revision: BigInt(out.revision) };
    },
    renameRole: write(admin.renameRole),
    deleteRole: write(admin.deleteRole),
    grantPermissions: async (req, ctx) => {
      const out = await admin.grantPermissions(actor(ctx), req);
      return { autoGranted: [...out.autoGranted], revision: BigInt(out.revision) };
    },
    revokePermissions: async (req, ctx) => {
      const out = await admin.revokePermissions(actor(ctx), req);
      return { revoked: [...out.revoked], revision: BigInt(out.revision) };
    },
    setRoleLicenses: write(admin.setRoleLicenses),
    setLicenseSeats: write(admin.setLicenseSeats),
    assignRoles: write(admin.assignRoles),
    unassignRoles: write(admin.unassignRoles),
    listApps: async (req, ctx) => ({
      apps: (await admin.listApps(actor(ctx), req)).map((a) => ({
        appId: a.appId,
        name: a.name,
        baseUrl: a.baseUrl,
        pages: a.pages.map((p) => ({ urlPattern: p.urlPattern, surfaceIds: [...p.surfaceIds] })),
        selectors: a.selectors.map((s) => ({ ...s })),
        subject: { kind: a.subject.kind, selector: a.subject.selector ?? "" },
      })),
      revision: storeRev(),
    }),
    putApp: write((a, req: PutAppRequest) =>
      admin.putApp(a, { tenantId: req.tenantId, app: appFromWire(req.app) }),
    ),
    deleteApp: write(admin.deleteApp),
    putSystem: async (req, ctx) => {
      const out = await admin.putSystem(actor(ctx), systemFromWire(req));
      return { createdRoleIds: [...out.createdRoleIds], revision: BigInt(out.revision) };
    },
    deleteSystem: async (req, ctx) => {
      const out = await admin.deleteSystem(actor(ctx), req);
      return { deletedRoleIds: [...out.deletedRoleIds], revision: BigInt(out.revision) };
    },
    listSystems: async (req, ctx) => ({
      systems: (await admin.listSystems(actor(ctx), req)).map((s) => ({
        id: s.id,
        name: s.name,
        custom: s.custom,
        permissionCount: s.permissionCount,
        documentJson: s.document ?? "",
        updatedAt: s.updatedAt ?? "",
        problem: s.problem ?? "",
      })),
      revision: storeRev(),
    }),
  });
  return auditStoreRefusals(deps.auth, binding);
}

/**
 * The admin rules decide what a principal may write (authorizeAdmin) and refuse with
 * PERMISSION_DENIED themselves; those refusals must reach the audit log like the
 * authenticator's. (RpcErrors came from the authenticator, which has recorded them already.)
 */
function auditStoreRefusals(auth: Authenticator, binding: ServiceBinding): ServiceBinding {
  const handlers: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(binding.handlers)) {
    handlers[name] = async (req: unknown, ctx: RpcContext) => {
      try {
        return await (handler as (req: unknown, ctx: RpcContext) => unknown)(req, ctx);
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
