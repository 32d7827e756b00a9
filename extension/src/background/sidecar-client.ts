/**
 * The only code that talks to the sidecar: Connect over HTTP with JSON, the token as a bearer
 * header, and failures turned into sentences a support engineer can act on.
 */
import { type Client, Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AdminService } from "../../../gen/rolecall/v1/admin_pb.js";
import { PolicyService } from "../../../gen/rolecall/v1/policy_pb.js";

/** Where the sidecar is and how to authenticate. */
export interface SidecarConnection {
  readonly sidecarUrl: string;
  /** Sent as `authorization: Bearer <token>` when not empty. */
  readonly token: string;
}

/** Clients for the services the extension uses. */
export interface SidecarClients {
  readonly policy: Client<typeof PolicyService>;
  readonly admin: Client<typeof AdminService>;
}

/** How long one call may take: a popup must not spin forever on a hung sidecar. */
export const CALL_TIMEOUT_MS = 5_000;

/** Creates clients for one connection; cheap, so made per request and always with current settings. */
export function createSidecarClients(connection: SidecarConnection): SidecarClients {
  const auth: Interceptor = (next) => (req) => {
    if (connection.token !== "") req.header.set("authorization", `Bearer ${connection.token}`);
    return next(req);
  };
  const transport = createConnectTransport({
    baseUrl: connection.sidecarUrl,
    useBinaryFormat: false,
    interceptors: [auth],
    defaultTimeoutMs: CALL_TIMEOUT_MS,
  });
  return { policy: createClient(PolicyService, transport), admin: createClient(AdminService, transport) };
}

/** Whether a failure means the sidecar could not be reached at all (down, wrong URL, blocked). */
export function isUnreachable(err: ConnectError): boolean {
  return err.cause instanceof TypeError || /failed to fetch|networkerror|load failed/i.test(err.rawMessage);
}

/** A failed call as one sentence naming what to fix. */
export function describeSidecarError(err: unknown, sidecarUrl: string): string {
  const e = ConnectError.from(err);
  if (isUnreachable(e)) {
    return `cannot reach the sidecar at ${sidecarUrl}: ${e.rawMessage} (is it running? check the URL in the extension's options)`;
  }
  switch (e.code) {
    case Code.Unauthenticated:
      return `the sidecar refused the token: ${e.rawMessage} (set a valid token in the extension's options)`;
    case Code.PermissionDenied:
      return `the sidecar at ${sidecarUrl} refused: ${e.rawMessage}`;
    case Code.DeadlineExceeded:
      return `the sidecar at ${sidecarUrl} did not answer within ${CALL_TIMEOUT_MS / 1000} s`;
    case Code.Unimplemented:
      return `the sidecar at ${sidecarUrl} does not answer this call (${e.rawMessage}); is it rolecall, and recent enough?`;
    default:
      return `the sidecar at ${sidecarUrl} answered with an error: ${Code[e.code] ?? e.code}: ${e.rawMessage}`;
  }
}
