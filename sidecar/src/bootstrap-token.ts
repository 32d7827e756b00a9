/** The bootstrap admin token: from the environment, or generated once into a 0600 file beside the database. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Where the generated token lives for a database path. */
export function bootstrapTokenPath(dbPath: string): string {
  return `${resolve(dbPath)}.admin-token`;
}

/** Returns the bootstrap token and, when it was just generated, the file it was written to. */
export function loadBootstrapToken(
  dbPath: string,
  fromEnv: string | undefined,
): { token: string; createdAt?: string } {
  if (fromEnv) return { token: fromEnv };
  const path = bootstrapTokenPath(dbPath);
  if (existsSync(path)) return { token: readFileSync(path, "utf8").trim() };
  mkdirSync(dirname(path), { recursive: true });
  const token = `rc_boot_${randomBytes(32).toString("base64url")}`;
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: "wx" });
  return { token, createdAt: path };
}

/** Compares a presented token with the bootstrap token in constant time. */
export function isBootstrapToken(presented: string, token: string): boolean {
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(token).digest();
  return timingSafeEqual(a, b);
}
