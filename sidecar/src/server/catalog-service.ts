/** CatalogService: what the catalog holds, straight from the loaded Catalog (it never changes while serving). */
import { Code } from "@connectrpc/connect";
import type { Catalog, CatalogSystem } from "../../../catalog/catalog.js";
import { formatRequirement } from "../../../catalog/requirement.js";
import { CatalogService } from "../../../gen/rolecall/v1/catalog_pb.js";
import { bindService, RpcError, requireField, type ServiceBinding } from "./rpc.js";

/** Finds a system or throws NOT_FOUND listing the known ones. */
export function systemOf(catalog: Catalog, id: string): CatalogSystem {
  const system = catalog.systems.find((s) => s.id === id);
  if (!system) {
    throw new RpcError(
      Code.NotFound,
      `unknown system '${id}'; known systems: ${catalog.systems.map((s) => s.id).join(", ")}`,
    );
  }
  return system;
}

/** Binds CatalogService to a catalog. */
export function catalogService(catalog: Catalog): ServiceBinding {
  return bindService(CatalogService, {
    listSystems: () => ({
      systems: catalog.systems.map((s) => ({
        id: s.id,
        name: s.name,
        permissionCount: s.permissions.length,
      })),
    }),
    listPermissions: (req) => {
      const system = systemOf(catalog, requireField(req.system, "system"));
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
    listLicenses: (req) => ({
      licenses: systemOf(catalog, requireField(req.system, "system")).licenses.map((l) => ({
        id: l.id,
        name: l.name,
      })),
    }),
    listSurfaces: (req) => ({
      surfaces: systemOf(catalog, requireField(req.system, "system")).surfaces.map((s) => ({
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
