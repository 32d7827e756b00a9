/**
 * The sidecar's settings: one options object, defaults in one frozen object, overridable by
 * environment variables and command-line flags (flags win). All of it is derived from the option
 * table in serve-options.ts.
 */

import { type OptionValue, SERVE_OPTION_ROWS, SERVE_OPTIONS, type ServeOptionKey } from "./serve-options.js";
import { parseListenAddress } from "./server/listen-address.js";

export { PINNED_EXTENSION_ID } from "./serve-options.js";

/** Everything `rolecall serve` can be told: one field per row of `SERVE_OPTIONS`. */
export type SidecarOptions = {
  readonly [K in ServeOptionKey]: OptionValue<(typeof SERVE_OPTIONS)[K]>;
};

/** Defaults of every option. */
export const DEFAULT_OPTIONS: Readonly<SidecarOptions> = Object.freeze(
  // Object.fromEntries cannot know that the keys are exactly the table's.
  Object.fromEntries(SERVE_OPTION_ROWS.map(([key, row]) => [key, row.default])) as SidecarOptions,
);

/** Applies the `ROLECALL_*` environment variables over the defaults. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): Partial<SidecarOptions> {
  const out: Partial<Record<ServeOptionKey, unknown>> = {};
  for (const [key, row] of SERVE_OPTION_ROWS) {
    const text = row.env === undefined ? undefined : env[row.env];
    if (text && row.fromEnv) out[key] = row.fromEnv(text);
  }
  return out as Partial<SidecarOptions>;
}

/**
 * Checks each option's bounds and the rules across options, throwing a TypeError that names the
 * option as `nameOf` calls it (the CLI names its flag). Listen addresses are parsed by whoever
 * binds them (see `checkListenAddresses`).
 */
export function validateOptions(
  options: SidecarOptions,
  nameOf: (key: keyof SidecarOptions) => string = (key) => `option ${key}`,
): SidecarOptions {
  for (const [key, row] of SERVE_OPTION_ROWS) {
    if (row.kind !== "address") row.check(options[key], nameOf(key));
  }
  // Services on the gRPC listener are trusted without a token only because they share the host.
  const grpc = parseListenAddress(options.grpcAddress, SERVE_OPTIONS.grpcAddress.flag);
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
  return options;
}

/** Throws, naming the option as `nameOf` calls it, when a listener's address cannot be parsed. */
export function checkListenAddresses(
  options: SidecarOptions,
  nameOf: (key: keyof SidecarOptions) => string = (key) => `option ${key}`,
): void {
  for (const [key, row] of SERVE_OPTION_ROWS) {
    if (row.kind === "address") row.check(options[key], nameOf(key));
  }
}
