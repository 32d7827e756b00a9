/** Who is asking for an admin operation, and how the audit log names them. */

/**
 * Who is asking: the bootstrap token, a user of a tenant (from a user's token), or a service of a
 * tenant (a policy enforcement point's token: it may ask decisions about any user of its tenant,
 * read only, and read explanations only when its token was created with that right).
 */
export type Principal =
  | { readonly kind: "bootstrap" }
  | { readonly kind: "user"; readonly tenantId: string; readonly userId: string }
  | ServicePrincipal;

/** A service of a tenant: decisions only, never an admin operation. */
export interface ServicePrincipal {
  readonly kind: "service";
  readonly tenantId: string;
  /** The name given at `rolecall token create --service NAME` (the gateway, the PEP). */
  readonly name: string;
  /** Whether it may read explanations (summaries, traces) as well as decisions. */
  readonly explanations: boolean;
}

/** How a principal is written in the audit log: `bootstrap`, `user:<tenant>/<user>` or `service:<tenant>/<name>`. */
export function principalLabel(actor: Principal): string {
  if (actor.kind === "bootstrap") return "bootstrap";
  return actor.kind === "user"
    ? `user:${actor.tenantId}/${actor.userId}`
    : `service:${actor.tenantId}/${actor.name}`;
}
