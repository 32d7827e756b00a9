/**
 * Validates a catalog directory and says so:
 *   npx tsx catalog/check.ts [dir]
 * prints `catalog OK: N systems, M permissions, S surfaces`, or every problem and exits with 1.
 * `dir` defaults to `catalog/data`.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CatalogError, defaultCatalogDir, formatCatalogIssue, loadCatalog } from "./loader.js";

/** Checks `dir` and returns the process exit code: 0 when the catalog is valid, 1 when not. */
export function checkCatalog(
  dir: string = defaultCatalogDir(),
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): number {
  try {
    const catalog = loadCatalog(dir);
    out(
      `catalog OK: ${catalog.systems.length} systems, ${catalog.permissions.size} permissions, ${catalog.surfaces.size} surfaces`,
    );
    return 0;
  } catch (e) {
    if (!(e instanceof CatalogError)) throw e;
    const n = e.issues.length;
    err(`catalog has ${n} problem${n === 1 ? "" : "s"}:`);
    for (const issue of e.issues) err(`  ${formatCatalogIssue(issue)}`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  process.exitCode = checkCatalog(dir === undefined ? defaultCatalogDir() : resolve(dir));
}
