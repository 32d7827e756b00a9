/** `rolecall serve`: runs the sidecar until SIGINT or SIGTERM. */
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { DEFAULT_OPTIONS, optionsFromEnv, type SidecarOptions, validateOptions } from "../config.js";
import { createLogger } from "../logger.js";
import { parseListenAddress } from "../server/listen-address.js";
import { startSidecar } from "../sidecar.js";
import { UsageError } from "./usage-error.js";

/** Help text of `rolecall serve`. */
export const SERVE_HELP = `Usage: rolecall serve [options]

Runs the sidecar: gRPC for services, Connect + demo + metrics over HTTP.
Builds the demo tenant in a new database.

Options (environment variable in brackets):
  --db PATH                SQLite policy store [ROLECALL_DB] (default ${DEFAULT_OPTIONS.db})
  --catalog DIR            catalog data files <system>.json [ROLECALL_CATALOG] (default: the bundled catalog/data)
  --grpc-addr ADDR         gRPC listener, HOST:PORT or unix:/PATH [ROLECALL_GRPC_ADDR] (default ${DEFAULT_OPTIONS.grpcAddress})
  --http-addr ADDR         HTTP listener [ROLECALL_HTTP_ADDR] (default ${DEFAULT_OPTIONS.httpAddress})
  --admin-token TOKEN      bootstrap admin token [ROLECALL_ADMIN_TOKEN] (default: generated into <db>.admin-token)
  --poll-ms N              store poll interval (default ${DEFAULT_OPTIONS.pollIntervalMs})
  --max-staleness-ms N     fail closed after this long without a successful poll (default ${DEFAULT_OPTIONS.maxStalenessMs})
  --max-cached-users N     effective-set cache bound (default ${DEFAULT_OPTIONS.maxCachedUsers})
  --max-message-bytes N    largest request (default ${DEFAULT_OPTIONS.maxMessageBytes})
  --max-batch N            most items per CheckPermissions (default ${DEFAULT_OPTIONS.maxBatchItems})
  --max-timeout-ms N       maximum deadline: longest a call waits for min_revision (default ${DEFAULT_OPTIONS.maxTimeoutMs})
  --max-streams N          concurrent calls per gRPC connection (default ${DEFAULT_OPTIONS.maxConcurrentStreams})
  --max-idle-ms N          close a gRPC connection idle this long; clients reconnect (default ${DEFAULT_OPTIONS.maxConnectionIdleMs})
  --shutdown-grace-ms N    on SIGTERM, how long in-flight calls may finish (default ${DEFAULT_OPTIONS.shutdownGraceMs})
  --extension-origin O     allowed chrome-extension:// origin, repeatable [ROLECALL_EXTENSION_ORIGINS, comma-separated]
  --grpc-require-token     PolicyService/CatalogService on gRPC need a token too
  --tls-cert F --tls-key F [--tls-client-ca F]   TLS (and mutual TLS) for gRPC
  --no-demo                do not build the demo tenant in a new database
  --decision-log-rate R    fraction of decisions logged, 0..1 (default 0)
  --log-level LEVEL        trace, debug, info, warn, error [ROLECALL_LOG_LEVEL] (default info)
  -h, --help               this help
`;

type NumericOption =
  | "pollIntervalMs"
  | "maxStalenessMs"
  | "maxCachedUsers"
  | "maxMessageBytes"
  | "maxBatchItems"
  | "maxTimeoutMs"
  | "maxConcurrentStreams"
  | "maxConnectionIdleMs"
  | "shutdownGraceMs";

