/**
 * Builders shared by the Zoom Contact Center, CxEngage, MaxContact and iAdvize importers: they
 * fill the fields a document never states (licenses, status, mutual, ...) with one set of
 * defaults, and give every surface the same URL and selector conventions.
 */
import { requirementKeys } from "../requirement.js";
import type { PermissionEntry, RequirementExpr, SurfaceEntry, SurfaceKind } from "../schema.js";

/** The fields an importer must give; the rest default to "nothing special". */
export type PermissionFields = Pick<PermissionEntry, "key" | "name" | "category" | "summary"> &
  Partial<PermissionEntry>;

/** Builds a permission: no pages, licenses, requirement or implication, active, not mutual, unscoped. */
export function permission(fields: PermissionFields): PermissionEntry {
  return {
    pages: [],
    licenses: [],
    requires: null,
    implies: [],
    status: "active",
    mutual: false,
    scope: null,
    ...fields,
  };
}

/** What an importer knows about a surface; the URL pattern and selector follow from the system. */
export interface SurfaceFields {
  readonly id: string;
  readonly label: string;
  readonly kind: SurfaceKind;
  readonly location: string;
  /** Path below `/<system>/` of the pages the element appears on, without the trailing `*`. */
  readonly path: string;
  readonly requires: RequirementExpr;
}

/**
 * Builds a surface of `system`: `urlPattern` is `/<system>/<path>*` (the demo app serves these
 * paths under `/demo`) and `selector` the `data-rolecall-surface` attribute with the qualified id.
 */
export function surface(system: string, fields: SurfaceFields): SurfaceEntry {
  const { path, ...rest } = fields;
  return {
    ...rest,
    urlPattern: `/${system}/${path}*`,
    selector: `[data-rolecall-surface="${system}/${fields.id}"]`,
  };
}

// Vendor descriptions open with who may do it ("Allows the user to", "Enables you to", "Is allowed
// to"); the summary keeps only the action, so it reads as our terse line rather than their prose.
// "Enable" alone is the action itself ("Enable Not Ready Wait Time"), so it only counts as a
// preamble when an actor follows.
const ACTOR_PREFIX =
  /^(?:(?:this permission will )?(?:allows?|grants?|gives?)(?: (?:a|the))?(?: users?| agents?| you)?(?: the)?(?: (?:ability|option)(?: of)?)?|enables? (?:you|the user|users)|is allowed|can)\s+/i;

/**
 * Condenses a vendor description into a short summary line: the first sentence, without the
 * actor preamble, bracketed notes or trailing "Requires ..." clauses; "access (to) the X" becomes
 * "Open the X".
 */
export function summarize(description: string): string {
  let text = description.trim();
  // Only the first sentence: later ones are caveats and cross-references, not what it grants.
  text = text.split(/\.\s/)[0] ?? text;
  text = text
    .replace(/\s*\(?\bRequires\b.*$/, "")
    .replace(/\s+-see\b.*$/, "")
    .replace(/\.$/, "");
  text = text.replace(ACTOR_PREFIX, "");
  text = text.replace(/^(?:to be able to|to)\s+/i, "");
  text = text.replace(/^(?:have )?access(?: to)? the\s+/i, "Open the ");
  text = text.trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The locations of the surfaces whose requirement names `key`: where that permission shows something. */
export function pagesFor(key: string, surfaces: readonly SurfaceEntry[]): string[] {
  return surfaces.filter((s) => requirementKeys(s.requires).includes(key)).map((s) => s.location);
}

/** Splits text into trimmed lines, dropping a byte-order mark and Windows line ends. */
export function lines(text: string): string[] {
  return text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .map((line) => line.trim());
}
