/**
 * The kinds of value a `serve` option takes (text, listen address, whole number, fraction,
 * origin list, switch, TLS files). Each knows how to read its flag and environment variable,
 * check a value and name what it accepts; serve-options.ts lists the options themselves.
 */
import type { ParseArgsConfig } from "node:util";
import { parseListenAddress } from "./server/listen-address.js";

/** `parseArgs` settings of one flag. */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>[string];

/** What `parseArgs` returned, by flag name without the dashes. */
export type FlagValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** What an option holds; help, the README and the CLI's checks tell them apart by it. */
export type OptionKind = "text" | "address" | "whole-number" | "fraction" | "origins" | "switch" | "tls";

/** The largest whole number an option takes: timers and grpc-js sizes and counts are int32. */
export const MAX_INT32 = 2_147_483_647;

/** One `serve` option: its flag, environment variable, default, bounds and help. */
export interface ServeOption<T> {
  readonly kind: OptionKind;
  /** The flag, e.g. `--poll-ms`; usage and bound errors from the CLI name it. */
  readonly flag: string;
  /** The flag as help shows it, with its value: `--poll-ms N`. */
  readonly usage: string;
  /** The environment variable it is also read from, if any; the flag wins. */
  readonly env: string | undefined;
  /** How the variable's value is written, when it differs from the flag's (`comma-separated`). */
  readonly envFormat: string | undefined;
  /** The value when neither the flag nor the variable gives one. */
  readonly default: T;
  /** What happens when a flag whose default is `undefined` is not given, in words. */
  readonly unset: string | undefined;
  /** The values it accepts, e.g. `whole number, 1 to 2147483647`. */
  readonly accepts: string;
  /** Its line in `rolecall serve --help`. */
  readonly help: string;
  /** What the README adds after the help line, if anything. */
  readonly details: string | undefined;
  /** `parseArgs` settings of the flags it reads, by name without the dashes. */
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** The value the flags give, undefined when none was typed; throws TypeError on a malformed one. */
  fromFlags(values: FlagValues): T | undefined;
  /** The value of its environment variable (a non-empty one); only kinds that take a variable have it. */
  fromEnv?(text: string): T;
  /** Throws, naming the option `name`, when the value is out of bounds. */
  check(value: T, name: string): void;
}

/** What every row of the table states. */
interface Common {
  readonly flag: `--${string}`;
  readonly help: string;
  readonly details?: string;
}

/** A row of a kind that can also be set by an environment variable. */
interface WithEnv extends Common {
  // Ours, or a standard variable the option stands for (OpenTelemetry's endpoint).
  readonly env?: `ROLECALL_${string}` | `OTEL_${string}`;
}

/** A string flag: its placeholder in help (`PATH`, `DIR`) and what it accepts. */
interface Valued extends WithEnv {
  readonly value: string;
  readonly accepts?: string;
}

function stringFlag(values: FlagValues, flag: string): string | undefined {
  const value = values[flag.slice(2)];
  return typeof value === "string" ? value : undefined;
}

function row<T>(
  kind: OptionKind,
  spec: WithEnv,
  rest: Omit<ServeOption<T>, "kind" | "flag" | "env" | "help" | "details" | "envFormat" | "unset"> &
    Partial<Pick<ServeOption<T>, "envFormat" | "unset">>,
): ServeOption<T> {
  return {
    kind,
    flag: spec.flag,
    env: spec.env,
    help: spec.help,
    details: spec.details,
    envFormat: undefined,
    unset: undefined,
    ...rest,
  };
}

const asIs = (text: string) => text;
const noCheck = () => {};

/** A string flag, e.g. `--db PATH`. */
export function text(spec: Valued & { readonly default: string }): ServeOption<string> {
  return row("text", spec, {
    usage: `${spec.flag} ${spec.value}`,
    default: spec.default,
    accepts: spec.accepts ?? "text",
    flags: { [spec.flag.slice(2)]: { type: "string" } },
    fromFlags: (values) => stringFlag(values, spec.flag),
    fromEnv: asIs,
    check: noCheck,
  });
}

/** A string flag with no default value; `unset` says what happens without it. */
export function optionalText(spec: Valued & { readonly unset: string }): ServeOption<string | undefined> {
  return row<string | undefined>("text", spec, {
    usage: `${spec.flag} ${spec.value}`,
    default: undefined,
    unset: spec.unset,
    accepts: spec.accepts ?? "text",
    flags: { [spec.flag.slice(2)]: { type: "string" } },
    fromFlags: (values) => stringFlag(values, spec.flag),
    fromEnv: asIs,
    check: noCheck,
  });
}

/** An optional URL of the given schemes; `shape` completes "must be …" in the error. */
function optionalUrl(
  spec: Valued & { readonly unset: string },
  protocols: readonly string[],
  shape: string,
  accepts: string,
): ServeOption<string | undefined> {
  return row<string | undefined>("text", spec, {
    usage: `${spec.flag} ${spec.value}`,
    default: undefined,
    unset: spec.unset,
    accepts: spec.accepts ?? accepts,
    flags: { [spec.flag.slice(2)]: { type: "string" } },
    fromFlags: (values) => stringFlag(values, spec.flag),
    fromEnv: asIs,
    check: (value, name) => {
      if (value === undefined) return;
      let protocol = "";
      try {
        protocol = new URL(value).protocol;
      } catch {
        // reported below
      }
      if (!protocols.includes(protocol)) throw new TypeError(`${name} must be ${shape}`);
    },
  });
}

