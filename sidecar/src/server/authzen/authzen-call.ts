/** What every AuthZEN handler works with: the caller, the tenant asked about, the engine. */
import type { Principal } from "../../admin/principal.js";
import type { PolicyEngine } from "../../policy/policy-engine.js";
import type { Authenticator } from "../auth.js";
import type { PolicyServiceDeps } from "../policy-service.js";
import type { RpcContext } from "../rpc.js";

/** One authenticated AuthZEN call. */
export interface AuthzenCall {
  readonly ctx: RpcContext;
  readonly auth: Authenticator;
  /** From the bearer token, never from the request body. */
  readonly principal: Principal;
  /** From the path (`/tenants/{tenant}/…`) or, on the bare paths, the token's tenant. */
  readonly tenantId: string;
  readonly engine: PolicyEngine;
  /** Sees each decision (metrics, the decision log), as PolicyService's. */
  readonly onDecision: PolicyServiceDeps["onDecision"];
}
