import { describe, expect, it } from "vitest";
import { DEFAULT_OPTIONS, PINNED_EXTENSION_ID } from "../config.js";
import { parseServeOptions } from "./serve.js";
import { UsageError } from "./usage-error.js";

const ORIGIN_A = `chrome-extension://${"a".repeat(32)}`;
const ORIGIN_B = `chrome-extension://${"b".repeat(32)}`;

/** The message of the usage error `parseServeOptions` throws, or fails the test. */
function refusal(argv: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseServeOptions(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${argv.join(" ")}`);
}

describe("rolecall serve options", () => {
  it("with no flags and no environment, are the defaults", () => {
    expect(parseServeOptions([], {})).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS).toEqual({
      db: "./data/rolecall.db",
      catalogDir: undefined,
      grpcAddress: "127.0.0.1:50051",
      httpAddress: "127.0.0.1:8080",
      adminToken: undefined,
      primary: undefined,
      primaryPollMs: 1_000,
      pollIntervalMs: 20,
      maxStalenessMs: 300_000,
      maxCachedUsers: 100_000,
      maxMessageBytes: 1_048_576,
      maxBatchItems: 1000,
      maxTimeoutMs: 30_000,
      maxConcurrentStreams: 100,
      maxConnectionIdleMs: 300_000,
      shutdownGraceMs: 5000,
      extensionOrigins: [`chrome-extension://${PINNED_EXTENSION_ID}`],
      grpcRequireToken: false,
      historyDays: 90,
      tls: undefined,
      demo: true,
      logLevel: "info",
      decisionLogSampleRate: 0,
    });
    expect(Object.isFrozen(DEFAULT_OPTIONS)).toBe(true);
  });

  it("reads the ROLECALL_* variables; a flag wins over its variable", () => {
    const env = {
      ROLECALL_DB: "/env.db",
      ROLECALL_CATALOG: "/env-catalog",
      ROLECALL_GRPC_ADDR: "unix:/run/env.sock",
      ROLECALL_HTTP_ADDR: "127.0.0.1:9000",
      ROLECALL_ADMIN_TOKEN: "env-token",
      ROLECALL_LOG_LEVEL: "debug",
      ROLECALL_EXTENSION_ORIGINS: ` ${ORIGIN_A} ,, ${ORIGIN_B}`,
    };
    expect(parseServeOptions([], env)).toMatchObject({
      db: "/env.db",
      catalogDir: "/env-catalog",
      grpcAddress: "unix:/run/env.sock",
      httpAddress: "127.0.0.1:9000",
      adminToken: "env-token",
      logLevel: "debug",
      extensionOrigins: [ORIGIN_A, ORIGIN_B],
    });
    const flags = [
      ...["--db", "/flag.db", "--catalog", "/flag-catalog", "--grpc-addr", "[::1]:1"],
      ...["--http-addr", "localhost:2", "--admin-token", "flag-token", "--log-level", "warn"],
      ...["--extension-origin", ORIGIN_B],
    ];
    expect(parseServeOptions(flags, env)).toMatchObject({
      db: "/flag.db",
      catalogDir: "/flag-catalog",
      grpcAddress: "[::1]:1",
      httpAddress: "localhost:2",
      adminToken: "flag-token",
      logLevel: "warn",
      extensionOrigins: [ORIGIN_B],
    });
  });

  it("ignores an empty variable", () => {
    expect(parseServeOptions([], { ROLECALL_DB: "", ROLECALL_EXTENSION_ORIGINS: "" })).toEqual(
      DEFAULT_OPTIONS,
    );
  });

  it("takes every whole-number flag, the switches, TLS and the decision log rate", () => {
    const argv = [
      ...["--poll-ms", "5", "--max-staleness-ms", "6", "--max-cached-users", "7"],
      ...["--max-message-bytes", "8", "--max-batch", "9", "--max-timeout-ms", "10"],
      ...["--max-streams", "11", "--max-idle-ms", "12", "--shutdown-grace-ms", "13"],
      ...["--extension-origin", ORIGIN_A, "--extension-origin", ORIGIN_B],
      ...["--grpc-require-token", "--no-demo", "--decision-log-rate", "0.25"],
      ...["--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-client-ca", "ca.pem"],
    ];
    expect(parseServeOptions(argv, {})).toEqual({
      ...DEFAULT_OPTIONS,
      pollIntervalMs: 5,
      maxStalenessMs: 6,
      maxCachedUsers: 7,
      maxMessageBytes: 8,
      maxBatchItems: 9,
      maxTimeoutMs: 10,
      maxConcurrentStreams: 11,
      maxConnectionIdleMs: 12,
      shutdownGraceMs: 13,
      extensionOrigins: [ORIGIN_A, ORIGIN_B],
      grpcRequireToken: true,
      demo: false,
      decisionLogSampleRate: 0.25,
      tls: { cert: "c.pem", key: "k.pem", clientCa: "ca.pem" },
    });
    const tls = parseServeOptions(["--tls-cert", "c.pem", "--tls-key", "k.pem"], {}).tls;
    expect(tls).toStrictEqual({ cert: "c.pem", key: "k.pem" });
    expect(parseServeOptions(["--tls-client-ca", "ca.pem"], {}).tls).toBeUndefined();
  });

  it("refuses a value out of bounds naming the flag typed", () => {
    const flags: [string, string][] = [
      ["--poll-ms", "0"],
      ["--max-staleness-ms", "-1"],
      ["--max-cached-users", "2147483648"],
      ["--max-message-bytes", "0"],
      ["--max-batch", "0"],
      ["--max-timeout-ms", "0"],
      ["--max-streams", "0"],
      ["--max-idle-ms", "0"],
      ["--shutdown-grace-ms", "3000000000"],
    ];
    for (const [flag, value] of flags) {
      // `=` so parseArgs takes `-1` as the value, not as a flag.
      expect(refusal([`${flag}=${value}`])).toBe(
        `${flag} must be a whole number from 1 to 2147483647, got ${value}`,
      );
    }
    expect(refusal(["--poll-ms", "1.5"])).toBe("--poll-ms needs a whole number, got '1.5'");
    expect(refusal(["--max-batch", "lots"])).toBe("--max-batch needs a whole number, got 'lots'");
    expect(refusal(["--decision-log-rate", "2"])).toBe("--decision-log-rate must be between 0 and 1, got 2");
    expect(refusal(["--decision-log-rate", "half"])).toBe(
      "--decision-log-rate must be between 0 and 1, got NaN",
    );
  });

  it("refuses half a TLS pair, a bad origin and addresses it cannot listen on", () => {
    expect(refusal(["--tls-cert", "c.pem"])).toBe("--tls-cert and --tls-key go together");
    expect(refusal(["--tls-key", "k.pem"])).toBe("--tls-cert and --tls-key go together");
    expect(refusal(["--extension-origin", "https://example.com"])).toBe(
      "extension origin 'https://example.com' is not chrome-extension://<32 letters a-p>",
    );
    expect(refusal(["--grpc-addr", "nonsense"])).toBe(
      "--grpc-addr: 'nonsense' is not HOST:PORT, [IPV6]:PORT or unix:/PATH",
    );
    expect(refusal(["--http-addr", "nonsense"])).toBe(
      "--http-addr [ROLECALL_HTTP_ADDR]: 'nonsense' is not HOST:PORT, [IPV6]:PORT or unix:/PATH",
    );
    expect(refusal([], { ROLECALL_HTTP_ADDR: "unix:" })).toBe(
      "--http-addr [ROLECALL_HTTP_ADDR]: 'unix:' needs a socket path, e.g. unix:/run/rolecall.sock",
    );
    expect(refusal(["--grpc-addr", "0.0.0.0:50051"])).toBe(
      "--grpc-addr 0.0.0.0:50051 is reachable from other hosts, where anyone could read decisions without a token; listen on loopback or a unix socket, or add --grpc-require-token or mutual TLS (--tls-client-ca)",
    );
    expect(parseServeOptions(["--grpc-addr", "0.0.0.0:50051", "--grpc-require-token"], {}).grpcAddress).toBe(
      "0.0.0.0:50051",
    );
  });

  it("refuses a flag it does not know", () => {
    expect(() => parseServeOptions(["--max-batches", "3"], {})).toThrow(/--max-batches/);
  });
});