/** An optional PostgreSQL connection URL (`postgresql://user@host:port/db`). */
export function postgresUrl(spec: Valued & { readonly unset: string }): ServeOption<string | undefined> {
  return optionalUrl(
    spec,
    ["postgresql:", "postgres:"],
    "a postgresql://user@host:port/database URL",
    "postgresql://… URL",
  );
}

/** An optional http:// or https:// URL (an OTLP collector's base URL). */
export function httpUrl(spec: Valued & { readonly unset: string }): ServeOption<string | undefined> {
  return optionalUrl(
    spec,
    ["http:", "https:"],
    "an http:// or https:// URL, e.g. http://127.0.0.1:4318",
    "http(s)://… URL",
  );
}

/** A listener's address: `host:port`, `[v6]:port` or `unix:/path`. */
export function listenAddress(spec: WithEnv & { readonly default: string }): ServeOption<string> {
  return row("address", spec, {
    usage: `${spec.flag} ADDR`,
    default: spec.default,
    accepts: "HOST:PORT, [IPV6]:PORT or unix:/PATH",
    flags: { [spec.flag.slice(2)]: { type: "string" } },
    fromFlags: (values) => stringFlag(values, spec.flag),
    fromEnv: asIs,
    check: (value, name) => {
      parseListenAddress(value, name);
    },
  });
}

/** A count, size or duration: a whole number from 1 to MAX_INT32. */
export function wholeNumber(spec: Common & { readonly default: number }): ServeOption<number> {
  return row("whole-number", spec, {
    usage: `${spec.flag} N`,
    default: spec.default,
    accepts: `whole number, 1 to ${MAX_INT32}`,
    flags: { [spec.flag.slice(2)]: { type: "string" } },
    fromFlags: (values) => {
      const value = stringFlag(values, spec.flag);
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!Number.isInteger(n)) throw new TypeError(`${spec.flag} needs a whole number, got '${value}'`);
      return n;
    },
    check: (value, name) => {
      // Node runs a longer setTimeout after 1 ms, and grpc-js takes sizes and counts as int32.
      if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > MAX_INT32) {
        throw new TypeError(`${name} must be a whole number from 1 to ${MAX_INT32}, got ${String(value)}`);
      }
    },
  });
}

/** A rate from 0 to 1. */
export function fraction(spec: Common & { readonly default: number }): ServeOption<number> {
  return row("fraction", spec, {
    usage: `${spec.flag} R`,
    default: spec.default,
    accepts: "0 to 1",
    flags: { [spec.flag.slice(2)]: { type: "string" } },
    fromFlags: (values) => {
      const value = stringFlag(values, spec.flag);
      return value === undefined ? undefined : Number(value);
    },
    check: (value, name) => {
      if (!(value >= 0 && value <= 1)) throw new TypeError(`${name} must be between 0 and 1, got ${value}`);
    },
  });
}

/** Browser extension origins: the flag repeats, the variable separates them with commas. */
export function extensionOrigins(
  spec: WithEnv & { readonly default: readonly string[] },
): ServeOption<readonly string[]> {
  return row<readonly string[]>("origins", spec, {
    usage: `${spec.flag} ORIGIN`,
    default: Object.freeze([...spec.default]),
    envFormat: "comma-separated",
    accepts: "chrome-extension://<32 letters a-p>, repeatable",
    flags: { [spec.flag.slice(2)]: { type: "string", multiple: true } },
    fromFlags: (values) => {
      const value = values[spec.flag.slice(2)];
      return Array.isArray(value) ? value.filter((v) => typeof v === "string") : undefined;
    },
    fromEnv: (text) =>
      text
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    check: (origins) => {
      for (const origin of origins) {
        if (!/^chrome-extension:\/\/[a-p]{32}$/.test(origin)) {
          throw new TypeError(`extension origin '${origin}' is not chrome-extension://<32 letters a-p>`);
        }
      }
    },
  });
}

/**
 * A flag without a value. `default: false` turns the option on when given; `default: true`
 * (a `--no-...` flag) turns it off.
 */
export function toggle(spec: Common & { readonly default: boolean }): ServeOption<boolean> {
  return row("switch", spec, {
    usage: spec.flag,
    default: spec.default,
    accepts: "no value",
    flags: { [spec.flag.slice(2)]: { type: "boolean" } },
    fromFlags: (values) => (values[spec.flag.slice(2)] === true ? !spec.default : undefined),
    check: noCheck,
  });
}

/** Certificate files for TLS; with a client CA, clients must present a certificate it signed. */
export type TlsOption =
  | { readonly cert: string; readonly key: string; readonly clientCa?: string }
  | undefined;

/** The TLS files: certificate and key go together, the client CA is optional. */
export function tlsFiles(
  spec: Common & { readonly key: `--${string}`; readonly clientCa: `--${string}` },
): ServeOption<TlsOption> {
  const { flag: certFlag, key: keyFlag, clientCa: caFlag } = spec;
  return row<TlsOption>("tls", spec, {
    usage: `${certFlag} FILE ${keyFlag} FILE [${caFlag} FILE]`,
    default: undefined,
    unset: "cleartext",
    accepts: "PEM files",
    flags: Object.fromEntries([certFlag, keyFlag, caFlag].map((f) => [f.slice(2), { type: "string" }])),
    fromFlags: (values) => {
      const cert = stringFlag(values, certFlag);
      const key = stringFlag(values, keyFlag);
      const clientCa = stringFlag(values, caFlag);
      if (!cert && !key) return undefined;
      if (!cert || !key) throw new TypeError(`${certFlag} and ${keyFlag} go together`);
      return { cert, key, ...(clientCa ? { clientCa } : {}) };
    },
    check: noCheck,
  });
}
