/**
 * Every option of `rolecall serve`, in one table: flag, environment variable, default, bounds
 * and help. The parser, `rolecall serve --help`, `SidecarOptions`, `DEFAULT_OPTIONS` and the
 * README's Configuration table are all produced from it; an option declared anywhere else is a
 * bug. After editing it, run `npm run docs:serve-options` to update the README.
 */
import {
  extensionOrigins,
  fraction,
  httpUrl,
  listenAddress,
  optionalText,
  postgresUrl,
  type ServeOption,
  text,
  tlsFiles,
  toggle,
  wholeNumber,
} from "./option-kinds.js";

/** The extension id fixed by the `key` in extension/manifest.json. */
export const PINNED_EXTENSION_ID = "ddkjhkkhfknmdkdcgfacbpfaehejddpa";

/** The options of `rolecall serve`, in the order help and the README list them. */
export const SERVE_OPTIONS = {
  db: text({
    flag: "--db",
    value: "PATH",
    env: "ROLECALL_DB",
    default: "./data/rolecall.db",
    accepts: "file path",
    help: "SQLite policy store",
    details: "created when missing, with the demo tenant unless --no-demo",
  }),
  catalogDir: optionalText({
    flag: "--catalog",
    value: "DIR",
    env: "ROLECALL_CATALOG",
    unset: "the bundled catalog/data",
    accepts: "directory",
    help: "catalog data files <system>.json",
    details: "a catalog that fails validation refuses the start",
  }),
  grpcAddress: listenAddress({
    flag: "--grpc-addr",
    env: "ROLECALL_GRPC_ADDR",
    default: "127.0.0.1:50051",
    help: "gRPC listener, HOST:PORT or unix:/PATH",
    details:
      "a unix socket is created mode 0600; beyond loopback it needs --grpc-require-token or mutual TLS",
  }),
  httpAddress: listenAddress({
    flag: "--http-addr",
    env: "ROLECALL_HTTP_ADDR",
    default: "127.0.0.1:8080",
    help: "HTTP listener: Connect, demo, /metrics, /healthz",
  }),
  adminToken: optionalText({
    flag: "--admin-token",
    value: "TOKEN",
    env: "ROLECALL_ADMIN_TOKEN",
    unset: "generated into <db>.admin-token",
    help: "bootstrap admin token",
    details:
      "when unset, one is generated on first start into <db>.admin-token (mode 0600) and its path printed",
  }),
  primary: postgresUrl({
    flag: "--primary",
    value: "URL",
    env: "ROLECALL_PRIMARY",
    unset: "none: the SQLite file is the store",
    accepts: "postgresql://… URL",
    help: "PostgreSQL store of record for a fleet; --db is then this host's copy",
    details:
      "admin writes commit there; the sidecar follows it (LISTEN, and a poll) into --db and serves the copy when it is down",
  }),
  primaryPollMs: wholeNumber({
    flag: "--primary-poll-ms",
    default: 1_000,
    help: "with --primary: how often to read it without a notification, ms",
    details: "the safety net for lost notifications; a follower of a read replica converges by it alone",
  }),
  pollIntervalMs: wholeNumber({
    flag: "--poll-ms",
    default: 20,
    help: "store poll interval, ms (PRAGMA data_version)",
    details:
      "with --primary at least 250: the follower wakes the reader as soon as it has copied a revision, the poll is only a safety net",
  }),
  maxStalenessMs: wholeNumber({
    flag: "--max-staleness-ms",
    default: 5 * 60_000,
    help: "fail closed after this long without a successful poll, ms",
    details: "health turns NOT_SERVING and PolicyService answers UNAVAILABLE until a poll succeeds",
  }),
  maxCachedUsers: wholeNumber({
    flag: "--max-cached-users",
    default: 100_000,
    help: "effective-set cache bound, users",
  }),
  maxMessageBytes: wholeNumber({
    flag: "--max-message-bytes",
    default: 1024 * 1024,
    help: "largest request on either listener, bytes",
  }),
  maxBatchItems: wholeNumber({
    flag: "--max-batch",
    default: 1000,
    help: "most items per CheckPermissions",
    details: "more are refused with RESOURCE_EXHAUSTED",
  }),
  maxTimeoutMs: wholeNumber({
    flag: "--max-timeout-ms",
    default: 30_000,
    help: "maximum deadline: longest a call waits for min_revision, ms",
    details: "on either listener; also the longest timeout accepted over HTTP",
  }),
  maxConcurrentStreams: wholeNumber({
    flag: "--max-streams",
    default: 100,
    help: "concurrent calls per gRPC connection",
  }),
  maxConnectionIdleMs: wholeNumber({
    flag: "--max-idle-ms",
    default: 5 * 60_000,
    help: "close a gRPC connection idle this long (GOAWAY), ms; clients reconnect",
  }),
  shutdownGraceMs: wholeNumber({
    flag: "--shutdown-grace-ms",
    default: 5_000,
    help: "on SIGINT/SIGTERM, how long in-flight calls may finish, ms",
  }),
  extensionOrigins: extensionOrigins({
    flag: "--extension-origin",
    env: "ROLECALL_EXTENSION_ORIGINS",
    default: [`chrome-extension://${PINNED_EXTENSION_ID}`],
    help: "extension origin allowed on the HTTP listener, repeatable",
    details: "the default is the extension this repository builds",
  }),
  grpcRequireToken: toggle({
    flag: "--grpc-require-token",
    default: false,
    help: "PolicyService/CatalogService on gRPC need a token too",
  }),
  tls: tlsFiles({
    flag: "--tls-cert",
    key: "--tls-key",
    clientCa: "--tls-client-ca",
    help: "TLS (and mutual TLS) for gRPC",
    details: "with --tls-client-ca, clients must present a certificate it signed",
  }),
  demo: toggle({
    flag: "--no-demo",
    default: true,
    help: "do not build the demo tenant in a new database, nor serve the demo pages",
  }),
  decisionLogSampleRate: fraction({
    flag: "--decision-log-rate",
    default: 0,
    help: "fraction of decisions logged, 0..1",
    details: "0 turns the decision log off",
  }),
  historyDays: wholeNumber({
    flag: "--history-days",
    default: 90,
    help: "days of history kept for at_revision/at_time and ListAccessChanges",
    details:
      "older audit rows are pruned; older asks fail FAILED_PRECONDITION naming the oldest revision kept",
  }),
  otel: httpUrl({
    flag: "--otel",
    value: "URL",
    env: "OTEL_EXPORTER_OTLP_ENDPOINT",
    unset: "tracing off (nothing of OpenTelemetry is loaded)",
    help: "export OpenTelemetry spans over OTLP/HTTP to this collector base URL (…/v1/traces)",
    details:
      "the other OTEL_* variables apply (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER, …); a caller's traceparent continues its trace",
  }),
  logLevel: text({
    flag: "--log-level",
    value: "LEVEL",
    env: "ROLECALL_LOG_LEVEL",
    default: "info",
    accepts: "a pino level",
    help: "log level: trace, debug, info, warn, error",
    details: "JSON lines on stdout",
  }),
} as const;

/** The value type of an option. */
export type OptionValue<O> = O extends ServeOption<infer T> ? T : never;

/** The key of an option in `SidecarOptions`. */
export type ServeOptionKey = keyof typeof SERVE_OPTIONS;

/** The table's rows in order, each with its key. */
export const SERVE_OPTION_ROWS: readonly (readonly [ServeOptionKey, ServeOption<unknown>])[] = Object.entries(
  SERVE_OPTIONS,
) as [ServeOptionKey, ServeOption<unknown>][];
