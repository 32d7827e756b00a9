/**
 * Importer for Zoom Contact Center's "Privileges and Role Management" page: privileges grouped by
 * settings section, each line a privilege id (or a `X:Read, X:Edit` pair) glued to its
 * description ("RptWallboard:ReadAllow user to view wallboards.").
 */
import {
  type Assumption,
  type CategoryEntry,
  type PermissionEntry,
  type SurfaceEntry,
  type SurfaceKind,
  type SystemFile,
  slugify,
} from "../schema.js";
import { lines, permission, summarize, surface } from "./entry-builders.js";
import type { Importer } from "./importers.js";

const SYSTEM = "zoom-contact-center";

/** A section heading such as "Contact Center - Analytics settings". */
const SECTION = /^Contact Center - .+ settings$/;

/** A privilege line: one or more ids, then the description, which always starts "Allow user to". */
const PRIVILEGE_LINE = /^(.+?)(Allow user to .+)$/;

/** A documented privilege id: `Resource` or `Resource:Read` / `Resource:Edit`. */
const PRIVILEGE_ID = /^[A-Za-z]+(?::(?:Read|Edit))?$/;

/** Where a surface lives, which decides its location prefix and URL path. */
type Area = "analytics" | "admin" | "client";

const AREA_LOCATION: Readonly<Record<Area, string>> = {
  analytics: "Contact Center analytics",
  admin: "Contact Center administration",
  client: "Contact Center client",
};

/**
 * The pages, tabs and panels the privileges open, keyed by the privilege that shows them. The
 * document names these in its descriptions ("view wallboards", "the Teams tab in the client")
 * but gives no breadcrumbs, so labels are our short names for what each description opens.
 */
const SURFACES: readonly (readonly [privilege: string, label: string, kind: SurfaceKind, area: Area])[] = [
  ["RptMyAgents:Read", "Agent status", "page", "analytics"],
  ["RptQueueAnalytics:Read", "Real-time queue analytics", "page", "analytics"],
  ["RptActiveChannelEngagements:Read", "Active engagements by channel", "page", "analytics"],
  ["RptWallboard:Read", "Wallboards", "page", "analytics"],
  ["RptAgentReport:Read", "Agent timesheets", "page", "analytics"],
  ["RptQueueChartReport:Read", "Historical queue charts", "page", "analytics"],
  ["RptQueueDetailReport:Read", "Historical queue details", "page", "analytics"],
  ["RptQueueIntervalReport:Read", "Interval report", "page", "analytics"],
  ["RptFlowChartReport:Read", "Flow chart report", "page", "analytics"],
  ["RptFlowDetailReport:Read", "Flow detail report", "page", "analytics"],
  ["RptSurvey:Read", "Engagement surveys report", "page", "analytics"],
  ["RptSubscriptions:Read", "Report subscriptions", "page", "analytics"],
  ["RptCustomReports:Read", "Reports", "page", "analytics"],
  ["RptLogs:Read", "Analytics logs", "page", "analytics"],
  ["RptDashboards:Read", "Dashboards", "page", "analytics"],
  ["RptContactCenter:Read", "Contact center usage report", "page", "analytics"],
  ["RptContactCenterOperationLog:Read", "Contact center operation log", "page", "analytics"],
  ["UserManagement:Read", "Users", "page", "admin"],
  ["TeamManagement:Read", "Teams", "page", "admin"],
  ["RoleManagement:Read", "Roles", "page", "admin"],
  ["SkillManagement:Read", "Skills", "page", "admin"],
  ["InboxManagement:Read", "Inboxes", "page", "admin"],
  ["QueueManagement:Read", "Queues", "page", "admin"],
  ["NumberManagement:Read", "Numbers", "page", "admin"],
  ["RoutingProfileManagement:Read", "Routing profiles", "page", "admin"],
  ["DispositionManagement:Read", "Dispositions", "page", "admin"],
  ["WaitingRoomManagement:Read", "Waiting rooms", "page", "admin"],
  ["FlowManagement:Read", "Flow editor", "page", "admin"],
  ["PreferenceManagement:Read", "Account preferences", "page", "admin"],
  ["AddressBookManagement:Read", "Address books", "page", "admin"],
  ["AddressCustomFieldManagement:Read", "Address book custom fields", "page", "admin"],
  ["CampaignManagement:Read", "Web campaigns", "page", "admin"],
  ["IntegrationManagement:Read", "Integrations", "page", "admin"],
  ["RoutingEngineManagement:Read", "Routing Engine console", "page", "admin"],
  ["LogManagement:Read", "Logs", "page", "admin"],
  ["EngagementLogManagement:Read", "Engagement log", "page", "admin"],
  ["VoiceCallLogManagement:Read", "Voice calls log", "page", "admin"],
  ["SMSLogManagement:Read", "SMS log", "page", "admin"],
  ["RecordingsLogManagement:Read", "Recordings log", "page", "admin"],
  ["VariablesLogManagement:Read", "Variables log", "page", "admin"],
  ["VoiceRecordingAccess:Read", "Recordings list", "page", "admin"],
  ["ActiveEngagements", "Open engagements", "tab", "client"],
  ["ScheduledEngagements", "Scheduled engagements", "tab", "client"],
  ["CompletedEngagements", "Closed engagements", "tab", "client"],
  ["TeamTab", "Teams tab", "tab", "client"],
  ["AddressBookTab", "Address book tab", "tab", "client"],
  ["InboxTab", "Inbox tab", "tab", "client"],
  ["AnalyticsTab", "Analytics tab", "tab", "client"],
  ["ConsumerHistory", "Consumer history", "panel", "client"],
];

