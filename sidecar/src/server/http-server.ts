/**
 * The HTTP/1.1 listener for browsers and humans: Connect (JSON and binary) and gRPC-Web for the
 * extension and the demo app, plus plain routes (metrics, health, demo pages). HTTP/1.1 because
 * connect-node's cleartext HTTP/2 does not answer HTTP/1.1 clients (docs/toolchain.md).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { type BrowserRefusal, createBrowserGuard } from "./browser-guard.js";
import { addConnectService } from "./connect-adapter.js";
import { withParseErrorsAsInvalidArgument } from "./connect-parse-errors.js";
import type { DoneHook, ErrorHook } from "./grpc-adapter.js";
import { formatHostPort, parseListenAddress } from "./listen-address.js";
import type { ServiceBinding } from "./rpc.js";

/** A plain route: returns false when it does not handle the path. */
export type PlainRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

/** Options of the HTTP listener. */
export interface HttpListenerOptions {
  /** `host:port` or `unix:/path`. */
  readonly address: string;
  readonly bindings: readonly ServiceBinding[];
  readonly routes: readonly PlainRoute[];
  /** `chrome-extension://<id>` origins allowed to call. */
  readonly extensionOrigins: readonly string[];
  /** Largest request body accepted. */
  readonly maxMessageBytes: number;
  /** Longest deadline a caller may ask for. */
  readonly maxTimeoutMs: number;
  readonly onError: ErrorHook;
  /** Observes each answered unary call. */
  readonly onDone?: DoneHook;
  /** Called for every request the browser guard refuses (foreign Origin or Host). */
  readonly onRefused?: (refusal: BrowserRefusal) => void;
}

/** A running HTTP listener. */
export interface HttpListener {
  /** `host:port` (real port) or `unix:/path`. */
  readonly address: string;
  /** Base URL for people, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  close(graceMs: number): Promise<void>;
}

function hostsFor(host: string, port: number): string[] {
  const names = new Set([formatHostPort(host, port)]);
  if (["127.0.0.1", "localhost", "::1"].includes(host)) {
    for (const h of ["127.0.0.1", "localhost", "::1"]) names.add(formatHostPort(h, port));
  }
  return [...names];
}

/** Starts the HTTP listener. */
export async function startHttpListener(options: HttpListenerOptions): Promise<HttpListener> {
  const parsed = parseListenAddress(options.address, "HTTP address");
  // connectNodeAdapter's few lines, with each handler wrapped so that an unparsable binary body
  // answers INVALID_ARGUMENT (connect-parse-errors.ts).
  const router = createConnectRouter({
    readMaxBytes: options.maxMessageBytes,
    maxTimeoutMs: options.maxTimeoutMs,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  for (const binding of options.bindings) addConnectService(router, binding, options.onError, options.onDone);
  const handlers = new Map<string, UniversalHandler>(
    router.handlers.map((h) => [h.requestPath, withParseErrorsAsInvalidArgument(h)]),
  );
  const connect = (req: IncomingMessage, res: ServerResponse) => {
    const handler = handlers.get(req.url?.split("?", 2)[0] ?? "");
    if (!handler) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
      return;
    }
    handler(universalRequestFromNodeRequest(req, res, undefined, undefined))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason: unknown) => {
        // The caller went away mid-answer: nothing to tell anyone.
        if (ConnectError.from(reason).code === Code.Aborted) return;
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end();
      });
  };
  let admit: ReturnType<typeof createBrowserGuard> | undefined;
  // Node enforces headersTimeout only when it sweeps connections, every 30 s by default: a
  // slowloris socket would live up to 40 s instead of 10. Sweep every second. A request without
  // a Host header reaches the browser guard (421, audited) instead of Node's silent 400.
  const server: Server = createServer(
    { connectionsCheckingInterval: 1_000, requireHostHeader: false },
    async (req, res) => {
      try {
        // Until the guard knows its port nothing is admitted: fail closed, never open.
        if (!admit) {
          res.writeHead(503).end();
          return;
        }
        if (!admit(req, res)) return;
        const url = new URL(req.url ?? "/", "http://sidecar");
        for (const route of options.routes) if (await route(req, res, url)) return;
        connect(req, res);
      } catch {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal error\n");
      }
    },
  );
  server.headersTimeout = 10_000; // slow clients must not hold sockets forever
  server.requestTimeout = options.maxTimeoutMs + 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (parsed.kind === "unix") server.listen(parsed.path, resolve);
    else server.listen(parsed.port, parsed.host, resolve);
  });
  const bound = server.address();
  const port = typeof bound === "object" && bound ? (bound as AddressInfo).port : 0;
  const hosts = parsed.kind === "tcp" ? hostsFor(parsed.host, port) : ["localhost"];
  admit = createBrowserGuard({
    extensionOrigins: options.extensionOrigins,
    hosts,
    onRefused: options.onRefused,
  });
  const address = parsed.kind === "unix" ? `unix:${parsed.path}` : formatHostPort(parsed.host, port);
  return {
    address,
    url: `http://${parsed.kind === "unix" ? "localhost" : formatHostPort(parsed.host, port)}`,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
