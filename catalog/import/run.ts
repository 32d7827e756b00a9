/**
 * Regenerates `catalog/data/<system>.json` from the vendor documentation and the overrides:
 *   npx tsx catalog/import/run.ts [--seeds DIR] [system ...]
 * (or `npm run import-catalog`). DIR defaults to `../shared/seeds` beside the project.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SYSTEM_IDS, type SystemFile } from "../schema.js";
import { IMPORTERS } from "./importers.js";
import { applyOverrides, parseOverrides, sortSystemFile } from "./overrides.js";

const catalogDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Imports one system: parse its seed document, apply its overrides, sort. */
export async function importSystem(
  system: (typeof SYSTEM_IDS)[number],
  seedsDir: string,
): Promise<SystemFile> {
  const importer = await IMPORTERS[system]();
  const text = readFileSync(join(seedsDir, importer.seedFile), "utf8");
  const overridesPath = join(catalogDir, "overrides", `${system}.yaml`);
  const overrides = existsSync(overridesPath)
    ? parseOverrides(readFileSync(overridesPath, "utf8"), overridesPath)
    : {};
  return sortSystemFile(applyOverrides(importer.parse(text), overrides, overridesPath));
}

async function main(argv: readonly string[]): Promise<void> {
  let seedsDir = resolve(catalogDir, "..", "..", "shared", "seeds");
  const systems: (typeof SYSTEM_IDS)[number][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--seeds") seedsDir = resolve(argv[++i] ?? "");
    else if ((SYSTEM_IDS as readonly string[]).includes(arg))
      systems.push(arg as (typeof SYSTEM_IDS)[number]);
    else
      throw new Error(`unknown argument '${arg}'; expected --seeds DIR or one of ${SYSTEM_IDS.join(", ")}`);
  }
  for (const system of systems.length > 0 ? systems : SYSTEM_IDS) {
    const data = await importSystem(system, seedsDir);
    const out = join(catalogDir, "data", `${system}.json`);
    writeFileSync(out, `${JSON.stringify(data, null, 2)}\n`);
    console.log(`${system}: ${data.permissions.length} permissions → ${out}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
