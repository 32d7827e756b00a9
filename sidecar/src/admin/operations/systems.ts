/**
 * A tenant's own systems (its agent desktop, a reporting API): put, delete and list them. A
 * system is a document in the schema of `catalog/data/*.json`, validated by the catalog loader's
 * phases with the same messages; the tenant is then decided on the catalog extended with it.
 */
import type { Catalog, CatalogPermission, CatalogSystem } from "../../../../catalog/catalog.js";
import { didYouMean } from "../../../../catalog/closest-key.js";
import { CatalogError } from "../../../../catalog/loader.js";
import { requirementKeys } from "../../../../catalog/requirement.js";
import {
  buildCustomSystems,
  catalogWithCustomSystems,
  customSystemProblems,
  extendCatalog,
  vendorCatalogOf,
} from "../../../../catalog/tenant-catalog.js";
import type { CustomSystemRow, PolicyStoreTx, TenantRow } from "../../store/policy-store.js";
import { StoreError } from "../../store/store-error.js";
import { type AdminContext, customSystemTexts, gate } from "../admin-context.js";
import { createDefaultRoles } from "../default-roles.js";
import { checkGrantable } from "../escalation.js";
import { requireTenant } from "../lookups.js";
import { type Principal, principalLabel } from "../principal.js";
import { checkId } from "../validate.js";
import { runRead, runWrite, type WriteResult } from "../write.js";

/** One system of a tenant, as ListSystems shows it. */
export interface TenantSystemSummary {
  readonly id: string;
  readonly name: string;
  /** True for the tenant's own system. */
  readonly custom: boolean;
  readonly permissionCount: number;
  /** The tenant's own system's document as put; absent for a vendor system. */
  readonly document?: string;
  /** When the tenant's own system was last put; absent for a vendor system. */
  readonly updatedAt?: string;
  /**
   * Why the tenant's own system is stored but not in force (the vendor catalog changed under
   * it: re-put it corrected, or delete it); absent when it is in force.
   */
  readonly problem?: string;
}

/** The document of PutSystem: parsed JSON, or JSON text (whose syntax errors keep their position). */
export type SystemDocument = { readonly json: unknown } | { readonly text: string };

/** Adds or replaces one of the tenant's own systems, and creates its default roles the tenant lacks. */
export function putSystem(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly system: SystemDocument; readonly fileName?: string },
): Promise<WriteResult & { readonly systemId: string; readonly createdRoleIds: readonly string[] }> {
  return runWrite(ctx, actor, "PutSystem", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "manage-systems");
    const tenantId = checkId("tenant_id", req.tenantId);
    const tenant = await requireTenant(tx, tenantId);
    const data = parseDocument(req.system);
    const stored = await tx.customSystems(tenantId);
    const vendor = vendorCatalogOf(ctx.catalog);
    const system = validate(vendor, stored, data, req.fileName);
    checkReferencesEnabled(vendor, tenant, stored, system);
    const previous = stored.find((s) => s.systemId === system.id);
    const before = previous === undefined ? null : { system: JSON.parse(previous.document) as unknown };
    checkOwnersOnly(vendor, actor, tenant, system, previous);

    const document = JSON.stringify(data);
    // The same document again is a no-op: no new revision, no audit row, not even a new updated_at.
    if (previous?.document !== document) {
      await tx.putCustomSystem(tenantId, system.id, document, ctx.clock().toISOString());
    }
    const others = stored.filter((s) => s.systemId !== system.id);
    const catalog = extendCatalog(vendor, [...customSystemsOf(vendor, others), system]);
    for (const role of system.defaultRoles) {
      if ((await tx.role(tenantId, `${system.id}.${role.id}`)) !== undefined) continue;
      // A default role is a role like any other: a non-owner may not create one granting what he lacks.
      await checkGrantable(ctx, actor, tenant, role.grants, `create default role '${system.id}.${role.id}'`);
    }
    const createdRoleIds = await createDefaultRoles(
      tx,
      catalog,
      tenantId,
      [system.id],
      ctx.clock().toISOString(),
    );
    return {
      users: [],
      result: { systemId: system.id, createdRoleIds },
      before,
      after: { system: data, ...(createdRoleIds.length === 0 ? {} : { createdRoleIds }) },
    };
  });
}

