/**
 * The sidecar's settings: one options object, defaults in one frozen object, overridable by
 * environment variables and command-line flags (flags win).
 */
import { parseListenAddress } from "./server/listen-address.js";

/** The extension id fixed by the `key` in extension/manifest.json. */
export const PINNED_EXTENSION_ID = "ddkjhkkhfknmdkdcgfacbpfaehejddpa";

/** Everything `rolecall serve` can be told. */
export interface SidecarOptions {
  /** SQLite policy store. Default `./data/rolecall.db` (env `ROLECALL_DB`). */
  readonly db: string;
  /**
   * Directory of the catalog's `<system>.json` files. Default: the bundled `catalog/data`
   * (env `ROLECALL_CATALOG`). A catalog that fails validation refuses the start.
   */
  readonly catalogDir: string | undefined;
  /** gRPC listener, `host:port` or `unix:/path`. Default `127.0.0.1:50051` (env `ROLECALL_GRPC_ADDR`). */
  readonly grpcAddress: string;
  /** HTTP listener (Connect, demo, metrics). Default `127.0.0.1:8080` (env `ROLECALL_HTTP_ADDR`). */
  readonly httpAddress: string;
  /** Bootstrap admin token. Default: generated on first start into `<db>.admin-token` (env `ROLECALL_ADMIN_TOKEN`). */
  readonly adminToken: string | undefined;
  /** How often the sync watcher polls `PRAGMA data_version`. Default 20 ms. */
  readonly pollIntervalMs: number;
  /** With no successful poll for this long, health turns NOT_SERVING and checks fail closed. Default 5 min. */
  readonly maxStalenessMs: number;
  /** Bound of the per-user effective-set cache. Default 100,000 users. */
  readonly maxCachedUsers: number;
  /** Largest request body on either listener. Default 1 MiB. */
  readonly maxMessageBytes: number;
  /** Most items in one CheckPermissions call. Default 1,000. */
  readonly maxBatchItems: number;
  /**
   * Maximum deadline: the longest a call is held (waiting for its min_revision) on either listener,
   * and the longest timeout a caller may ask for on the HTTP listener. Default 30 s.
   */
  readonly maxTimeoutMs: number;
  /** Concurrent HTTP/2 streams per gRPC connection. Default 100. */
  readonly maxConcurrentStreams: number;
  /** A gRPC connection with no call for this long is closed (clients reconnect on their next call). Default 5 min. */
  readonly maxConnectionIdleMs: number;
  /** How long shutdown waits for in-flight calls. Default 5 s. */
  readonly shutdownGraceMs: number;
  /** Extension origins allowed on the HTTP listener. Default: the pinned extension id only. */
  readonly extensionOrigins: readonly string[];
  /** Whether PolicyService and CatalogService on the gRPC listener need a token. Default false. */
  readonly grpcRequireToken: boolean;
  /** TLS for the gRPC listener. Default none (cleartext on loopback). */
  readonly tls: { readonly cert: string; readonly key: string; readonly clientCa?: string } | undefined;
  /** Build the demo tenant when the database is new. Default true. */
  readonly demo: boolean;
  /** pino level. Default `info` (env `ROLECALL_LOG_LEVEL`). */
  readonly logLevel: string;
  /** Fraction of decisions written to the decision log, 0 disables it. Default 0. */
  readonly decisionLogSampleRate: number;
}

/** Defaults of every option. */
export const DEFAULT_OPTIONS: Readonly<SidecarOptions> = Object.freeze({
  db: "./data/rolecall.db",
  catalogDir: undefined,
  grpcAddress: "127.0.0.1:50051",
  httpAddress: "127.0.0.1:8080",
  adminToken: undefined,
  pollIntervalMs: 20,
  maxStalenessMs: 5 * 60_000,
  maxCachedUsers: 100_000,
  maxMessageBytes: 1024 * 1024,
  maxBatchItems: 1000,
  maxTimeoutMs: 30_000,
  maxConcurrentStreams: 100,
  maxConnectionIdleMs: 5 * 60_000,
  shutdownGraceMs: 5_000,
  extensionOrigins: Object.freeze([`chrome-extension://${PINNED_EXTENSION_ID}`]),
  grpcRequireToken: false,
  tls: undefined,
  demo: true,
  logLevel: "info",
  decisionLogSampleRate: 0,
});

/** Applies the `ROLECALL_*` environment variables over the defaults. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): Partial<SidecarOptions> {
  const out: { -readonly [K in keyof SidecarOptions]?: SidecarOptions[K] } = {};
  if (env.ROLECALL_DB) out.db = env.ROLECALL_DB;
  if (env.ROLECALL_CATALOG) out.catalogDir = env.ROLECALL_CATALOG;
  if (env.ROLECALL_GRPC_ADDR) out.grpcAddress = env.ROLECALL_GRPC_ADDR;
  if (env.ROLECALL_HTTP_ADDR) out.httpAddress = env.ROLECALL_HTTP_ADDR;
  if (env.ROLECALL_ADMIN_TOKEN) out.adminToken = env.ROLECALL_ADMIN_TOKEN;
  if (env.ROLECALL_LOG_LEVEL) out.logLevel = env.ROLECALL_LOG_LEVEL;
  if (env.ROLECALL_EXTENSION_ORIGINS) {
    out.extensionOrigins = env.ROLECALL_EXTENSION_ORIGINS.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }
  return out;
}

const MAX_INT32 = 2_147_483_647;

/**
 * Checks numeric bounds, throwing a TypeError that names the option — as `nameOf` calls it (the
 * CLI names its flag).
 */
export function validateOptions(
  options: SidecarOptions,
  nameOf: (key: keyof SidecarOptions) => string = (key) => `option ${key}`,
): SidecarOptions {
  const positive: (keyof SidecarOptions)[] = [
    "pollIntervalMs",
    "maxStalenessMs",
    "maxCachedUsers",
    "maxMessageBytes",
    "maxBatchItems",
    "maxTimeoutMs",
    "maxConcurrentStreams",
    "maxConnectionIdleMs",
    "shutdownGraceMs",
  ];
  for (const key of positive) {
    const value = options[key];
    // Node runs a longer setTimeout after 1 ms, and grpc-js takes sizes and counts as int32.
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > MAX_INT32) {
      throw new TypeError(
        `${nameOf(key)} must be a whole number from 1 to ${MAX_INT32}, got ${String(value)}`,
      );
    }
  }
  if (!(options.decisionLogSampleRate >= 0 && options.decisionLogSampleRate <= 1)) {
    throw new TypeError(
      `${nameOf("decisionLogSampleRate")} must be between 0 and 1, got ${options.decisionLogSampleRate}`,
    );
  }
  // Services on the gRPC listener are trusted without a token only because they share the host.
  const grpc = parseListenAddress(options.grpcAddress, "--grpc-addr");
  const loopback = ["127.0.0.1", "::1", "localhost"];
  if (
    grpc.kind === "tcp" &&
    !loopback.includes(grpc.host) &&
    !options.grpcRequireToken &&
    !options.tls?.clientCa
  ) {
    throw new TypeError(
      `--grpc-addr ${options.grpcAddress} is reachable from other hosts, where anyone could read decisions without a token; listen on loopback or a unix socket, or add --grpc-require-token or mutual TLS (--tls-client-ca)`,
    );
  }
  for (const origin of options.extensionOrigins) {
    if (!/^chrome-extension:\/\/[a-p]{32}$/.test(origin)) {
      throw new TypeError(`extension origin '${origin}' is not chrome-extension://<32 letters a-p>`);
    }
  }
  return options;
}