/** The flag of each whole-number option, so a value out of bounds is reported by the flag typed. */
const NUMERIC_FLAGS: Readonly<Record<NumericOption, string>> = {
  pollIntervalMs: "--poll-ms",
  maxStalenessMs: "--max-staleness-ms",
  maxCachedUsers: "--max-cached-users",
  maxMessageBytes: "--max-message-bytes",
  maxBatchItems: "--max-batch",
  maxTimeoutMs: "--max-timeout-ms",
  maxConcurrentStreams: "--max-streams",
  maxConnectionIdleMs: "--max-idle-ms",
  shutdownGraceMs: "--shutdown-grace-ms",
};

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} needs a whole number, got '${value}'`);
  return n;
}

/** Parses serve's flags over the environment and defaults. */
export function parseServeOptions(argv: readonly string[], env: NodeJS.ProcessEnv): SidecarOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      db: { type: "string" },
      catalog: { type: "string" },
      "grpc-addr": { type: "string" },
      "http-addr": { type: "string" },
      "admin-token": { type: "string" },
      "poll-ms": { type: "string" },
      "max-staleness-ms": { type: "string" },
      "max-cached-users": { type: "string" },
      "max-message-bytes": { type: "string" },
      "max-batch": { type: "string" },
      "max-timeout-ms": { type: "string" },
      "max-streams": { type: "string" },
      "max-idle-ms": { type: "string" },
      "shutdown-grace-ms": { type: "string" },
      "extension-origin": { type: "string", multiple: true },
      "grpc-require-token": { type: "boolean" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-client-ca": { type: "string" },
      "no-demo": { type: "boolean" },
      "decision-log-rate": { type: "string" },
      "log-level": { type: "string" },
    },
  });
  const flags: { -readonly [K in keyof SidecarOptions]?: SidecarOptions[K] } = {};
  const set = <K extends keyof SidecarOptions>(key: K, value: SidecarOptions[K] | undefined) => {
    if (value !== undefined) flags[key] = value;
  };
  set("db", values.db);
  set("catalogDir", values.catalog);
  set("grpcAddress", values["grpc-addr"]);
  set("httpAddress", values["http-addr"]);
  set("adminToken", values["admin-token"]);
  for (const [key, flag] of Object.entries(NUMERIC_FLAGS) as [NumericOption, string][])
    set(key, integer(values[flag.slice(2) as keyof typeof values] as string | undefined, flag));
  set("extensionOrigins", values["extension-origin"]);
  set("grpcRequireToken", values["grpc-require-token"]);
  set("logLevel", values["log-level"]);
  if (values["no-demo"]) flags.demo = false;
  if (values["decision-log-rate"] !== undefined)
    flags.decisionLogSampleRate = Number(values["decision-log-rate"]);
  if (values["tls-cert"] || values["tls-key"]) {
    if (!values["tls-cert"] || !values["tls-key"])
      throw new UsageError("--tls-cert and --tls-key go together");
    flags.tls = {
      cert: values["tls-cert"],
      key: values["tls-key"],
      ...(values["tls-client-ca"] ? { clientCa: values["tls-client-ca"] } : {}),
    };
  }
  let options: SidecarOptions;
  try {
    options = validateOptions({ ...DEFAULT_OPTIONS, ...optionsFromEnv(env), ...flags }, (key) =>
      key === "decisionLogSampleRate"
        ? "--decision-log-rate"
        : (NUMERIC_FLAGS[key as NumericOption] ?? `option ${key}`),
    );
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // Checked here, not when binding, so a typo is a usage error (exit 2) naming the flag, found
  // before the store is opened or the catalog imported.
  checkAddress(options.grpcAddress, "--grpc-addr [ROLECALL_GRPC_ADDR]");
  checkAddress(options.httpAddress, "--http-addr [ROLECALL_HTTP_ADDR]");
  return options;
}

function checkAddress(value: string, flag: string): void {
  try {
    parseListenAddress(value, flag);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * V8 lets the old generation grow to up to 4x its live size before a full collection; for a
 * sidecar whose live heap is ~30 MB that left resident memory swinging between ~195 and ~230 MiB
 * in the soak. Letting it only double keeps it flat (~146 MiB) with more, smaller full
 * collections (1.5x gave ~139 MiB but cost more CPU under full load). A --heap-growing-percent
 * given to node itself wins.
 */
function limitHeapGrowth(): void {
  if (process.execArgv.some((arg) => arg.startsWith("--heap-growing-percent"))) return;
  setFlagsFromString("--heap-growing-percent=100");
}

/** Runs `rolecall serve`; resolves when the sidecar has stopped. */
export async function serve(argv: readonly string[]): Promise<number> {
  const options = parseServeOptions(argv, process.env);
  limitHeapGrowth();
  const logger = createLogger(options.logLevel);
  const started = performance.now();
  const sidecar = await startSidecar(options, logger);
  const lines = [
    `rolecall is serving (ready in ${Math.round(performance.now() - started)} ms)`,
    `  gRPC:      ${sidecar.grpcAddress}`,
    `  HTTP:      ${sidecar.httpUrl}  (Connect, /metrics, /healthz)`,
    `  demo:      ${sidecar.httpUrl}/demo/?as=demo/dave`,
    `  database:  ${options.db}`,
  ];
  if (sidecar.adminTokenFile) lines.push(`  admin token written to ${sidecar.adminTokenFile} (mode 0600)`);
  lines.push(
    "  extension: npm run build, then chrome://extensions → Developer mode → Load unpacked → extension/dist",
    "Stop with Ctrl-C.",
  );
  process.stdout.write(`${lines.join("\n")}\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting now");
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, "shutting down");
      sidecar.close().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, "shutdown failed");
          resolve(1);
        },
      );
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
