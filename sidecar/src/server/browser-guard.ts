/**
 * Browser safety for the HTTP listener: only the extension's origins and the sidecar's own origin
 * may call from a browser, and the Host header must name this listener (against DNS rebinding).
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Headers a browser may send on a Connect or gRPC-Web call. */
const ALLOWED_HEADERS =
  "authorization, content-type, connect-protocol-version, connect-timeout-ms, x-grpc-web, x-user-agent, grpc-timeout, x-request-id";

/** What the guard accepts. */
export interface BrowserGuardOptions {
  /** `chrome-extension://<id>` origins allowed besides the sidecar's own. */
  readonly extensionOrigins: readonly string[];
  /** Host headers this listener answers to, e.g. `127.0.0.1:8080`, `localhost:8080`. */
  readonly hosts: readonly string[];
  /** Called for every refusal, so it is audited like a refused RPC. */
  readonly onRefused?: ((refusal: BrowserRefusal) => void) | undefined;
}

/** A request the guard answered 403 (foreign origin) or 421 (foreign Host) before any RPC. */
export interface BrowserRefusal {
  readonly status: 403 | 421;
  readonly path: string;
  readonly host: string;
  readonly origin: string | undefined;
  readonly message: string;
}

/** Decides, per request, whether it may proceed; writes the refusal or the CORS answer itself. */
export function createBrowserGuard(options: BrowserGuardOptions) {
  const hosts = new Set(options.hosts.map((h) => h.toLowerCase()));
  const ownOrigins = new Set([...hosts].map((h) => `http://${h}`));
  const extensionOrigins = new Set(options.extensionOrigins);

  /** Returns true when the request may go on; otherwise it has been answered. */
  return function admit(req: IncomingMessage, res: ServerResponse): boolean {
    const host = (req.headers.host ?? "").toLowerCase();
    const origin = req.headers.origin;
    const refuse = (status: 403 | 421, message: string) => {
      options.onRefused?.({ status, path: req.url ?? "", host, origin, message });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: status === 421 ? "invalid_argument" : "permission_denied", message }));
      return false;
    };
    if (!hosts.has(host)) {
      return refuse(421, `host '${host}' is not this sidecar; use one of ${[...hosts].join(", ")}`);
    }
    if (origin !== undefined && !ownOrigins.has(origin) && !extensionOrigins.has(origin)) {
      return refuse(
        403,
        `origin '${origin}' may not call this sidecar; add its extension id to the allowed origins`,
      );
    }
    if (origin !== undefined && extensionOrigins.has(origin)) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "origin");
      res.setHeader(
        "access-control-expose-headers",
        "grpc-status, grpc-message, connect-content-encoding, x-request-id",
      );
      if (req.method === "OPTIONS") {
        res.writeHead(204, {
          "access-control-allow-methods": "POST, GET",
          "access-control-allow-headers": ALLOWED_HEADERS,
          "access-control-max-age": "600",
        });
        res.end();
        return false;
      }
    }
    return true;
  };
}
