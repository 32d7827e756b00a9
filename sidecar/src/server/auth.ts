/**
 * Who is calling, and may they? The principal comes from the bearer token, never from a request
 * field. Services on the gRPC listener are trusted neighbours (loopback or a 0600 unix socket)
 * unless configured otherwise; browsers on the HTTP listener always present a token.
 */
import { Code } from "@connectrpc/connect";
import type { Principal } from "../admin/principal.js";
import { isBootstrapToken } from "../bootstrap-token.js";
import { type RpcContext, RpcError } from "./rpc.js";

/** Which service a call is for; the rules differ. */
export type ServiceKind = "policy" | "catalog" | "admin";

/** Maps a presented token to its principal; kept in memory so a check never touches SQLite. */
export interface TokenDirectory {
  principalOf(token: string): Principal | undefined;
}

/** Whether a user may read others' decisions in their tenant (an owner, or the `read-decisions` right). */
export type IsRoleAdministrator = (tenantId: string, userId: string) => boolean;

/** Options of createAuthenticator. */
export interface AuthenticatorOptions {
  readonly bootstrapToken: string;
  readonly tokens: TokenDirectory;
  /** PolicyService and CatalogService on the gRPC listener need a token too. Default false. */
  readonly grpcRequireToken: boolean;
  readonly isRoleAdministrator: IsRoleAdministrator;
  /** Called for every refusal, so it can be audited and counted. */
  readonly onRefused?: (ctx: RpcContext, code: Code, message: string) => void;
}

/** Authenticates calls and authorizes reads of other users' decisions. */
export interface Authenticator {
  /** The caller's principal; `undefined` for a trusted anonymous caller. Throws UNAUTHENTICATED. */
  principal(ctx: RpcContext, service: ServiceKind): Principal | undefined;
  /** Throws PERMISSION_DENIED unless the principal may read `userId`'s decisions in `tenantId`. */
  authorizeRead(ctx: RpcContext, principal: Principal | undefined, tenantId: string, userId: string): void;
  /**
   * Throws PERMISSION_DENIED unless the principal may read tenant-wide data (LookupUsers, the
   * review export); `what` names the data in the refusal.
   */
  authorizeTenantRead(
    ctx: RpcContext,
    principal: Principal | undefined,
    tenantId: string,
    what?: string,
  ): void;
  /**
   * Throws PERMISSION_DENIED for a service principal whose token has no right to explanations
   * (call after authorizeRead: the rest is the read's rule).
   */
  authorizeExplain(ctx: RpcContext, principal: Principal | undefined): void;
  /** Whether the principal may see explanations (summaries) beside decisions; no refusal recorded. */
  mayExplain(principal: Principal | undefined): boolean;
  /** Audits a refusal decided elsewhere (the store's admin rules) like the authenticator's own. */
  recordRefusal(ctx: RpcContext, code: Code, message: string): void;
}

/** Creates the authenticator. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const refuse = (ctx: RpcContext, code: Code, message: string): never => {
    options.onRefused?.(ctx, code, message);
    throw new RpcError(code, message);
  };
  const label = (p: Principal) =>
    p.kind === "bootstrap"
      ? "the bootstrap token"
      : p.kind === "user"
        ? `${p.tenantId}/${p.userId}`
        : `service '${p.name}' of tenant '${p.tenantId}'`;

  const tenantRead = (ctx: RpcContext, principal: Principal | undefined, tenantId: string, what: string) => {
    if (principal === undefined || principal.kind === "bootstrap") return;
    // A service token exists to ask decisions about any user of its own tenant, and only those.
    if (principal.kind === "service") {
      if (principal.tenantId === tenantId) return;
      return refuse(
        ctx,
        Code.PermissionDenied,
        `${label(principal)} may not read ${what}: only its own tenant's`,
      );
    }
    if (principal.tenantId === tenantId && options.isRoleAdministrator(tenantId, principal.userId)) return;
    refuse(
      ctx,
      Code.PermissionDenied,
      `${label(principal)} may not read ${what}: that needs the 'read-decisions' right in tenant '${tenantId}' (an owner, or a permission that gives it)`,
    );
  };

  return {
    principal(ctx, service) {
      const open = service === "catalog" ? ctx.listener === "http" || !options.grpcRequireToken : false;
      const trusted = service === "policy" && ctx.listener === "grpc" && !options.grpcRequireToken;
      const header = ctx.authorization;
      if (header === undefined || header === "") {
        if (open || trusted) return undefined;
        return refuse(ctx, Code.Unauthenticated, "this call needs 'authorization: Bearer <token>'");
      }
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match)
        return refuse(ctx, Code.Unauthenticated, "the authorization header must be 'Bearer <token>'");
      const token = match[1]!;
      if (isBootstrapToken(token, options.bootstrapToken)) return { kind: "bootstrap" };
      const principal = options.tokens.principalOf(token);
      if (!principal) {
        return refuse(
          ctx,
          Code.Unauthenticated,
          "the token is unknown or revoked; create one with 'rolecall token create'",
        );
      }
      return principal;
    },
    authorizeRead(ctx, principal, tenantId, userId) {
      if (principal?.kind === "user" && principal.tenantId === tenantId && principal.userId === userId)
        return;
      tenantRead(ctx, principal, tenantId, `the decisions of ${tenantId}/${userId}`);
    },
    authorizeTenantRead(ctx, principal, tenantId, what) {
      tenantRead(ctx, principal, tenantId, what ?? `who holds permissions in tenant '${tenantId}'`);
    },
    authorizeExplain(ctx, principal) {
      if (principal?.kind !== "service" || principal.explanations) return;
      refuse(
        ctx,
        Code.PermissionDenied,
        `${label(principal)} may ask decisions but not read explanations; create its token with 'rolecall token create --tenant ${principal.tenantId} --service ${principal.name} --explanations'`,
      );
    },
    mayExplain(principal) {
      return principal?.kind !== "service" || principal.explanations;
    },
    recordRefusal(ctx, code, message) {
      options.onRefused?.(ctx, code, message);
    },
  };
}
