/**
 * Admin tokens: the plaintext (`rc_` + 32 random bytes, base64url) is handed out once; the store
 * keeps only its SHA-256, so a copied database file grants nobody anything.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Principal } from "../admin/principal.js";
import type { Db } from "./database.js";
import { StoreError } from "./store-error.js";

/** Every token starts with this, so a leaked one is recognisable (and greppable by secret scanners). */
export const TOKEN_PREFIX = "rc_";

/** Options of `createToken`. */
export interface CreateTokenOptions {
  /** Returns the current time, recorded as the creation time. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** A note for people listing tokens ("CI", "carol's laptop"). Default `""`. */
  readonly label?: string;
}

/** The SHA-256 (hex) the store keeps for a token; also its id for revocation. */
export function hashToken(plaintext: string): string {
  return createHash("sha256").update(plaintext, "utf8").digest("hex");
}

/** Creates a token for `principal`; returns the plaintext (shown once) and its id (the hash). */
export function createToken(
  db: Db,
  principal: Principal,
  options: CreateTokenOptions = {},
): { readonly token: string; readonly id: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const id = hashToken(token);
  const created = (options.clock ?? (() => new Date()))().toISOString();
  const [tenantId, userId] =
    principal.kind === "user" ? [principal.tenantId, principal.userId] : [null, null];
  if (principal.kind === "user") {
    const user = db.prepare("SELECT 1 FROM users WHERE tenant_id = ? AND id = ?").get(tenantId, userId);
    if (user === undefined) {
      throw new StoreError("NOT_FOUND", `unknown user '${userId}' in tenant '${tenantId}'`, {
        field: "user_id",
      });
    }
  }
  db.prepare(
    "INSERT INTO admin_tokens (hash, principal_kind, tenant_id, user_id, label, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  ).run(id, principal.kind, tenantId, userId, options.label ?? "", created);
  return { token, id };
}

/** The principal a token stands for, or `null` when it is unknown, revoked or malformed. */
export function verifyToken(db: Db, plaintext: string): Principal | null {
  if (!plaintext.startsWith(TOKEN_PREFIX)) return null;
  const row = db
    .prepare(
      "SELECT principal_kind, tenant_id, user_id FROM admin_tokens WHERE hash = ? AND revoked_at IS NULL",
    )
    .get(hashToken(plaintext)) as
    | { principal_kind: "bootstrap" | "user"; tenant_id: string | null; user_id: string | null }
    | undefined;
  if (row === undefined) return null;
  if (row.principal_kind === "bootstrap") return { kind: "bootstrap" };
  if (row.tenant_id === null || row.user_id === null) return null;
  return { kind: "user", tenantId: row.tenant_id, userId: row.user_id };
}

/** Revokes a token given its plaintext or its id; returns whether a live token was revoked. */
export function revokeToken(
  db: Db,
  tokenOrId: string,
  options: { readonly clock?: () => Date } = {},
): boolean {
  const id = tokenOrId.startsWith(TOKEN_PREFIX) ? hashToken(tokenOrId) : tokenOrId;
  const now = (options.clock ?? (() => new Date()))().toISOString();
  const result = db
    .prepare("UPDATE admin_tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL")
    .run(now, id);
  return result.changes > 0;
}
