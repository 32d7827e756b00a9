/** Runs the built `rolecall` command the way a user would, for the CLI suites. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";

/** The project root (bin/rolecall.js, catalog/data). */
export const ROOT = join(import.meta.dirname, "..", "..");

/** What one run printed and how it ended. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `rolecall ...` to completion (bounded), without inheriting a ROLECALL_* setting. */
export function rolecall(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ROLECALL_")));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, "bin/rolecall.js"), ...args],
      { timeout: 20_000, env: { ...clean, ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The JSON a successful, silent run printed. */
export function json<T>(result: CliResult): T {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}
