/**
 * Importer for CxEngage's Skylight permissions page: a bulleted list of the permissions the
 * Contact Management panel needs, then one markdown table per feature (`| NAME | Description |`)
 * under a heading line.
 */
import {
  type Assumption,
  type CategoryEntry,
  type PermissionEntry,
  type PermissionScope,
  type SurfaceEntry,
  type SystemFile,
  slugify,
} from "../schema.js";
import { lines, pagesFor, permission, surface } from "./entry-builders.js";
import type { Importer } from "./importers.js";

const SYSTEM = "cxengage";

/** The id other components (demo app, extension, tests) address the panel by. */
export const CONTACT_MANAGEMENT_PANEL = "contact-management-panel";

const TABLE_HEADER = /^\|\s*Permission Name\s*\|\s*Description\s*\|$/;
const TABLE_RULE = /^\|[-|\s]+\|$/;
const TABLE_ROW = /^\|\s*([A-Z][A-Z0-9_]*)\s*\|\s*(.+?)\s*\|$/;
const LIST_ITEM = /^-\s+([A-Z][A-Z0-9_]*)$/;

/**
 * Our summaries of the 21 documented permissions. The vendor's descriptions are full sentences;
 * these say the same in a line. A permission missing here falls back to a trimmed description.
 */
const SUMMARIES: Readonly<Record<string, string>> = {
  CONTACTS_ASSIGN_INTERACTION: "Link an interaction to a contact so it shows in their history",
  CONTACTS_READ: "See contact records and their custom attributes",
  CONTACTS_CREATE: "Add contact records",
  CONTACTS_UPDATE: "Change contact records",
  CONTACTS_INTERACTION_HISTORY_READ: "See a contact's full interaction history",
  CONTACTS_MERGE_UNMERGE: "Merge contact records (unmerge is not available yet)",
  CONTACTS_DELETE: "Remove contact records",
  NOTES_CREATE_ALL: "Write notes owned by the tenant",
  NOTES_READ_ALL: "Read every note in the tenant",
  NOTES_READ_SELF: "Read notes on interactions the user took part in",
  CONTACTS_LAYOUTS_READ: "List the tenant's contact layouts",
  CONTACTS_LAYOUTS_CREATE: "Add contact layouts",
  CONTACTS_LAYOUTS_UPDATE: "Change contact layouts",
  CONTACTS_LAYOUTS_DELETE: "Remove contact layouts",
  CONTACTS_ATTRIBUTES_CREATE: "Add custom contact attributes",
  CONTACTS_ATTRIBUTES_UPDATE: "Change custom contact attributes",
  CONTACTS_ATTRIBUTES_READ: "List the custom attribute fields of contacts",
  ARTIFACTS_READ_ALL: "Read every artifact (emails, recordings, transcripts) in the tenant",
  ARTIFACTS_READ_SELF: "Read artifacts of interactions the user took part in",
  ARTIFACTS_CREATE_ALL: "Create artifacts owned by the tenant",
  AGENT_EXPERIENCE_METRICS_VIEW: "See welcome-screen statistics and pick footer statistics",
};

/** Parses the CxEngage Skylight permissions page into a system file. */
export function parseCxengage(text: string): SystemFile {
  const all = lines(text);
  const categories: CategoryEntry[] = [];
  const rows: { key: string; category: string; description: string }[] = [];
  const panelKeys: string[] = [];
  let category: string | undefined;
  for (const [index, line] of all.entries()) {
    const item = LIST_ITEM.exec(line);
    // The only bulleted list is the Contact Management panel's minimum permissions.
    if (item) {
      panelKeys.push(item[1]!);
      continue;
    }
    if (TABLE_HEADER.test(line)) {
      const heading = headingBefore(all, index);
      category = slugify(heading);
      categories.push({ id: category, name: heading });
      continue;
    }
    if (TABLE_RULE.test(line) || category === undefined || !line.startsWith("|")) continue;
    const row = TABLE_ROW.exec(line);
    if (!row)
      throw new Error(`${SYSTEM}: line ${index + 1}: expected "| PERMISSION | Description |": ${line}`);
    rows.push({ key: row[1]!, category, description: row[2]! });
  }
  const known = new Set(rows.map((r) => r.key));
  const permissions: PermissionEntry[] = rows.map(({ key, category, description }) => {
    const twin = scopeTwin(key);
    const hasTwin = twin !== undefined && known.has(twin.other);
    return permission({
      key,
      name: key,
      category,
      summary: SUMMARIES[key] ?? description.replace(/^Enables you to /, "").replace(/\..*$/, ""),
      // Reading everything in the tenant includes reading what you took part in.
      implies: hasTwin && twin.scope === "all" ? [twin.other] : [],
      // Scope only means something where both variants exist; lone `_ALL`s are decided in overrides.
      scope: hasTwin ? twin.scope : null,
      ...(hasTwin && twin.scope === "all" ? { assumptions: [ALL_IMPLIES_SELF] } : {}),
    });
  });
  for (const key of panelKeys) {
    if (!known.has(key))
      throw new Error(`${SYSTEM}: the Contact Management list names unknown permission ${key}`);
  }
  const found = surfaces(known, panelKeys);
  return {
    id: SYSTEM,
    name: "CxEngage",
    // Which permissions give which admin action is a decision on the document: see the overrides.
    adminRights: [],
    categories,
    licenses: [],
    defaultRoles: [],
    permissions: permissions.map((p) => ({ ...p, pages: pagesFor(p.key, found) })),
    surfaces: found,
  };
}