/** Removes one of the tenant's own systems with its default roles; refused while a role grants its permissions. */
export function deleteSystem(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string; readonly systemId: string },
): Promise<WriteResult & { readonly deletedRoleIds: readonly string[] }> {
  return runWrite(ctx, actor, "DeleteSystem", req.tenantId, async (tx, ctx) => {
    await gate(ctx, tx, actor, req.tenantId, "manage-systems");
    const tenantId = checkId("tenant_id", req.tenantId);
    const systemId = checkId("system_id", req.systemId);
    await requireTenant(tx, tenantId);
    const stored = await tx.customSystems(tenantId);
    const row = stored.find((s) => s.systemId === systemId);
    if (row === undefined) {
      if (vendorCatalogOf(ctx.catalog).systems.some((s) => s.id === systemId)) {
        throw new StoreError(
          "FAILED_PRECONDITION",
          `'${systemId}' is a vendor system of the catalog; DeleteSystem removes only the tenant's own systems`,
          { field: "system_id" },
        );
      }
      const own = stored.map((s) => s.systemId);
      throw new StoreError(
        "NOT_FOUND",
        `tenant '${tenantId}' has no system '${systemId}' of its own${didYouMean(systemId, own)} (its own: ${own.join(", ") || "none"})`,
        { field: "system_id" },
      );
    }
    const vendor = vendorCatalogOf(ctx.catalog);
    const dependants = customSystemsOf(vendor, stored)
      .filter((s) => s.id !== systemId && referencedKeys(s).some((k) => k.startsWith(`${systemId}/`)))
      .map((s) => `'${s.id}'`);
    if (dependants.length > 0) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        `system '${systemId}' is named by the tenant's systems ${dependants.join(", ")}; put them without those references first`,
        { field: "system_id" },
      );
    }
    const { blocking, ownDefaultRoles } = await rolesUsing(tx, tenantId, systemId);
    if (blocking.length > 0) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        `system '${systemId}' is still in use by roles ${blocking.join(", ")}; revoke its permissions and licenses from them (or unassign its default roles) first`,
        { field: "system_id" },
      );
    }
    const apps = (await tx.apps(tenantId)).filter((a) =>
      a.pages.some((p) => p.surfaceIds.some((id) => id.startsWith(`${systemId}/`))),
    );
    if (apps.length > 0) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        `system '${systemId}' has surfaces on registered apps ${apps.map((a) => `'${a.appId}'`).join(", ")}; update or delete those apps first`,
        { field: "system_id" },
      );
    }
    for (const roleId of ownDefaultRoles) await tx.deleteRole(tenantId, roleId);
    await tx.deleteCustomSystem(tenantId, systemId);
    return {
      users: [],
      result: { deletedRoleIds: ownDefaultRoles },
      before: { system: JSON.parse(row.document) as unknown },
      after: null,
    };
  });
}

/** The tenant's systems: the vendor systems it has, then its own. */
export function listSystems(
  ctx: AdminContext,
  actor: Principal,
  req: { readonly tenantId: string },
): Promise<TenantSystemSummary[]> {
  return runRead(ctx, async (tx) => {
    await gate(ctx, tx, actor, req.tenantId, "any");
    const tenant = await requireTenant(tx, req.tenantId);
    const vendor = vendorCatalogOf(ctx.catalog);
    const stored = await tx.customSystems(tenant.id);
    const own = new Map(customSystemsOf(vendor, stored).map((s) => [s.id, s] as const));
    const problems = customSystemProblems(vendor, customSystemTexts(stored));
    const out: TenantSystemSummary[] = [];
    for (const system of vendor.systems) {
      if (!tenant.systems.includes(system.id)) continue;
      out.push({
        id: system.id,
        name: system.name,
        custom: false,
        permissionCount: system.permissions.length,
      });
    }
    for (const row of stored) {
      const system = own.get(row.systemId);
      const problem = problems.get(row.systemId);
      out.push({
        id: row.systemId,
        name: system?.name ?? row.systemId,
        custom: true,
        permissionCount: system?.permissions.length ?? 0,
        document: row.document,
        updatedAt: row.updatedAt,
        ...(problem === undefined ? {} : { problem }),
      });
    }
    return out;
  });
}

function parseDocument(doc: SystemDocument): unknown {
  if ("json" in doc) {
    if (doc.json === undefined || doc.json === null) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        "system is required: the system as JSON (or system_json as text)",
        {
          field: "system",
        },
      );
    }
    return doc.json;
  }
  try {
    return JSON.parse(doc.text.replace(/^\uFEFF/, ""));
  } catch (err) {
    throw new StoreError("INVALID_ARGUMENT", `system_json is not valid JSON: ${(err as Error).message}`, {
      field: "system_json",
    });
  }
}

/** The system, validated against the vendor catalog and the tenant's other systems; INVALID_ARGUMENT listing every problem. */
function validate(
  vendor: Catalog,
  stored: readonly CustomSystemRow[],
  data: unknown,
  fileName: string | undefined,
): CatalogSystem {
  const id = typeof (data as { id?: unknown })?.id === "string" ? (data as { id: string }).id : "system";
  const file = fileName !== undefined && fileName !== "" ? fileName : `${id}.json`;
  const others = customSystemsOf(
    vendor,
    stored.filter((s) => s.systemId !== id),
  );
  try {
    const [system] = buildCustomSystems(extendCatalog(vendor, others), [{ file, data }]);
    return system!;
  } catch (err) {
    if (!(err instanceof CatalogError)) throw err;
    // The loader's own report, every problem on its line, naming the file, the entry and the field.
    throw new StoreError("INVALID_ARGUMENT", err.message.replace(/^invalid catalog/, "invalid system"), {
      field: "system",
    });
  }
}

/**
 * The tenant's stored systems as catalog systems (each validated when it was put; one that no
 * longer validates against the vendor catalog is left out, as the engine leaves it out).
 */
