/**
 * fast-check generators of small random policy worlds (catalog, tenants, roles, license pools,
 * users) and of requests against them, for comparing the compiled engine with the reference.
 *
 * The catalogs reach every rule of the semantics: requirements over any key, the permission itself
 * included (so requirement cycles, through any-of groups too); mutual permissions with
 * acting-user requirements; licenses held by the tenant rather than a role; permissions needing
 * licenses in the tenant's own pool (some of which no pool ever has); and licenses that grant
 * permissions by default on association (an admin-time rule: both evaluators must ignore it).
 */
import fc from "fast-check";
import type { RequirementExpr } from "../../../catalog/schema.js";
import type { CheckRequest } from "../../../sidecar/src/policy/decision.js";
import type { PolicySource, TenantPolicy } from "../../../sidecar/src/policy/policy-source.js";
import {
  buildCatalog,
  type LicenseSpec,
  type PermissionSpec,
  role,
  tenant,
  user,
} from "./catalog-builder.js";

const SYSTEMS = ["s1", "s2"] as const;
const LICENSES = ["s1/L0", "s1/L1", "s2/L2"] as const;

/** A requirement over `keys`, at most two groups deep, empty groups included. */
export function requirementArb(keys: readonly string[]): fc.Arbitrary<RequirementExpr> {
  return fc.letrec<{ node: RequirementExpr; leaf: string; all: RequirementExpr; any: RequirementExpr }>(
    (tie) => ({
      node: fc.oneof({ maxDepth: 2, depthSize: "small" }, tie("leaf"), tie("all"), tie("any")),
      leaf: fc.constantFrom(...keys),
      all: fc.array(tie("node"), { maxLength: 3 }).map((all) => ({ all })),
      any: fc.array(tie("node"), { maxLength: 3 }).map((any) => ({ any })),
    }),
  ).node;
}

