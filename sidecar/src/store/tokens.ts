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

/** The stored columns of a token's principal (admin_tokens), in insertion order. */
export interface TokenColumns {
  readonly kind: Principal["kind"];
  readonly tenantId: string | null;
  readonly userId: string | null;
  readonly serviceName: string | null;
  readonly explanations: 0 | 1;
}

/** The columns `principal` is stored as. */
export function tokenColumns(principal: Principal): TokenColumns {
  switch (principal.kind) {
    case "bootstrap":
      return { kind: "bootstrap", tenantId: null, userId: null, serviceName: null, explanations: 0 };
    case "user":
      return {
        kind: "user",
        tenantId: principal.tenantId,
        userId: principal.userId,
        serviceName: null,
        explanations: 0,
      };
    case "service":
      return {
        kind: "service",
        tenantId: principal.tenantId,
        userId: null,
        serviceName: principal.name,
        explanations: principal.explanations ? 1 : 0,
      };
  }
}

/** A stored token row as read back (SQLite or PostgreSQL). */
export interface TokenRow {
  readonly principal_kind: string;
  readonly tenant_id: string | null;
  readonly user_id: string | null;
  readonly service_name: string | null;
  readonly explanations: number | null;
}

/** The principal a stored row stands for, or `undefined` for a row no principal fits. */
export function principalOfRow(row: TokenRow): Principal | undefined {
  if (row.principal_kind === "bootstrap") return { kind: "bootstrap" };
  if (row.principal_kind === "user" && row.tenant_id !== null && row.user_id !== null) {
    return { kind: "user", tenantId: row.tenant_id, userId: row.user_id };
  }
  if (row.principal_kind === "service" && row.tenant_id !== null && row.service_name !== null) {
    return {
      kind: "service",
      tenantId: row.tenant_id,
      name: row.service_name,
      explanations: row.explanations === 1,
    };
  }
  return undefined;
}

/** The columns every token query reads, for principalOfRow. */
export const TOKEN_PRINCIPAL_COLUMNS = "principal_kind, tenant_id, user_id, service_name, explanations";

/** The INSERT of a token (placeholders `?`; pg-tokens.ts numbers them). */
export const INSERT_TOKEN_SQL =
  "INSERT INTO admin_tokens (hash, principal_kind, tenant_id, user_id, service_name, explanations, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

/** A service's name: what people read in audit lines and token listings. */
const SERVICE_NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;

/** Throws INVALID_ARGUMENT for a service name that is not a short plain word. */
export function checkServiceName(principal: Principal): void {
  if (principal.kind === "service" && !SERVICE_NAME.test(principal.name)) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `service name '${principal.name}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      { field: "service" },
    );
  }
}

/** NOT_FOUND naming what a token would stand for that does not exist. */
export function missingPrincipalError(principal: Principal): StoreError {
  return principal.kind === "user"
    ? new StoreError("NOT_FOUND", `unknown user '${principal.userId}' in tenant '${principal.tenantId}'`, {
        field: "user_id",
      })
    : new StoreError(
        "NOT_FOUND",
        `unknown tenant '${principal.kind === "service" ? principal.tenantId : ""}'`,
        {
          field: "tenant_id",
        },
      );
}

/** Creates a token for `principal`; returns the plaintext (shown once) and its id (the hash). */
export function createToken(
  db: Db,
  principal: Principal,
  options: CreateTokenOptions = {},
): { readonly token: string; readonly id: string } {
  checkServiceName(principal);
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const id = hashToken(token);
  const created = (options.clock ?? (() => new Date()))().toISOString();
  const c = tokenColumns(principal);
  const exists =
    c.kind === "user"
      ? db.prepare("SELECT 1 FROM users WHERE tenant_id = ? AND id = ?").get(c.tenantId, c.userId)
      : c.kind === "service"
        ? db.prepare("SELECT 1 FROM tenants WHERE id = ?").get(c.tenantId)
        : true;
  if (exists === undefined) throw missingPrincipalError(principal);
  db.prepare(INSERT_TOKEN_SQL).run(
    id,
    c.kind,
    c.tenantId,
    c.userId,
    c.serviceName,
    c.explanations,
    options.label ?? "",
    created,
  );
  return { token, id };
}

/** The principal a token stands for, or `null` when it is unknown, revoked or malformed. */
export function verifyToken(db: Db, plaintext: string): Principal | null {
  if (!plaintext.startsWith(TOKEN_PREFIX)) return null;
  const row = db
    .prepare(`SELECT ${TOKEN_PRINCIPAL_COLUMNS} FROM admin_tokens WHERE hash = ? AND revoked_at IS NULL`)
    .get(hashToken(plaintext)) as TokenRow | undefined;
  return row === undefined ? null : (principalOfRow(row) ?? null);
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
