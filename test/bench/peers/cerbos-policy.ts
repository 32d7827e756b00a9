/**
 * Translates one system of a rolecall tenant into a Cerbos resource policy, so the peer bench
 * compares the two servers on the same decisions: the resource kind is the system, each action a
 * permission key, and a rule allows it to every role whose grants (closed under the catalog's
 * implications) hold it. Cerbos is told the user's roles in each request, as its callers do.
 *
 * Only what plain role rules can express is translated: a permission with licenses, a requirement
 * or the mutual flag is refused with its key named, rather than given a decision that might
 * differ. The bench then checks every (user, permission) decision of both servers equal anyway.
 */
import { loadCatalog } from "../../../catalog/loader.js";
import { openStore } from "../../../sidecar/src/store/open-store.js";
import { readPolicySource } from "../../../sidecar/src/store/read-policy.js";

/** Cerbos needs at least one role per principal; a user with none (or inactive) gets only this one. */
const NO_ROLE = "rolecall-no-role";

/** What the bench needs to ask Cerbos the same questions it asks rolecall. */
export interface PeerPolicy {
  /** The Cerbos resource policy document (written as YAML into the policies folder). */
  readonly policy: Record<string, unknown>;
  /** The resource kind: the system id. */
  readonly kind: string;
  /** The system's permission keys without the system (the Cerbos action names), in catalog order. */
  readonly actions: readonly string[];
  /** Per user id, the roles to send as the Cerbos principal's roles. */
  readonly principals: ReadonlyMap<string, readonly string[]>;
}

/** Reads `tenantId` from the store at `dbPath` and builds the policy for `system`. */
export function peerPolicyFromStore(dbPath: string, tenantId: string, system: string): PeerPolicy {
  const catalog = loadCatalog();
  const db = openStore(dbPath, { readonly: true });
  let source: ReturnType<typeof readPolicySource>;
  try {
    source = readPolicySource(db, catalog);
  } finally {
    db.close();
  }
  const tenant = source.tenants.find((t) => t.id === tenantId);
  if (!tenant) throw new Error(`tenant ${tenantId} is not in ${dbPath}`);
  if (!tenant.systems.includes(system)) throw new Error(`tenant ${tenantId} does not enable ${system}`);
  const entry = catalog.systems.find((s) => s.id === system);
  if (!entry) throw new Error(`the catalog has no system ${system}`);

  const permissions = entry.permissions.filter((p) => p.status === "active");
  for (const p of permissions) {
    const conditional =
      p.licenses.length > 0 ||
      p.requires !== null ||
      p.mutual ||
      p.actorRequires !== undefined ||
      (p.tenantLicenses?.length ?? 0) > 0;
    if (conditional)
      throw new Error(
        `${p.key} has licenses, a requirement or the mutual flag: plain role rules cannot say that`,
      );
  }
  const implies = new Map(permissions.map((p) => [p.key, p.implies]));
  const closure = (keys: Iterable<string>): Set<string> => {
    const seen = new Set<string>();
    const todo = [...keys];
    for (let k = todo.pop(); k !== undefined; k = todo.pop()) {
      if (seen.has(k)) continue;
      seen.add(k);
      todo.push(...(implies.get(k) ?? []));
    }
    return seen;
  };
  // Keys stay qualified until the rule is written: implications may name other systems' keys.
  const holds = new Map(tenant.roles.map((r) => [r.id, closure(r.grants)]));
  const rules = permissions.flatMap((p) => {
    const roles = [...holds].filter(([, keys]) => keys.has(p.key)).map(([id]) => id);
    return roles.length === 0 ? [] : [{ actions: [p.localKey], effect: "EFFECT_ALLOW", roles }];
  });
  const principals = new Map(
    tenant.users.map((u) => [u.id, u.active && u.roleIds.length > 0 ? u.roleIds : [NO_ROLE]]),
  );
  return {
    policy: {
      apiVersion: "api.cerbos.dev/v1",
      resourcePolicy: { version: "default", resource: system, rules },
    },
    kind: system,
    actions: permissions.map((p) => p.localKey),
    principals,
  };
}
