/**
 * Regenerates `catalog/data/<system>.json` from the vendors' documents and the hand decisions:
 *   npx tsx catalog/import/run.ts [--seeds DIR] [system ...]
 * (or `npm run import-catalog -- ...`). The vendors' documents are their text, so they stay out of
 * the repository: the importers read them from DIR, `../shared/seeds` beside the project unless
 * `--seeds` names another folder. The committed `catalog/data/` is what the product runs on.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SYSTEM_IDS, type SystemFile } from "../schema.js";
import { IMPORTERS } from "./importers.js";
import { applyOverrides, OverridesError, parseOverrides, sortSystemFile } from "./overrides.js";

/** A seed system's id. */
type SystemId = (typeof SYSTEM_IDS)[number];

const importDir = dirname(fileURLToPath(import.meta.url));

/** The folder of the vendors' documents when `--seeds` is not given: `../shared/seeds` beside the project. */
export const DEFAULT_SEEDS_DIR = resolve(importDir, "..", "..", "..", "shared", "seeds");

/** The hand decisions applied on top of each import: `catalog/import/overrides/<system>.yaml`. */
export const OVERRIDES_DIR = join(importDir, "overrides");

/** Help of `npm run import-catalog`. */
export const IMPORT_CATALOG_HELP = `Usage: npm run import-catalog -- [--seeds DIR] [SYSTEM ...]
       npx tsx catalog/import/run.ts [--seeds DIR] [SYSTEM ...]

Parses each system's vendor document, applies catalog/import/overrides/<system>.yaml and
writes catalog/data/<system>.json. Without SYSTEM, imports all five:
  ${SYSTEM_IDS.join(", ")}.
Writes nothing unless every system named imports.

Options:
  --seeds DIR   the folder holding the vendors' documents (default ../shared/seeds beside the
                project); they are the vendors' text and are not kept in the repository
  -h, --help    this text
`;

/** A seeds folder or seed document that is not there; the message names the path and the flag. */
export class SeedsError extends Error {
  override readonly name = "SeedsError";
}

/** Options of `runImport`. */
export interface ImportRunOptions {
  /** Where the system files are written; default `catalog/data`. */
  readonly dataDir?: string;
  /** Receives progress and help lines; default `console.log`. */
  readonly out?: (line: string) => void;
  /** Receives error lines; default `console.error`. */
  readonly err?: (line: string) => void;
}

const IMPORT_RUN_DEFAULTS: Readonly<Required<ImportRunOptions>> = Object.freeze({
  dataDir: resolve(importDir, "..", "data"),
  out: (line: string) => console.log(line),
  err: (line: string) => console.error(line),
});

const SEEDS_HINT =
  "Name the folder holding the vendors' documents with --seeds DIR (default ../shared/seeds beside the project).";

/**
 * Throws `SeedsError` unless `seedsDir` is a folder holding the document of each of `systems`;
 * the message names the folder, or every document missing from it.
 */
export async function checkSeeds(seedsDir: string, systems: readonly SystemId[]): Promise<void> {
  if (!existsSync(seedsDir) || !statSync(seedsDir).isDirectory()) {
    throw new SeedsError(`seeds folder not found: ${seedsDir}\n${SEEDS_HINT}`);
  }
  const missing: string[] = [];
  for (const system of systems) {
    const path = join(seedsDir, (await IMPORTERS[system]()).seedFile);
    if (!existsSync(path)) missing.push(`  ${system}: ${path}`);
  }
  if (missing.length > 0) {
    const what = missing.length === 1 ? "seed document" : "seed documents";
    throw new SeedsError(`${what} not found in ${seedsDir}:\n${missing.join("\n")}\n${SEEDS_HINT}`);
  }
}

/** Imports one system: parse its seed document, apply its overrides, sort. */
export async function importSystem(
  system: SystemId,
  seedsDir: string = DEFAULT_SEEDS_DIR,
): Promise<SystemFile> {
  await checkSeeds(seedsDir, [system]);
  const importer = await IMPORTERS[system]();
  const text = readFileSync(join(seedsDir, importer.seedFile), "utf8");
  const overridesPath = join(OVERRIDES_DIR, `${system}.yaml`);
  const overrides = existsSync(overridesPath)
    ? parseOverrides(readFileSync(overridesPath, "utf8"), overridesPath)
    : {};
  const file = applyOverrides(importer.parse(text), overrides, overridesPath);
  // A right's citation must be checkable against the document this system is imported from.
  for (const right of file.adminRights ?? []) {
    if (right.document !== importer.seedFile) {
      throw new OverridesError(
        `${overridesPath}: adminRights (${right.action}) cites '${right.document}'; cite the document ${system} is imported from, '${importer.seedFile}'`,
      );
    }
  }
  return sortSystemFile(file);
}

/**
 * Runs the importer command line and returns its exit code: 0 done, 1 failed (a missing seeds
 * folder or document, a parse error), 2 misuse. Writes nothing unless every system imports.
 */
export async function runImport(argv: readonly string[], options: ImportRunOptions = {}): Promise<number> {
  const { dataDir, out, err } = { ...IMPORT_RUN_DEFAULTS, ...options };
  const help = IMPORT_CATALOG_HELP.trimEnd();
  let values: { seeds?: string | undefined; help?: boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { seeds: { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (e) {
    err(`${(e as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    out(help);
    return 0;
  }
  const unknown = positionals.filter((p) => !(SYSTEM_IDS as readonly string[]).includes(p));
  if (unknown.length > 0) {
    err(`unknown system '${unknown[0]}'; expected one of ${SYSTEM_IDS.join(", ")}\n\n${help}`);
    return 2;
  }
  const seedsDir = values.seeds === undefined ? DEFAULT_SEEDS_DIR : resolve(values.seeds);
  const systems = positionals.length > 0 ? (positionals as SystemId[]) : [...SYSTEM_IDS];
  try {
    await checkSeeds(seedsDir, systems);
    const imported: [SystemId, SystemFile][] = [];
    for (const system of systems) imported.push([system, await importSystem(system, seedsDir)]);
    for (const [system, data] of imported) {
      const file = join(dataDir, `${system}.json`);
      writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
      out(`${system}: ${data.permissions.length} permissions → ${file}`);
    }
    return 0;
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runImport(process.argv.slice(2));
}
