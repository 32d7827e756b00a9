/**
 * API tokens on a PostgreSQL primary, with tokens.ts's semantics: the plaintext is handed out
 * once, the primary keeps only its SHA-256, and every follower copies the table into its local
 * copy, where its sidecar verifies tokens without a round trip. Tokens do not move the revision,
 * but each change notifies the followers, so a revocation reaches the fleet at once rather than
 * at the next poll.
 */
import { randomBytes } from "node:crypto";
import type { Principal } from "../../admin/principal.js";
import {
  type CreateTokenOptions,
  checkServiceName,
  hashToken,
  INSERT_TOKEN_SQL,
  missingPrincipalError,
  TOKEN_PREFIX,
  tokenColumns,
} from "../tokens.js";
import { CHANGES_CHANNEL, type PgPolicyStore, type PgQuery } from "./pg-policy-store.js";

/** Wakes the followers (delivered after commit); the payload is the unchanged revision. */
async function notifyFollowers(query: PgQuery): Promise<void> {
  await query(`SELECT pg_notify('${CHANGES_CHANNEL}', revision::text) FROM meta WHERE id = 1`);
}

/** Creates a token for `principal` on the primary; returns the plaintext (shown once) and its id (the hash). */
export function createTokenPg(
  store: PgPolicyStore,
  principal: Principal,
  options: CreateTokenOptions = {},
): Promise<{ readonly token: string; readonly id: string }> {
  checkServiceName(principal);
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const id = hashToken(token);
  const created = (options.clock ?? (() => new Date()))().toISOString();
  const c = tokenColumns(principal);
  // In a write transaction: the user or tenant checked is the one the token is committed beside.
  return store.writeSql(async (query) => {
    const found =
      c.kind === "user"
        ? await query("SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2", [c.tenantId, c.userId])
        : c.kind === "service"
          ? await query("SELECT 1 FROM tenants WHERE id = $1", [c.tenantId])
          : undefined;
    if (found !== undefined && found.rowCount === 0) throw missingPrincipalError(principal);
    let n = 0;
    await query(
      INSERT_TOKEN_SQL.replace(/\?/g, () => `$${++n}`),
      [id, c.kind, c.tenantId, c.userId, c.serviceName, c.explanations, options.label ?? "", created],
    );
    await notifyFollowers(query);
    return { token, id };
  });
}

/** Revokes a token on the primary given its plaintext or its id; resolves with whether a live token was revoked. */
export function revokeTokenPg(
  store: PgPolicyStore,
  tokenOrId: string,
  options: { readonly clock?: () => Date } = {},
): Promise<boolean> {
  const id = tokenOrId.startsWith(TOKEN_PREFIX) ? hashToken(tokenOrId) : tokenOrId;
  const now = (options.clock ?? (() => new Date()))().toISOString();
  return store.writeSql(async (query) => {
    const result = await query(
      "UPDATE admin_tokens SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL",
      [now, id],
    );
    const revoked = (result.rowCount ?? 0) > 0;
    if (revoked) await notifyFollowers(query);
    return revoked;
  });
}
