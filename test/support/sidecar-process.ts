/**
 * Starts the real sidecar (`bin/rolecall.js serve`) as a child process on loopback ports chosen
 * by the OS, for integration tests. Stopped by PID; a test never leaves one running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

/** `serve` flags every test sidecar takes: both listeners on a free loopback port, warnings only. */
export const LOOPBACK_SERVE_ARGS: readonly string[] = [
  "--grpc-addr",
  "127.0.0.1:0",
  "--http-addr",
  "127.0.0.1:0",
  "--log-level",
  "warn",
];

/** A running sidecar child process. */
export interface SidecarProcess {
  readonly child: ChildProcess;
  readonly grpcAddress: string;
  readonly httpUrl: string;
  readonly dbPath: string;
  readonly adminToken: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Sends a signal and waits for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Options for a test sidecar. */
export interface SidecarProcessOptions {
  /** Extra `serve` flags. */
  readonly args?: readonly string[];
  /** Use this database instead of a fresh temporary one. */
  readonly dbPath?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** How long to wait for the sidecar to say where it listens. Default 20,000 ms. */
  readonly startTimeoutMs?: number;
}

/**
 * Node flags a test or bench adds to the sidecars it starts, from the environment variable `name`
 * (space separated), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them.
 */
export function nodeArgsFrom(name: string): string[] {
  return (process.env[name] ?? "").split(" ").filter((a) => a !== "");
}

/** Starts a sidecar and resolves once it has printed where it listens (node flags: ROLECALL_SIDECAR_NODE_ARGS). */
export async function startSidecarProcess(options: SidecarProcessOptions = {}): Promise<SidecarProcess> {
  const dir = options.dbPath ? undefined : mkdtempSync(join(tmpdir(), "rolecall-it-"));
  const dbPath = options.dbPath ?? join(dir!, "rolecall.db");
  const adminToken = "rc_test_bootstrap_token";
  const child = spawn(
    process.execPath,
    [
      ...nodeArgsFrom("ROLECALL_SIDECAR_NODE_ARGS"),
      join(ROOT, "bin/rolecall.js"),
      "serve",
      "--db",
      dbPath,
      ...LOOPBACK_SERVE_ARGS,
      ...(options.args ?? []),
    ],
    {
      env: { ...process.env, ROLECALL_ADMIN_TOKEN: adminToken, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout!.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  let ready: { grpc: string; http: string };
  try {
    ready = await Promise.race([
      new Promise<{ grpc: string; http: string }>((resolve) => {
        const look = () => {
          if (settled) return;
          const grpc = /gRPC:\s+(\S+)/.exec(output)?.[1];
          const http = /HTTP:\s+(\S+)/.exec(output)?.[1];
          if (grpc && http) resolve({ grpc, http });
          else setTimeout(look, 20);
        };
        look();
      }),
      exited.then((code) => {
        throw new Error(`sidecar exited with ${code} before serving:\n${output}`);
      }),
      new Promise<never>((_, reject) => {
        const limit = options.startTimeoutMs ?? 20_000;
        timer = setTimeout(
          () => reject(new Error(`sidecar did not start within ${limit / 1000} s:\n${output}`)),
          limit,
        );
      }),
    ]);
  } catch (err) {
    // Leave nothing behind: kill the child by its PID and remove its folder.
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
    await exited;
    if (dir) rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    settled = true;
    clearTimeout(timer);
  }

  return {
    child,
    grpcAddress: ready.grpc,
    httpUrl: ready.http,
    dbPath,
    adminToken,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
      const code = await exited;
      if (dir) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