/** Parses the Zoom Contact Center privileges page into a system file. */
export function parseZoomContactCenter(text: string): SystemFile {
  const categories: CategoryEntry[] = [];
  const described: Described[] = [];
  let category: string | undefined;
  let inTable = false;
  for (const [index, line] of lines(text).entries()) {
    if (SECTION.test(line)) {
      category = slugify(line);
      categories.push({ id: category, name: line });
      inTable = false;
      continue;
    }
    if (line === "PrivilegesDescription") {
      inTable = true;
      continue;
    }
    // Inside a table a blank line ends it; outside, lines are prose (intro, section blurbs).
    if (line === "") {
      inTable = false;
      continue;
    }
    if (!inTable || category === undefined) continue;
    const match = PRIVILEGE_LINE.exec(line);
    const ids = match?.[1]?.split(/,\s*/) ?? [];
    if (!match || ids.some((id) => !PRIVILEGE_ID.test(id))) {
      throw new Error(
        `${SYSTEM}: line ${index + 1}: expected privilege ids glued to "Allow user to ...": ${line}`,
      );
    }
    for (const id of ids) {
      described.push({
        id,
        category,
        description: match[2]!,
        pairedWith: ids.filter((other) => other !== id),
      });
    }
  }
  return build(categories, described);
}

/** One privilege as read from a line, before it becomes a permission. */
interface Described {
  readonly id: string;
  readonly category: string;
  readonly description: string;
  /** The other ids on the same line (the `Read` of an `Edit`, or the reverse). */
  readonly pairedWith: readonly string[];
}

/** Why `X:Edit` requires `X:Read`: our reading, which the document does not state. */
export const EDIT_NEEDS_READ: Assumption = {
  field: "requires",
  reason:
    "The document lists the Read and Edit privileges of a resource side by side without saying that one needs the other; we require Read for Edit because editing what one cannot see is meaningless",
};

function build(categories: CategoryEntry[], described: readonly Described[]): SystemFile {
  const known = new Set(described.map((d) => d.id));
  const surfaces: SurfaceEntry[] = [];
  const pagesOf = new Map<string, string>();
  for (const [privilege, label, kind, area] of SURFACES) {
    if (!known.has(privilege)) continue;
    const id = slugify(label);
    const location = `${AREA_LOCATION[area]} > ${label}`;
    pagesOf.set(privilege, location);
    // Client tabs and panels sit on the client itself; analytics and admin pages have their own path.
    const path = area === "client" ? "client" : `${area}/${id}`;
    surfaces.push(surface(SYSTEM, { id, label, kind, location, path, requires: privilege }));
  }
  // "Overview data for all channels" is a widget on the report whose `Read` it extends.
  for (const { id } of described) {
    const overview = /^(.+)Overview:Read$/i.exec(id);
    const parentId = overview ? `${overview[1]}:Read` : undefined;
    const parent = surfaces.find((s) => s.requires === parentId);
    if (!parent || parentId === undefined) continue;
    pagesOf.set(id, `${parent.location} > Overview`);
    surfaces.push({
      ...parent,
      id: `${parent.id}-overview`,
      label: `${parent.label} overview`,
      kind: "widget",
      location: `${parent.location} > Overview`,
      selector: `[data-rolecall-surface="${SYSTEM}/${parent.id}-overview"]`,
      requires: { all: [parentId, id] },
    });
  }
  const permissions: PermissionEntry[] = described.map(({ id, category, description, pairedWith }) => {
    const [resource, access] = id.split(":");
    // Where a resource has both, editing it is meaningless without seeing it.
    const read = `${resource}:Read`;
    const requires = access === "Edit" && known.has(read) ? read : null;
    const page = pagesOf.get(id);
    return permission({
      key: id,
      name: id,
      category,
      summary: pairedSummary(summarize(description), access, pairedWith.length > 0),
      pages: page === undefined ? [] : [page],
      requires,
      ...(requires === null ? {} : { assumptions: [EDIT_NEEDS_READ] }),
    });
  });
  return {
    id: SYSTEM,
    name: "Zoom Contact Center",
    // Which permissions give which admin action is a decision on the document: see the overrides.
    adminRights: [],
    categories,
    licenses: [],
    defaultRoles: [],
    permissions,
    surfaces,
  };
}

/**
 * A `X:Read, X:Edit` pair shares one description ("view and manage users"); each half gets its
 * own verb so the two summaries say how they differ.
 */
function pairedSummary(summary: string, access: string | undefined, paired: boolean): string {
  if (!paired) return summary;
  const both = /^View and manage (.+)$/.exec(summary);
  if (both) return access === "Edit" ? `Manage ${both[1]}` : `View ${both[1]}`;
  return access === "Edit" ? `${summary} and change it` : summary;
}

/** Importer for `zoom-contact-center-privileges.txt`. */
export const zoomContactCenterImporter: Importer = {
  seedFile: "zoom-contact-center-privileges.txt",
  parse: parseZoomContactCenter,
};