function customSystemsOf(vendor: Catalog, stored: readonly CustomSystemRow[]): CatalogSystem[] {
  return catalogWithCustomSystems(vendor, customSystemTexts(stored)).systems.slice(vendor.systems.length);
}

/** Every qualified key and license id a system names (its own included). */
function referencedKeys(system: CatalogSystem): string[] {
  return [
    ...system.permissions.flatMap((p) => [
      ...p.implies,
      ...(p.requires === null ? [] : requirementKeys(p.requires)),
      ...(p.actorRequires === undefined ? [] : requirementKeys(p.actorRequires)),
      ...p.licenses,
      ...(p.tenantLicenses ?? []),
    ]),
    ...system.licenses.flatMap((l) => l.defaultGrants ?? []),
    ...system.defaultRoles.flatMap((r) => [...r.grants, ...r.licenses]),
    ...system.surfaces.flatMap((s) => requirementKeys(s.requires)),
  ];
}

/** FAILED_PRECONDITION when the system names a permission or license of a system the tenant does not have. */
function checkReferencesEnabled(
  vendor: Catalog,
  tenant: TenantRow,
  stored: readonly CustomSystemRow[],
  system: CatalogSystem,
): void {
  const has = new Set([...tenant.systems, ...stored.map((s) => s.systemId), system.id]);
  for (const key of referencedKeys(system)) {
    const owner = key.slice(0, key.lastIndexOf("/"));
    if (!has.has(owner)) {
      const what = vendor.licenses.has(key) ? "license" : "permission";
      throw new StoreError(
        "FAILED_PRECONDITION",
        `system '${system.id}' names ${what} '${key}' of ${owner}, which tenant '${tenant.id}' does not have`,
        { field: "system" },
      );
    }
  }
}

/**
 * Only owners decide which permissions give admin actions: through `adminRights` a non-owner
 * could name a permission he holds as one giving him `edit-roles`. Anyone else with
 * `manage-systems` must leave a system's admin rights as they are.
 */
function checkOwnersOnly(
  vendor: Catalog,
  actor: Principal,
  tenant: TenantRow,
  system: CatalogSystem,
  previous: CustomSystemRow | undefined,
): void {
  if (actor.kind === "bootstrap" || (actor.kind === "user" && tenant.owners.includes(actor.userId))) return;
  const before = previous === undefined ? undefined : customSystemsOf(vendor, [previous])[0];
  const refuse = (what: string, why: string) => {
    throw new StoreError(
      "PERMISSION_DENIED",
      `${principalLabel(actor)} may not change ${what} of system '${system.id}': only the tenant's owners ${why}`,
      { field: "system" },
    );
  };
  if (JSON.stringify(before?.adminRights ?? []) !== JSON.stringify(system.adminRights)) {
    refuse("the adminRights", "decide which permissions give admin actions");
  }
  // What a check demands beyond holding a permission (requirements, licenses, scope, mutual
  // exclusion) is not seen by the escalation check, which compares who holds what: loosening
  // it on an existing permission would let checks allow more with no holding gained.
  const conditionsBefore = new Map((before?.permissions ?? []).map((p) => [p.key, checkConditions(p)]));
  for (const p of system.permissions) {
    const was = conditionsBefore.get(p.key);
    if (was !== undefined && was !== checkConditions(p)) {
      refuse(
        `what a check of '${p.key}' demands`,
        "change requirements, licenses, scope or mutual exclusion",
      );
    }
  }
}

/** The conditions a check of `p` applies beyond holding it, as comparable text. */
function checkConditions(p: CatalogPermission): string {
  return JSON.stringify([
    p.requires,
    p.actorRequires ?? null,
    p.mutual,
    p.scope,
    p.licenses,
    p.tenantLicenses ?? [],
  ]);
}

/** The roles in the way of deleting a system, and the system's own default roles (deleted with it). */
async function rolesUsing(
  tx: PolicyStoreTx,
  tenantId: string,
  systemId: string,
): Promise<{ blocking: string[]; ownDefaultRoles: string[] }> {
  const prefix = `${systemId}/`;
  const blocking: string[] = [];
  const ownDefaultRoles: string[] = [];
  for (const role of await tx.roles(tenantId)) {
    if (role.kind === "default" && role.defaultSystem === systemId) {
      const holders = await tx.holderCount(tenantId, role.id);
      if (holders > 0)
        blocking.push(`'${role.id}' (its default role, held by ${holders} user${holders === 1 ? "" : "s"})`);
      else ownDefaultRoles.push(role.id);
      continue;
    }
    const grants = (await tx.grants(tenantId, role.id)).filter((k) => k.startsWith(prefix));
    const licenses = (await tx.roleLicenses(tenantId, role.id)).filter((l) => l.startsWith(prefix));
    if (grants.length > 0 || licenses.length > 0) {
      blocking.push(`'${role.id}' (grants ${[...grants, ...licenses].join(", ")})`);
    }
  }
  return { blocking, ownDefaultRoles };
}