function tenantArb(id: string, keys: readonly string[]): fc.Arbitrary<TenantPolicy> {
  const roleIds = ["r0", "r1", "r2", "r3"];
  return fc
    .record({
      systems: fc.subarray([...SYSTEMS]),
      pool: fc.subarray([...LICENSES]),
      roleCount: fc.integer({ min: 0, max: 4 }),
      roles: fc.array(
        fc.record({
          // "s1/nope" is a stale grant of a key the catalog no longer has.
          grants: fc.subarray([...keys, "s1/nope"], { maxLength: Math.min(4, keys.length + 1) }),
          licenses: fc.subarray([...LICENSES, "s9/other"]),
        }),
        { minLength: 4, maxLength: 4 },
      ),
      // Mostly active users, and at least one: rules 2 onwards only apply to known, active users.
      users: fc.array(
        fc.record({
          roles: fc.subarray([...roleIds, "r-gone"], { maxLength: 3 }),
          active: fc.constantFrom(true, true, true, false),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    })
    .map((t) =>
      tenant(
        id,
        t.systems,
        t.roles.slice(0, t.roleCount).map((r, i) => role(`r${i}`, r.grants, r.licenses)),
        t.users.map((u, i) => user(`u${i}`, u.roles, u.active)),
        t.pool,
      ),
    );
}

/** A random world at revision 1 of database `db`. */
export const worldArb: fc.Arbitrary<PolicySource> = fc.integer({ min: 1, max: 7 }).chain((n) => {
  const keys = Array.from({ length: n }, (_, i) => `${i % 3 === 2 ? "s2" : "s1"}/p${i}`);
  const permission = (key: string): fc.Arbitrary<PermissionSpec> =>
    fc.record({
      key: fc.constant(key),
      licenses: fc.subarray([...LICENSES], { maxLength: 2 }),
      requires: fc.option(requirementArb(keys), { freq: 2, nil: null }),
      implies: fc.subarray(keys, { maxLength: Math.min(2, keys.length) }),
      mutual: fc.boolean(),
      scope: fc.constantFrom(null, "all" as const, "self" as const),
      // Mostly one key, as in the documents ("monitors also need Agent Monitoring").
      actorRequires: fc.option(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...keys) },
          { weight: 1, arbitrary: requirementArb(keys) },
        ),
        { freq: 3, nil: null },
      ),
      // "s9/other" is a license no pool ever holds.
      tenantLicenses: fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.subarray([...LICENSES, "s9/other"], { minLength: 1, maxLength: 2 }) },
      ),
    });
  const license = (id: (typeof LICENSES)[number]): fc.Arbitrary<LicenseSpec & { readonly id: string }> =>
    fc.record({
      id: fc.constant(id),
      heldBy: fc.constantFrom("role" as const, "role" as const, "tenant" as const),
      purchasable: fc.boolean(),
      defaultGrants: fc.subarray(keys, { maxLength: Math.min(2, keys.length) }),
    });
  return fc
    .record({
      permissions: fc.tuple(...keys.map(permission)),
      licenses: fc.tuple(...LICENSES.map(license)),
      surfaces: fc.array(requirementArb(keys), { maxLength: 2 }),
      tenants: fc.tuple(tenantArb("t0", keys), tenantArb("t1", keys)),
      tenantCount: fc.integer({ min: 1, max: 2 }),
      // Unused permissions ahead of the random ones push them across the 32-bit word boundary.
      filler: fc.constantFrom(0, 29),
    })
    .map((w) => ({
      databaseId: "db",
      revision: 1,
      catalog: buildCatalog(
        SYSTEMS.map((s) => ({
          id: s,
          permissions: [
            ...(s === "s1" ? Array.from({ length: w.filler }, (_, i) => ({ key: `s1/filler${i}` })) : []),
            ...w.permissions.filter((p) => p.key.startsWith(`${s}/`)),
          ],
          licenses: w.licenses.filter((l) => l.id.startsWith(`${s}/`)),
          surfaces: s === "s1" ? w.surfaces.map((requires, i) => ({ id: `s1/surface${i}`, requires })) : [],
        })),
      ),
      tenants: w.tenants.slice(0, w.tenantCount),
    }));
});

/** A check against `world`: tenant, user (possibly unknown), known permission, maybe a target and a resource. */
export function requestArb(
  world: PolicySource,
): fc.Arbitrary<{ tenant: string; user: string; request: CheckRequest }> {
  const keys = [...world.catalog.permissions.keys()];
  const userIds = ["u0", "u1", "u2", "u3", "ghost"];
  return fc.constantFrom(...world.tenants).chain((t) => {
    // Keys the tenant's roles grant and users it has, each picked as often as any key or id: most
    // random keys are plainly not granted and most random ids unknown, and the rules after rules
    // 1 and 2 only come into play for known users and granted keys.
    const granted = [...new Set(t.roles.flatMap((r) => r.grants))].filter((k) =>
      world.catalog.permissions.has(k),
    );
    const known = t.users.map((u) => u.id);
    const someKey =
      granted.length === 0
        ? fc.constantFrom(...keys)
        : fc.oneof(fc.constantFrom(...keys), fc.constantFrom(...granted));
    const someUser =
      known.length === 0
        ? fc.constantFrom(...userIds)
        : fc.oneof(fc.constantFrom(...userIds), fc.constantFrom(...known));
    return fc
      .record({
        user: someUser,
        permission: someKey,
        target: fc.option(someUser, { nil: undefined }),
        resource: fc.option(
          fc.record({ ownerUserId: fc.constantFrom(...userIds), participantUserIds: fc.subarray(userIds) }),
          { nil: undefined },
        ),
      })
      .map((r) => ({
        tenant: t.id,
        user: r.user,
        request: {
          permission: r.permission,
          ...(r.target === undefined ? {} : { targetUserId: r.target }),
          ...(r.resource === undefined ? {} : { resource: r.resource }),
        },
      }));
  });
}
