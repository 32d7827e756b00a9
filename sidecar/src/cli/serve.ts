/** `rolecall serve`: runs the sidecar until SIGINT or SIGTERM. */
import { parseArgs } from "node:util";
import {
  checkListenAddresses,
  DEFAULT_OPTIONS,
  optionsFromEnv,
  type SidecarOptions,
  validateOptions,
} from "../config.js";
import { createLogger } from "../logger.js";
import type { FlagSpec } from "../option-kinds.js";
import { allowYoungGenerationGrowth } from "../serve-heap.js";
import { serveOptionsHelp } from "../serve-option-docs.js";
import { SERVE_OPTION_ROWS, SERVE_OPTIONS } from "../serve-options.js";
import { startSidecar } from "../sidecar.js";
import { startTracing } from "../tracing.js";
import { copyRefusal, readCopyMarker } from "./local-store.js";
import { UsageError } from "./usage-error.js";

/** Help text of `rolecall serve`. */
export const SERVE_HELP = `Usage: rolecall serve [options]

Runs the sidecar: gRPC for services, Connect + demo + metrics over HTTP.
Builds the demo tenant in a new database.

Options (environment variable in brackets):
${serveOptionsHelp()}`;

/** `parseArgs` settings of every flag in the option table. */
const SERVE_FLAGS: Record<string, FlagSpec> = Object.fromEntries(
  SERVE_OPTION_ROWS.flatMap(([, row]) => Object.entries(row.flags)),
);

/** `--http-addr [ROLECALL_HTTP_ADDR]`: where a value may have come from. */
function flagAndVariable(key: keyof SidecarOptions): string {
  const { flag, env } = SERVE_OPTIONS[key];
  return env ? `${flag} [${env}]` : flag;
}

/** Parses serve's flags over the environment and defaults. */
export function parseServeOptions(argv: readonly string[], env: NodeJS.ProcessEnv): SidecarOptions {
  const { values } = parseArgs({ args: [...argv], strict: true, options: SERVE_FLAGS });
  try {
    const flags: Partial<Record<keyof SidecarOptions, unknown>> = {};
    for (const [key, row] of SERVE_OPTION_ROWS) {
      const value = row.fromFlags(values);
      if (value !== undefined) flags[key] = value;
    }
    const options = validateOptions(
      { ...DEFAULT_OPTIONS, ...optionsFromEnv(env), ...flags } as SidecarOptions,
      (key) => SERVE_OPTIONS[key].flag,
    );
    // Checked here, not when binding, so a typo is a usage error (exit 2) naming the flag, found
    // before the store is opened or the catalog imported.
    checkListenAddresses(options, flagAndVariable);
    return options;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Runs `rolecall serve`; resolves when the sidecar has stopped. */
export async function serve(argv: readonly string[]): Promise<number> {
  const options = parseServeOptions(argv, process.env);
  // A follower's copy served on its own would never move again, and its writes reach no one.
  const marker = options.primary === undefined ? readCopyMarker(options.db) : undefined;
  if (marker !== undefined) throw copyRefusal(marker);
  const logger = createLogger(options.logLevel);
  const started = performance.now();
  // Before the services are bound: the RPC wrappers decide then whether to trace.
  const tracing = await startTracing(options.otel, process.env, logger);
  const sidecar = await startSidecar(options, logger);
  allowYoungGenerationGrowth();
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
  // The handlers go in before the banner: whoever waits for it may signal at once, and a pipe
  // write is synchronous, so printing first would leave a moment where SIGTERM kills outright.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting now");
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, "shutting down");
      sidecar
        .close()
        // Flushes the spans still batched (no-op when tracing is off).
        .then(() => tracing?.shutdown())
        .then(
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
  process.stdout.write(`${lines.join("\n")}\n`);
  return stopped;
}
