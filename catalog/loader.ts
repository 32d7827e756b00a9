/**
 * Loads and validates the catalog: every `catalog/data/<system>.json` at once, so that one
 * `CatalogError` lists every problem of every file (the sidecar refuses to start on it rather
 * than serve a partial catalog), then qualifies every key as `system/key`.
 *
 * The work is done in phases, each in its own file under `load/`: shape (`shape.ts`, with the
 * field checks in `field-checks.ts`), references, cycles and assembly; `issues.ts` holds the
 * problem report they all add to. This file is the public entry: it reads the files and runs them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Catalog } from "./catalog.js";
import { assemble } from "./load/assemble.js";
import { checkCycles } from "./load/cycles.js";
import { CatalogError, type CatalogIssue, IssueList, messageOf } from "./load/issues.js";
import { checkReferences, References } from "./load/references.js";
import { checkSystemShape, type SystemDraft } from "./load/shape.js";

export { CatalogError, type CatalogIssue, formatCatalogIssue } from "./load/issues.js";

/** One data file given to `buildCatalog`: its name (for messages, and the system id it must hold) and its parsed JSON. */
export interface CatalogSource {
  /** Path or name ending in `<system>.json`. */
  readonly file: string;
  /** The parsed JSON value; validated, never trusted. */
  readonly data: unknown;
}

/**
 * The directory of the real data files, `<project>/catalog/data/`, found from this module whether
 * it runs from `catalog/` (tsx, vitest) or bundled into `dist/` (the sidecar).
 */
export function defaultCatalogDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, "catalog", "data");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  // Nothing found: name the unbundled location, so the error says where the files were expected.
  return join(here, "data");
}

/**
 * Reads every `*.json` file in `dir` (sorted by name), validates them together and returns the
 * qualified catalog. Throws `CatalogError` listing every problem, including files that are not JSON.
 */
export function loadCatalog(dir: string = defaultCatalogDir()): Catalog {
  const shown = displayPath(dir);
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .sort();
  } catch (err) {
    throw new CatalogError([
      { file: shown, message: `cannot read the catalog directory: ${messageOf(err)}` },
    ]);
  }
  if (names.length === 0) {
    throw new CatalogError([{ file: shown, message: "no system files (*.json) in the catalog directory" }]);
  }
  const sources: CatalogSource[] = [];
  const unreadable: CatalogIssue[] = [];
  for (const name of names) {
    const file = displayPath(join(dir, name));
    let text: string;
    try {
      text = readFileSync(join(dir, name), "utf8");
    } catch (err) {
      unreadable.push({ file, message: `cannot read the file: ${messageOf(err)}` });
      sources.push({ file, data: BROKEN });
      continue;
    }
    try {
      // A byte-order mark is invisible in editors; JSON.parse would reject it.
      sources.push({ file, data: JSON.parse(text.replace(/^\uFEFF/, "")) });
    } catch (err) {
      unreadable.push({ file, message: `not valid JSON: ${jsonErrorWithLine(messageOf(err), text)}` });
      sources.push({ file, data: BROKEN });
    }
  }
  return validate(sources, unreadable);
}

/**
 * Validates already-parsed data files together and returns the qualified catalog; pure, for tests
 * and for callers that read the files themselves. Throws `CatalogError` listing every problem.
 */
export function buildCatalog(files: readonly CatalogSource[]): Catalog {
  return validate(files, []);
}

/** Marks a source whose file could not be read or parsed: its problem is already reported. */
const BROKEN: unique symbol = Symbol("broken catalog file");

/** Checks every source through every phase, then assembles the catalog or throws every problem found. */
function validate(sources: readonly CatalogSource[], initial: readonly CatalogIssue[]): Catalog {
  const issues = new IssueList();
  issues.list.push(...initial);
  const drafts: SystemDraft[] = [];
  // Systems whose file could not be used at all: references into them are not reported as unknown.
  const brokenSystems = new Set<string>();
  const fileOfSystem = new Map<string, string>();

  for (const source of sources) {
    const expected = basename(source.file).replace(/\.json$/, "");
    if (source.data === BROKEN) {
      brokenSystems.add(expected);
      continue;
    }
    const draft = checkSystemShape(source.file, source.data, expected, issues);
    if (draft === null) {
      brokenSystems.add(expected);
      continue;
    }
    const previous = fileOfSystem.get(draft.id);
    if (previous !== undefined) {
      issues.add(draft.file, undefined, `system id '${draft.id}' is already used by ${previous}`);
      continue;
    }
    fileOfSystem.set(draft.id, draft.file);
    if (draft.dropped.all) brokenSystems.add(draft.id);
    drafts.push(draft);
  }

  const refs = new References(drafts, brokenSystems);
  for (const draft of drafts) checkReferences(draft, refs, issues);
  checkCycles(drafts, refs, issues);

  if (issues.list.length > 0) {
    // Group by file, in the order files were given; within a file, in the order found.
    const order = new Map(sources.map((s, i) => [s.file, i] as const));
    const rank = (i: CatalogIssue) => order.get(i.file) ?? -1;
    throw new CatalogError([...issues.list].sort((a, b) => rank(a) - rank(b)));
  }
  return assemble(drafts);
}

/** Adds the line and column to V8's "at position N" so a person can find it in an editor. */
function jsonErrorWithLine(message: string, text: string): string {
  const match = /at position (\d+)/.exec(message);
  if (match === null || /line \d+/.test(message)) return message;
  const position = Number(match[1]);
  const before = text.replace(/^\uFEFF/, "").slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return `${message} (line ${line}, column ${column})`;
}

/** Relative to the working directory when inside it, so messages read `catalog/data/x.json`. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}
