/** Who is asking for an admin operation, and how the audit log names them. */

/** Who is asking: the bootstrap token, or a user of a tenant (from an admin token). */
export type Principal =
  | { readonly kind: "bootstrap" }
  | { readonly kind: "user"; readonly tenantId: string; readonly userId: string };

/** How a principal is written in the audit log: `bootstrap` or `user:<tenant>/<user>`. */
export function principalLabel(actor: Principal): string {
  return actor.kind === "bootstrap" ? "bootstrap" : `user:${actor.tenantId}/${actor.userId}`;
}
