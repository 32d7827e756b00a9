/**
 * Importer for iAdvize's "User permissions and custom roles" article: a two-column table
 * ("Permissions Description") flattened to lines where the permission name runs straight into
 * its description ("Access to Reports Grants a user the ability ...").
 */
import { type PermissionEntry, type SurfaceEntry, type SystemFile, slugify } from "../schema.js";
import { lines, pagesFor, permission, surface } from "./entry-builders.js";
import type { Importer } from "./importers.js";

const SYSTEM = "iadvize";

/** The numbered section holding the table, e.g. "2. User permissions in detail". */
const SECTION = /^\d+\.\s+(.+?)(?:\s+in detail)?$/;

/** Where the name ends: every description opens with who gets what. */
const DESCRIPTION_START = /\s(?=(?:Allows?|Grants|Gives)\s+(?:a\s+)?users?\b)/;

/** "It is mandatory to activate the "access to reports" option beforehand". */
const MANDATORY = /mandatory to activate the ["“](.+?)["”] option/i;

/** Our one-line summaries; a name missing here falls back to the description's first clause. */
const SUMMARIES: Readonly<Record<string, string>> = {
  "access-to-user-performance-data-in-reports": "See which user did what in reports (otherwise anonymized)",
  "access-to-website-sales-indicators-website-turnover-website-transactions-and-website-aov":
    "See site-wide sales KPIs (turnover, transactions, AOV) in the sales activity report",
  "access-to-supervision-report": "Open the Supervision report",
  "access-to-production-report": "Open the Production report",
  "access-to-automation": "Manage everything in the automation area",
  "access-to-reports": "Manage everything in the reporting area",
  "access-to-people": "Change conversation priority, advisor channels and skills",
};

/** Parses the iAdvize custom roles article into a system file. */
export function parseIadvize(text: string): SystemFile {
  let category: { id: string; name: string } | undefined;
  let inTable = false;
  const rows: { key: string; name: string; description: string; line: number }[] = [];
  for (const [index, line] of lines(text).entries()) {
    const section = SECTION.exec(line);
    if (section) {
      inTable = false;
      if (/permissions/i.test(section[1]!)) category = { id: slugify(section[1]!), name: section[1]! };
      continue;
    }
    if (line === "Permissions Description") {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    // The table ends at the first blank (or non-breaking-space-only) line after its rows.
    if (line.replace(/\u00a0/g, "").trim() === "") {
      if (rows.length > 0) inTable = false;
      continue;
    }
    const split = line.split(DESCRIPTION_START);
    const name = split[0]?.trim();
    const description = split.slice(1).join(" ").trim();
    if (name === undefined || description === "") {
      throw new Error(
        `${SYSTEM}: line ${index + 1}: expected a permission name followed by its description: ${line}`,
      );
    }
    rows.push({ key: slugify(name), name, description, line: index + 1 });
  }
  if (category === undefined) throw new Error(`${SYSTEM}: no "N. User permissions" section`);
  const byName = new Map(rows.map((r) => [r.name.toLowerCase(), r.key] as const));
  const permissions: PermissionEntry[] = rows.map(({ key, name, description, line }) => {
    const mandatory = MANDATORY.exec(description)?.[1];
    const requires = mandatory === undefined ? null : byName.get(mandatory.toLowerCase());
    if (requires === undefined) {
      throw new Error(`${SYSTEM}: line ${line}: '${name}' needs unknown permission '${mandatory}'`);
    }
    return permission({
      key,
      name,
      category: category.id,
      summary: SUMMARIES[key] ?? description.replace(/\..*$/, ""),
      requires,
    });
  });
  const known = new Set(rows.map((r) => r.key));
  const found = surfaces(known);
  return {
    id: SYSTEM,
    name: "iAdvize",
    // Which permissions give which admin action is a decision on the document: see the overrides.
    adminRights: [],
    categories: [category],
    licenses: [],
    defaultRoles: [],
    permissions: permissions.map((p) => ({
      ...p,
      pages: pagesFor(p.key, found),
    })),
    surfaces: found,
  };
}

/**
 * The tabs, reports and admin page the article names: the Automation and Reports tabs, the
 * Supervision and Production reports, the sales activity report's website KPIs, and the
 * People > Management > Custom Role page.
 */
function surfaces(known: ReadonlySet<string>): SurfaceEntry[] {
  const websiteKpis = [...known].find((k) => k.startsWith("access-to-website-sales-indicators"));
  const candidates: (Parameters<typeof surface>[1] & { needs: readonly string[] })[] = [
    {
      id: "reports-tab",
      label: "Reports tab",
      kind: "tab",
      location: "Admin > Reports",
      path: "admin",
      requires: "access-to-reports",
      needs: ["access-to-reports"],
    },
    {
      id: "automation-tab",
      label: "Automation tab",
      kind: "tab",
      location: "Admin > Automation",
      path: "admin",
      requires: "access-to-automation",
      needs: ["access-to-automation"],
    },
    {
      id: "people-tab",
      label: "People tab",
      kind: "tab",
      location: "Admin > People",
      path: "admin",
      requires: "access-to-people",
      needs: ["access-to-people"],
    },
    {
      id: "supervision-report",
      label: "Supervision report",
      kind: "page",
      location: "Admin > Reports > Supervision report",
      path: "admin/reports/supervision",
      requires: "access-to-supervision-report",
      needs: ["access-to-supervision-report"],
    },
    {
      id: "production-report",
      label: "Production report",
      kind: "page",
      location: "Admin > Reports > Production report",
      path: "admin/reports/production",
      requires: "access-to-production-report",
      needs: ["access-to-production-report"],
    },
    {
      id: "sales-activity-report",
      label: "Sales activity report",
      kind: "page",
      location: "Admin > Reports > Sales activity report",
      path: "admin/reports/sales-activity",
      requires: "access-to-reports",
      needs: ["access-to-reports"],
    },
    {
      id: "custom-role-page",
      label: "Custom Role page",
      kind: "page",
      location: "People > Management > Custom Role",
      path: "admin/people/custom-roles",
      requires: "access-to-people",
      needs: ["access-to-people"],
    },
  ];
  if (websiteKpis !== undefined) {
    candidates.push({
      id: "website-sales-indicators",
      label: "Website sales indicators",
      kind: "widget",
      location: "Admin > Reports > Sales activity report > Website KPIs",
      path: "admin/reports/sales-activity",
      // A widget inside the report, so the report's own permission comes first.
      requires: { all: ["access-to-reports", websiteKpis] },
      needs: ["access-to-reports", websiteKpis],
    });
  }
  return candidates
    .filter((c) => c.needs.every((k) => known.has(k)))
    .map(({ needs: _needs, ...fields }) => surface(SYSTEM, fields));
}

/** Importer for `iadvize-custom-roles.txt`. */
export const iadvizeImporter: Importer = {
  seedFile: "iadvize-custom-roles.txt",
  parse: parseIadvize,
};