/** Why `X_ALL` implies `X_SELF`: our reading, which the document does not state. */
export const ALL_IMPLIES_SELF: Assumption = {
  field: "implies",
  reason:
    "The document describes the tenant-wide and the own-interactions variant separately and never says that one includes the other; we let the tenant-wide one grant the other, since all of the tenant's items include those the user took part in",
};

/** The heading of a table: the nearest line above it that is not a "These permissions ..." lead-in. */
function headingBefore(all: readonly string[], index: number): string {
  for (let i = index - 1; i >= 0; i--) {
    const line = all[i]!;
    if (line === "" || line.startsWith("These permissions")) continue;
    return line;
  }
  throw new Error(`${SYSTEM}: line ${index + 1}: a permission table has no heading above it`);
}

/** `X_ALL` ↔ `X_SELF`: the other variant's key and this one's scope. */
function scopeTwin(key: string): { other: string; scope: PermissionScope } | undefined {
  if (key.endsWith("_ALL")) return { other: `${key.slice(0, -4)}_SELF`, scope: "all" };
  if (key.endsWith("_SELF")) return { other: `${key.slice(0, -5)}_ALL`, scope: "self" };
  return undefined;
}

/** The panel, tabs and configuration pages the document names, for the permissions present. */
function surfaces(known: ReadonlySet<string>, panelKeys: readonly string[]): SurfaceEntry[] {
  const out: SurfaceEntry[] = [];
  if (panelKeys.length > 0) {
    out.push(
      surface(SYSTEM, {
        id: CONTACT_MANAGEMENT_PANEL,
        label: "Contact Management panel",
        kind: "panel",
        location: "Agent desktop (Skylight) > Contact Management panel",
        path: "agent-desktop",
        // The document: the panel only shows when the role holds every one of these.
        requires: { all: panelKeys },
      }),
    );
  }
  const artifactReads = ["ARTIFACTS_READ_ALL", "ARTIFACTS_READ_SELF"].filter((k) => known.has(k));
  if (artifactReads.length > 0) {
    out.push(
      surface(SYSTEM, {
        id: "contact-history-tab",
        label: "Contact History tab",
        kind: "tab",
        location: "Agent desktop (Skylight) > Contact Management panel > History tab",
        path: "agent-desktop",
        requires: artifactReads.length === 1 ? artifactReads[0]! : { any: artifactReads },
      }),
    );
  }
  const configPages = [
    ["contact-layouts-page", "Contact Layouts", "CONTACTS_LAYOUTS_READ"],
    ["contact-attributes-page", "Contact Attributes", "CONTACTS_ATTRIBUTES_READ"],
  ] as const;
  for (const [id, label, requires] of configPages) {
    if (!known.has(requires)) continue;
    out.push(
      surface(SYSTEM, {
        id,
        label,
        kind: "page",
        location: `Configuration interface > ${label}`,
        path: `config/${slugify(label)}`,
        requires,
      }),
    );
  }
  if (known.has("AGENT_EXPERIENCE_METRICS_VIEW")) {
    out.push(
      surface(SYSTEM, {
        id: "welcome-screen-statistics",
        label: "Welcome screen statistics",
        kind: "widget",
        location: "Agent desktop (Skylight) > Welcome screen",
        path: "agent-desktop",
        requires: "AGENT_EXPERIENCE_METRICS_VIEW",
      }),
      surface(SYSTEM, {
        id: "footer-statistics",
        label: "Global footer statistics",
        kind: "widget",
        location: "Agent desktop (Skylight) > Global footer",
        path: "agent-desktop",
        requires: "AGENT_EXPERIENCE_METRICS_VIEW",
      }),
    );
  }
  return out;
}

/** Importer for `cxengage-skylight-permissions.txt`. */
export const cxengageImporter: Importer = {
  seedFile: "cxengage-skylight-permissions.txt",
  parse: parseCxengage,
};
