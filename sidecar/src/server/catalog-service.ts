/**
 * CatalogService: what the catalog holds, straight from the loaded Catalog (it never changes while
 * serving) — or, with `tenant_id`, what one tenant is decided on: the vendor systems it has and
 * its own, from the serving snapshot.
 */
import { Code } from "@connectrpc/connect";
import type { Catalog, CatalogSystem } from "../../../catalog/catalog.js";
import { formatRequirement } from "../../../catalog/requirement.js";
import { CatalogService } from "../../../gen/rolecall/v1/catalog_pb.js";
import { principalLabel } from "../admin/principal.js";
import { systemsOfTenant } from "../policy/custom-catalog.js";
import type { PolicyEngine } from "../policy/policy-engine.js";
import type { Authenticator } from "./auth.js";
import { bindService, type RpcContext, RpcError, requireField, type ServiceBinding } from "./rpc.js";

/** What CatalogService needs to answer for one tenant. */
export interface TenantCatalogDeps {
  readonly engine: PolicyEngine;
  readonly auth: Authenticator;
}

/** Finds a system or throws NOT_FOUND listing the known ones. */
export function systemOf(catalog: Pick<Catalog, "systems">, id: string): CatalogSystem {
  const system = catalog.systems.find((s) => s.id === id);
  if (!system) {
    throw new RpcError(
      Code.NotFound,
      `unknown system '${id}'; known systems: ${catalog.systems.map((s) => s.id).join(", ")}`,
    );
  }
  return system;
}

/** Binds CatalogService to a catalog, and (with `tenants`) to the tenants' views of it. */
export function catalogService(vendor: Catalog, tenants?: TenantCatalogDeps): ServiceBinding {
  /** The systems a request may see: the vendor catalog's, or one tenant's. */
  const systemsFor = (req: { readonly tenantId: string }, ctx: RpcContext): readonly CatalogSystem[] => {
    if (req.tenantId === "") return vendor.systems;
    if (tenants === undefined) throw new RpcError(Code.Unimplemented, "tenant_id is not served here");
    const principal = tenants.auth.principal(ctx, "catalog");
    const trusted = ctx.listener === "grpc" && principal === undefined;
    if (!trusted && principal?.kind !== "bootstrap" && principal?.tenantId !== req.tenantId) {
      const who = principal === undefined ? "an anonymous caller" : principalLabel(principal);
      const code = principal === undefined ? Code.Unauthenticated : Code.PermissionDenied;
      tenants.auth.recordRefusal(ctx, code, `catalog of tenant '${req.tenantId}' asked by ${who}`);
      throw new RpcError(
        code,
        `${who} may not read tenant '${req.tenantId}''s systems: that needs a token of the tenant`,
      );
    }
    try {
      return systemsOfTenant(tenants.engine.currentSnapshot(), req.tenantId);
    } catch {
      // The same answer whether or not such a tenant exists for a caller who may not know.
      throw new RpcError(Code.NotFound, `unknown tenant '${req.tenantId}'`);
    }
  };
  const catalogOf = (req: { readonly tenantId: string }, ctx: RpcContext): Pick<Catalog, "systems"> => ({
    systems: systemsFor(req, ctx),
  });
  return bindService(CatalogService, {
    listSystems: (req, ctx) => ({
      systems: systemsFor(req, ctx).map((s) => ({
        id: s.id,
        name: s.name,
        permissionCount: s.permissions.length,
      })),
    }),
    listPermissions: (req, ctx) => {
      const system = systemOf(catalogOf(req, ctx), requireField(req.system, "system"));
      const category = req.category;
      if (category !== undefined && !system.categories.some((c) => c.id === category)) {
        throw new RpcError(
          Code.NotFound,
          `unknown category '${category}' in ${system.id}; known: ${system.categories.map((c) => c.id).join(", ")}`,
        );
      }
      return {
        permissions: system.permissions
          .filter((p) => category === undefined || p.category === category)
          .map((p) => ({
            key: p.key,
            name: p.name,
            category: p.category,
            categoryName: p.categoryName,
            summary: p.summary,
            licenseIds: [...p.licenses],
            requires: p.requires === null ? "" : formatRequirement(p.requires),
            implies: [...p.implies],
            status: p.status,
            pages: [...p.pages],
            mutual: p.mutual,
            scope: p.scope ?? "",
          })),
      };
    },
    listLicenses: (req, ctx) => ({
      licenses: systemOf(catalogOf(req, ctx), requireField(req.system, "system")).licenses.map((l) => ({
        id: l.id,
        name: l.name,
      })),
    }),
    listSurfaces: (req, ctx) => ({
      surfaces: systemOf(catalogOf(req, ctx), requireField(req.system, "system")).surfaces.map((s) => ({
        id: s.id,
        system: s.system,
        label: s.label,
        kind: s.kind,
        location: s.location,
        urlPattern: s.urlPattern,
        selector: s.selector,
        requirement: formatRequirement(s.requires),
      })),
    }),
  });
}
