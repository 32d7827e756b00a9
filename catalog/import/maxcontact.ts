/**
 * Importer for MaxContact's permission definitions: `Name: description` lines under category
 * heading lines. Dependencies are written into descriptions ("Requires Import DNC Access",
 * `Requires "View Assigned Tags" permission`), and so are the pages a permission opens
 * ("Allows the user access to the Auditing Page").
 */
import {
  type CategoryEntry,
  type PermissionEntry,
  type RequirementExpr,
  type SurfaceEntry,
  type SystemFile,
  slugify,
} from "../schema.js";
import { lines, pagesFor, permission, summarize, surface } from "./entry-builders.js";
import type { Importer } from "./importers.js";

const SYSTEM = "maxcontact";

/** `Name: description`; the name never holds ": " so the first one splits. */
const DEFINITION = /^([^:]+?):\s+(.+)$/;

/** "Requires X" / `Requires "X" permission`, optionally in brackets, at the end of a description. */
const REQUIRES = /\(?\bRequires\s+"?(.+?)"?(?:\s+permission)?\)?\.?$/;

/** "... access the CustomReports tab in the Report Viewer Page". */
const TAB_ACCESS = /\baccess(?: to)? the (.+?) tab in the (.+?) page\b/i;

/** "Allows the user access to the Auditing Page", "Is allowed to access the System Info page". */
const PAGE_ACCESS =
  /^(?:allows?|is allowed)(?: the)?(?: users?| agents?)?(?: to)? access(?: to)? the (.+?) page\b/i;

/**
 * Pages that descriptions name without the word "page" ("Allows the user access to the Manager
 * Portal"): by the permission's name, the page's label and, where it is not the label's slug, its
 * URL path. A name missing from the text is skipped.
 */
const UNWORDED_PAGES: readonly (readonly [permission: string, label: string, path?: string])[] = [
  ["Portal Access", "Manager Portal"],
  ["View & Manage Marketplace", "Marketplace"],
  ["Web Agent Access", "Web Agent (Contact Hub)"],
  ["List Manager Admin Access", "List Manager"],
  // Its URL sits under the List Manager's, as the history of that tool.
  ["List Manager History Access", "List Manager History", "list-manager/history"],
  ["Inbound Blacklist Access", "Inbound Blacklist"],
  ["Inbound Number Access", "Inbound Number Mapping"],
  ["Can access Pre-chat questions", "Pre-Chat Questions Builder"],
];

/** A permission as read from its line, before references are resolved. */
interface Definition {
  readonly name: string;
  readonly category: string;
  readonly description: string;
  readonly line: number;
}

/** Parses the MaxContact permission definitions into a system file. */
export function parseMaxcontact(text: string): SystemFile {
  const categories: CategoryEntry[] = [];
  const definitions: Definition[] = [];
  let category: string | undefined;
  for (const [index, line] of lines(text).entries()) {
    if (line === "") continue;
    const definition = DEFINITION.exec(line);
    if (definition) {
      if (category === undefined)
        throw new Error(`${SYSTEM}: line ${index + 1}: a permission before any category`);
      definitions.push({ name: definition[1]!, category, description: definition[2]!, line: index + 1 });
      continue;
    }
    // The introduction is a sentence; headings ("Page Level Admin", "Web API") never end in a period.
    if (line.endsWith(".")) continue;
    category = slugify(line);
    categories.push({ id: category, name: line });
  }
  const byName = new Map<string, string>();
  for (const { name, line } of definitions) {
    const key = slugify(name);
    if ([...byName.values()].includes(key))
      throw new Error(`${SYSTEM}: line ${line}: duplicate key '${key}'`);
    byName.set(name.toLowerCase(), key);
  }
  const resolve = (reference: string, at: Definition): string => {
    const key = byName.get(reference.trim().toLowerCase());
    if (key === undefined) {
      throw new Error(`${SYSTEM}: line ${at.line}: '${at.name}' requires unknown permission '${reference}'`);
    }
    return key;
  };
  const found = pageSurfaces(definitions);
  const permissions: PermissionEntry[] = definitions.map((d) => {
    const key = slugify(d.name);
    const required = REQUIRES.exec(d.description)?.[1];
    let requires: RequirementExpr | null = null;
    if (required !== undefined) {
      const alternatives = required.split(/\s+or\s+/).map((r) => resolve(r, d));
      requires = alternatives.length === 1 ? alternatives[0]! : { any: alternatives };
    }
    return permission({
      key,
      name: d.name,
      category: d.category,
      summary: summarize(d.description),
      pages: pagesFor(key, found),
      requires,
    });
  });
  return {
    id: SYSTEM,
    name: "MaxContact",
    // Which permissions give which admin action is a decision on the document: see the overrides.
    adminRights: [],
    categories,
    licenses: [],
    defaultRoles: [],
    permissions,
    surfaces: found,
  };
}

/**
 * The pages (and the one tab) that descriptions say a permission opens. Several permissions
 * opening one page make it any-of; a tab needs its page's permission as well as its own.
 */
function pageSurfaces(definitions: readonly Definition[]): SurfaceEntry[] {
  const pages = new Map<string, { label: string; keys: string[] }>();
  const tabs: { label: string; page: string; key: string }[] = [];
  const unworded = new Map(UNWORDED_PAGES.map(([name, label]) => [name, label] as const));
  const paths = new Map(UNWORDED_PAGES.map(([, label, path]) => [slugify(label), path] as const));
  for (const d of definitions) {
    const key = slugify(d.name);
    const tab = TAB_ACCESS.exec(d.description);
    if (tab) {
      tabs.push({ label: tab[1]!, page: tab[2]!, key });
      continue;
    }
    const page = PAGE_ACCESS.exec(d.description)?.[1] ?? unworded.get(d.name);
    if (page === undefined) continue;
    const id = slugify(page);
    const entry = pages.get(id) ?? { label: page.replace(/\s+page$/i, ""), keys: [] };
    entry.keys.push(key);
    pages.set(id, entry);
  }
  const out: SurfaceEntry[] = [];
  for (const [id, { label, keys }] of pages) {
    out.push(
      surface(SYSTEM, {
        id: `${id}-page`,
        label: `${capitalize(label)} page`,
        kind: "page",
        location: `${capitalize(label)} page`,
        path: paths.get(id) ?? id,
        requires: keys.length === 1 ? keys[0]! : { any: keys },
      }),
    );
  }
  for (const { label, page, key } of tabs) {
    const pageId = slugify(page);
    const pageRequires = pages.get(pageId)?.keys;
    const pageExpr: RequirementExpr[] =
      pageRequires === undefined
        ? []
        : [pageRequires.length === 1 ? pageRequires[0]! : { any: pageRequires }];
    out.push(
      surface(SYSTEM, {
        id: `${slugify(label)}-tab`,
        label: `${label} tab`,
        kind: "tab",
        location: `${capitalize(page)} page > ${label} tab`,
        path: pageId,
        requires: pageExpr.length === 0 ? key : { all: [...pageExpr, key] },
      }),
    );
  }
  return out;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Importer for `maxcontact-permission-definitions.txt`. */
export const maxcontactImporter: Importer = {
  seedFile: "maxcontact-permission-definitions.txt",
  parse: parseMaxcontact,
};
