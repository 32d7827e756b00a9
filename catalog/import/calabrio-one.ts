/**
 * Importer for Calabrio ONE's "Manage roles and permissions for QM, Analytics, and Insights" page,
 * scraped into a flat table: each permission is a name cell followed by Description, Page Access,
 * Licenses and Related Permissions and Notes cells, every cell closed by `|`, and each of the 16
 * category tables opened by a `Permission | Details | |` header whose heading text was lost.
 *
 * The parse is deterministic and pure. Everything the document leaves open (category names,
 * default roles, requirement judgments) is decided here as a named table or in
 * `catalog/import/overrides/calabrio-one.yaml`, so a reviewer sees every decision in one place.
 */
import type {
  Assumption,
  CategoryEntry,
  LicenseEntry,
  PermissionEntry,
  RequirementExpr,
  SurfaceEntry,
  SurfaceKind,
  SystemFile,
} from "../schema.js";
import { slugify } from "../schema.js";
import type { Importer } from "./importers.js";

/** The system id of Calabrio ONE in the catalog. */
export const CALABRIO_ONE_SYSTEM_ID = "calabrio-one";

/**
 * Category of each table, found by the table's first permission (the headings were lost in the
 * scrape, so names are ours; `catalog/import/overrides/calabrio-one.yaml` restates each with its reason).
 * Keyed by the first permission rather than by position so a reordered document still imports.
 */
const TABLE_CATEGORIES: readonly (CategoryEntry & { readonly firstPermission: string })[] = [
  { firstPermission: "Administer QM", id: "administration", name: "Administration" },
  { firstPermission: "View QM Dashboard", id: "dashboards", name: "Dashboards" },
  { firstPermission: "View Recycle Bin", id: "qm-administration", name: "QM Administration" },
  { firstPermission: "Capture Desktop Analytics", id: "recording", name: "Recording and Capture" },
  { firstPermission: "View Contacts", id: "contacts", name: "Contacts" },
  { firstPermission: "Create Evaluation Comment", id: "evaluations", name: "Evaluations" },
  { firstPermission: "Calibrate Contact", id: "calibration", name: "Calibration" },
  { firstPermission: "Create Evaluation Goal", id: "goals", name: "Goals and Tasks" },
  { firstPermission: "Administer QM Surveys", id: "surveys", name: "Surveys" },
  { firstPermission: "View System Analytics", id: "analytics", name: "Analytics" },
  { firstPermission: "View QM Reports", id: "reporting", name: "Reports and Data Explorer" },
  { firstPermission: "Send Pause / Resume Command", id: "recording-controls", name: "Recording Controls" },
  { firstPermission: "View Experience Automation", id: "bot-analytics", name: "Bot Analytics" },
  { firstPermission: "View Content", id: "insights", name: "Insights" },
  { firstPermission: "Delivery Management", id: "data-management", name: "Data Management" },
  { firstPermission: "Coachable Performance User", id: "performance-coaching", name: "Performance Coaching" },
];

/**
 * Names for the permissions whose name cell was lost, recognised by their description. The
 * second one's own text calls the first "Mobile Device Access"; "Mobile App Access" is ours.
 */
const UNNAMED_PERMISSIONS: readonly { readonly description: RegExp; readonly name: string }[] = [
  { description: /limited mobile version of the Calabrio ONE website/, name: "Mobile Device Access" },
  { description: /log in to and use the Calabrio ONE mobile app/, name: "Mobile App Access" },
];

/**
 * Names the notes require that are not permissions of this document (legacy or misspelt names).
 * They are dropped rather than guessed; an unknown name not listed here fails the import so a
 * changed document is noticed.
 */
const ABSENT_PERMISSION_NAMES: ReadonlySet<string> = new Set(["view organization"]);

/**
 * Products whose Page Access cells are relative to the product's own navigation ("Overview",
 * "Configuration > Topic Metrics"): their pages get the product as breadcrumb root so the
 * surfaces of different products do not collide.
 */
const CATEGORY_PAGE_ROOTS: Readonly<Record<string, string>> = {
  "bot-analytics": "Bot Analytics",
  "performance-coaching": "Performance Coaching",
};

/** Page Access cells written as prose, rewritten as breadcrumbs (after parentheticals are removed). */
const PAGE_REWRITES: readonly {
  readonly match: RegExp;
  readonly category?: string;
  readonly pages: readonly string[];
  readonly kind?: SurfaceKind;
}[] = [
  {
    // "Share option on the context menu ... on the Data Explorer > Reports page."
    match: /^Share option on the context menu .* on the (.+?) page\.?$/,
    pages: ["$1 > Share"],
    kind: "menu-item",
  },
  {
    match: /^All Performance Coaching pages except Metric Administration$/,
    pages: [
      "Performance Coaching",
      "Performance Coaching > Agent Dashboard",
      "Performance Coaching > Performance Dashboard",
    ],
  },
  {
    match: /^All Performance Coaching pages$/,
    pages: [
      "Performance Coaching",
      "Performance Coaching > Agent Dashboard",
      "Performance Coaching > Performance Dashboard",
      "Performance Coaching > Metric Administration",
    ],
  },
  // Manage/Deploy Infospace sit beside Delivery Management, whose cell says "Data Explorer > Settings".
  { match: /^Settings$/, category: "data-management", pages: ["Data Explorer > Settings"] },
];

/** Hand-written one-line summaries, in our own words, by permission key. */
export const CALABRIO_ONE_SUMMARIES: Readonly<Record<string, string>> = {
  "administer-qm": "Configure the QM application's global settings.",
  "agent-monitoring":
    "Open Agent Monitoring to watch an active agent's screen or audio and gather agent logs.",
  "administer-roles": "Create roles and choose which permissions each role carries.",
  "administer-tenant": "Run tenant-level administration such as merging users and IAM sign-in setup.",
  "administer-org-structure": "Maintain the groups, teams and users inside one's scope.",
  "receive-business-notifications": "Subscribe to notifications about day-to-day contact-center operations.",
  "receive-support-notifications": "Choose how troubleshooting notifications for support are delivered.",
  "view-api-documentation": "Read the product's API reference.",
  "administer-acd-configuration": "Connect Calabrio ONE to the ACD.",
  "administer-distribution-list": "Maintain distribution lists.",
  "view-audit-information": "See server status and system notifications.",
  "bulk-import": "Load data in bulk through the import APIs.",
  "administer-password-policy": "Set password rules and unlock locked-out accounts.",
  "view-desktop-monitoring": "Open the Desktop Monitoring page.",
  "administer-encryption-keys": "Rotate the keys that encrypt stored files.",
  "administer-active-directory-authentication": "Set up and change Active Directory connections.",
  "administer-gamification": "Configure gamification for agents.",
  "view-gamification": "See gamification results.",
  "mobile-device-access": "Use the reduced mobile version of the web site.",
  "view-update-hoteling-users": "List, change and add hoteling users.",
  "view-evaluator-details": "See who evaluated a contact and related evaluator details.",
  "assign-user-roles": "Give roles to users from the Users page or a user import.",
  "edit-qm-views": "Assign QM views to users from the Users page or a user import.",
  "mobile-app-access": "Sign in to and use the Calabrio ONE mobile app.",
  "view-qm-dashboard": "See QM widgets on Data Explorer dashboards.",
  "administer-dashboards": "Set up the Analytics and QM dashboards.",
  "view-recycle-bin": "Search deleted contacts and restore them for playback.",
  "delete-contact": "Remove contacts (they go to the recycle bin).",
  "administer-workflow": "Set up QM workflows.",
  "administer-metadata-fields": "Define and maintain metadata fields.",
  "administer-evaluation-forms": "Build and change evaluation forms.",
  "administer-recording-sites": "Pick a team's recording site when several exist.",
  "administer-contact-goals": "See contact goals on the Contact Goal Administration page.",
  "configure-telephony-groups": "Set up telephony, signaling and recording groups.",
  "configure-device-associations": "Map the contact center's devices.",
  adminrecontasks: "Legacy reconciliation-task permission with no effect today.",
  "capture-desktop-analytics": "Capture agent desktop activity automatically for Desktop Analytics.",
  "record-screen": "Record the user's screen activity automatically.",
  "record-voice": "Record the user's call audio; no audio is kept without it.",
  "live-screen-monitoring": "Watch a user's screen live; the monitored agent needs it as well.",
  "live-audio-monitoring": "Listen to a user's calls live; the monitored agent needs it as well.",
  "record-on-demand-rtp-signaling": "Let the agent record only chosen call segments (Record On Demand mode).",
  "capture-desktop-events": "Capture agent desktop events automatically.",
  "view-contacts": "Search every recorded contact in scope on the Interactions page.",
  "view-scored-contacts": "Search only contacts that already have an evaluation score.",
  "export-recordings": "Export recordings from Interactions.",
  "view-custom-metadata": "See custom metadata in Interactions and the media player.",
  "edit-custom-metadata": "Change custom metadata in Interactions and the media player.",
  "tag-contact": "Tag a contact from the recording controls.",
  "create-contact": "Add a non-call contact in Interactions.",
  "view-analytics-data-for-contacts": "See NPS and evaluation prediction scores for contacts in scope.",
  "view-root-recordings": "See root recordings.",
  "untag-contact": "Remove a tag from a contact.",
  "mark-for-training": "Flag a contact for training review.",
  "view-all-training-contacts": "See every training-flagged contact in the tenant.",
  "bulk-contact-export": "Schedule or run exports of contact audio, details and metadata (own exports only).",
  "view-unreconciled-root-recordings": "See all root recordings with no filtering.",
  "view-bulk-contact-export": "See everyone's bulk contact exports without creating any.",
  "bulk-delete": "Legacy bulk-delete permission with no effect today.",
  "capture-contacts": "Bring an agent's contacts of any type into Calabrio ONE; the base of all capture.",
  "view-all-hr-contacts": "See every HR-flagged contact in the tenant.",
  "mark-for-hr": "Flag a contact for HR review.",
  viewnotprocessedreason: "Legacy permission for not-processed reasons with no effect today.",
  "include-self-scope-in-qm-views": "Add one's own contacts to what QM views already show.",
  "create-evaluation-comment": "Write comments on an evaluation form in the media player.",
  "approve-contact-evaluation": "Sign off a contact's evaluation in the media player.",
  "evaluate-contact": "Score a contact and open the evaluation panel for unscored ones.",
  "edit-evaluation-comment": "Change comments on an evaluation form.",
  "view-evaluations": "Read contact evaluations in the media player.",
  "self-evaluate-contact": "Score one's own contacts.",
  "self-approve-contact-evaluation": "Sign off evaluations of one's own contacts.",
  "edit-any-evaluation": "Change a completed evaluation and see its evaluator details.",
  "calibrate-contact": "Flag contacts for calibration and run calibration evaluations.",
  "self-calibrate-contact": "Calibrate one's own contacts.",
  "create-evaluation-goal": "Set up and assign ad-hoc evaluation tasks and contact goals.",
  "create-calibration-goal": "Set up and assign ad-hoc calibration tasks and contact goals.",
  "create-review-goal": "Set up and assign ad-hoc review tasks and contact goals.",
  "view-contact-goal": "Open the Contact Queue and the goal-progress widget.",
  "administer-qm-surveys": "Configure outside post-call survey providers.",
  "view-survey-results": "See customer survey results in the player, contact table and reports.",
  "view-system-analytics": "Build and manage data sets on Analytics dashboards.",
  "administer-desktop-analytics": "Manage Desktop Analytics tasks in the Analytics Task Manager.",
  "administer-speech-analytics": "See and remove retired Phonetics Analytics tasks.",
  "administer-speech-to-text-analytics": "Manage transcription tasks in the Analytics Task Manager.",
  "administer-text-analytics": "Manage Text Analytics tasks in the Analytics Task Manager.",
  "view-desktop-analytics": "Use the Desktop Analytics views.",
  "view-speech-analytics": "Use the Speech Analytics views.",
  "view-speech-to-text-analytics": "See transcripts in the media player and search transcribed audio.",
  "view-performance-by-topics": "See performance broken down by Trending Topics.",
  "edit-performance-by-topics": "Change the performance-by-topic views of Trending Topics.",
  "view-trending-topics": "Open the Trending Topics pages.",
  "edit-trending-topics": "Group, ungroup and otherwise edit topics in Trending Topics.",
  "view-trending-topics-notification": "See Trending Topics notifications.",
  "edit-trending-topics-notification": "Change Trending Topics notifications.",
  "view-text-analytics": "Use the Text Analytics views.",
  "view-analytics": "Use every Analytics view.",
  "administer-analytics": "Call some Analytics APIs; with tenant administration, configure Analytics.",
  "administer-predictive-analytics": "Manage predictive score (PES and PNPS) tasks.",
  "administer-analytics-phrases": "Maintain phrases and phrase categories in the Phrase Manager.",
  "view-qm-reports": "Open QM reports.",
  "administer-qm-reports": "Manage QM reports.",
  "view-qm-evaluation-reports": "Open QM evaluation reports.",
  "view-qm-system-reports": "Open QM system reports.",
  "view-qm-survey-reports": "Open QM survey reports.",
  "advanced-reporting-api": "Reach the API behind Data Explorer.",
  "home-page": "See one's home dashboard read-only.",
  "data-explorer": "Browse Data Explorer assets read-only.",
  "content-creation": "Create, change and remove Data Explorer reports and dashboards.",
  "content-publishing": "Share one's own reports and dashboards with one's sharing groups.",
  "send-pause-resume-command": "Pause and resume a user's call recording, automatically or by hand.",
  "send-login-logout-command": "Link or unlink a user and a phone extension for network recording.",
  "send-metadata-command": "Attach metadata to a user's call recording.",
  "send-tag-command": "Tag a user's call recordings.",
  "send-segment-and-delete-save-command": "Start and stop call segments and keep or discard them.",
  "send-start-screen-stop-screen-command": "Start and stop screen-only recording.",
  "pause-resume-buttons": "Use Pause and Resume on the Recording Controls page.",
  "login-logout-buttons": "Use Log In and Log Out on the Recording Controls page.",
  "add-metadata-button": "Use Add Metadata on the Recording Controls page.",
  "tag-button": "Use Tag on the Recording Controls page.",
  "segment-and-delete-save-buttons":
    "Use the segment-and-delete and segment-and-save buttons on Recording Controls.",
  "start-stop-screen-buttons": "Use Start Screen and Stop Screen on Recording Controls.",
  "view-experience-automation":
    "See headline bot metrics such as BES, BAS and cost per automated conversation.",
  "configure-experience-automation": "Set targets for the headline bot metrics and topics.",
  "view-conversation-distribution":
    "See how conversations split between the digital assistant and live agents.",
  "view-conversation-topics": "Open the Conversation Topics page.",
  "edit-conversation-topics": "Blacklist, merge and rename conversation topics.",
  "view-conversation-topics-metrics-analysis": "See the BES and BAS signal breakdown per topic.",
  "view-conversation-topics-transcripts": "Read transcripts inside a topic.",
  "view-conversation-topics-related-topics": "See further topics found after a conversation's main topic.",
  "view-conversation-topics-grouped-topics": "See which topics were merged under a main topic.",
  "view-conversation-topics-entities": "See keywords found in a topic's transcripts.",
  "view-conversation-topics-intents": "See which intents fired within a topic.",
  "view-impact-analysis": "Compare topic metrics between two date ranges.",
  "view-aggregated-metrics": "See common aggregated bot metrics.",
  "view-transcript-search": "Search bot transcripts.",
  "view-vaa-overview": "See the Virtual Agent Analytics overview of message metrics.",
  "view-vaa-performance-comparison": "Compare message metrics by day, month, quarter or year.",
  "view-vaa-response-performance": "See bot responses and what users did next.",
  "view-vaa-unclassified-messages": "See messages that matched no intent, grouped by topic.",
  "edit-vaa-unclassified-messages": "Assign unmatched messages to existing or new intents.",
  "view-vaa-intent-performance": "See metrics per intent.",
  "view-bot-management-report": "Read uploaded bot management reports.",
  "view-bot-performance-report": "Read uploaded bot performance reports.",
  "configure-vaa": "Set targets in Virtual Agent Analytics.",
  "view-company-configurations": "See the company's own thresholds.",
  "edit-company-configurations": "Set the company's own thresholds.",
  "view-alert-notification": "See the alerts tab when a signal crosses its threshold.",
  "configure-alert-notification": "Set alert thresholds.",
  "view-transcript-summary": "Read generated transcript summaries.",
  "configure-transcript-summary": "Set the prompt used to summarise transcripts.",
  "view-activity-notifications": "See notices of actions taken on topics (blacklist, merge, rename).",
  "view-content": "Open Insights dashboards others in the organisation have shared.",
  "view-analytics-data": "See Insights content built on Analytics data, and build on it with Create Content.",
  "view-classic-wfm-data":
    "See Insights content built on Classic WFM data, and build on it with Create Content.",
  "view-qm-data": "See Insights content built on QM data, and build on it with Create Content.",
  "view-wfm-data": "See Insights content built on WFM data, and build on it with Create Content.",
  "create-content": "Build Insights analyses and dashboards.",
  "share-content": "Share one's Insights analyses and dashboards across the organisation.",
  "administer-insights": "Insights administration permission with no effect today.",
  "delivery-management": "See the current information space and opt in or out of emailed reports.",
  "report-delivery": "Schedule who receives one's own reports by email, and when.",
  "data-library": "Browse Data Library collections and data sets read-only.",
  "data-library-design": "Create and maintain one's own data libraries.",
  "data-library-publishing": "Share data collections with one's sharing groups.",
  "data-task-administration": "Manage agents and tasks in information spaces one owns.",
  "sharing-groups-administration": "Create and maintain the user groups content is shared with.",
  "data-management-system-administration": "Create and manage real-time data jobs.",
  "data-udm-administration": "Add and manage tenants in the Unified Data Mart.",
  "manage-infospace": "Use lifecycle management for business-intelligence information spaces.",
  "deploy-infospace": "Deploy information spaces to other accounts.",
  "coachable-performance-user": "Be coached and see one's own performance dashboard.",
  "performance-coach": "Follow performance in scope and run coaching sessions, goals and tasks.",
  "performance-observer": "See everyone's performance read-only.",
  "performance-administrator": "Control all of Performance Coaching, including metrics.",
};

/** A permission as read from the table, before interpretation. */
interface RawPermission {
  name: string | null;
  table: number;
  description: string;
  pageAccess: string;
  licenses: string;
  related: string;
}

type Field = "description" | "pageAccess" | "licenses" | "related";

const LABELS: Readonly<Record<string, Field>> = {
  Description: "description",
  "Page Access": "pageAccess",
  Licenses: "licenses",
  "Related Permissions and Notes": "related",
  "Related Permission and Notes": "related",
};

const TABLE_MARKER = "\uE002table";
const EMPTY_CELL = /^[—–-]?$/;

/** Splits the document into permission records, one per name/Description group, tagged with their table. */
function readPermissions(text: string): RawPermission[] {
  const marked = text.replace(
    /^Permission \| Details \| \|[ \t]*\r?\n---\|---\|---\|[ \t]*$/gm,
    `|${TABLE_MARKER}|`,
  );
  const cells = marked.split("|").map((cell) => cell.replace(/\s+/g, " ").trim());
  const out: RawPermission[] = [];
  let table = -1;
  let current: RawPermission | null = null;
  let pendingName: string | null = null;
  let expecting: Field | null = null;
  const start = (name: string | null): RawPermission => {
    const raw: RawPermission = { name, table, description: "", pageAccess: "", licenses: "", related: "" };
    out.push(raw);
    current = raw;
    return raw;
  };
  for (const cell of cells) {
    // Everything before the first table is the page's prose about roles and licenses.
    if (table < 0 && cell !== TABLE_MARKER) continue;
    const label = LABELS[cell];
    if (expecting !== null) {
      const field: Field = expecting;
      expecting = null;
      // A label or table header right after a label means the value cell was left out.
      if (label === undefined && cell !== TABLE_MARKER) {
        if (current) (current as RawPermission)[field] = cell;
        continue;
      }
    }
    if (cell === TABLE_MARKER) {
      // A name-like cell right before a table header is a note about the next table ("IMPORTANT ...").
      pendingName = null;
      current = null;
      table++;
      continue;
    }
    if (label === "description") {
      start(pendingName);
      pendingName = null;
      expecting = "description";
      continue;
    }
    if (label !== undefined) {
      expecting = label;
      continue;
    }
    if (cell === "") continue;
    if (pendingName !== null) {
      // A name followed straight by text: the "Description" label was left out (AdminReconTasks).
      start(pendingName).description = cell;
      pendingName = null;
      continue;
    }
    pendingName = cell;
  }
  return out;
}

/** Turns a Licenses cell into license names: prefix stripped, list split, trailing notes dropped. */
export function parseLicenseNames(cell: string): string[] {
  const text = cell
    .replace(/\s+NOTE\b.*$/, "")
    .replace(/^[A-Za-z ]+Licen[cs]es?:\s*/, "")
    .trim();
  if (EMPTY_CELL.test(text)) return [];
  return text
    .split(/\s*,\s*(?:and\s+)?|\s+and\s+/)
    .map((name) => name.trim())
    .filter((name) => name !== "");
}

/** Splits a Page Access cell into breadcrumbs, applying the rewrites and the product roots. */
export function parsePages(cell: string, category: string): { pages: string[]; kind: SurfaceKind | null } {
  const text = cell
    // Parentheticals that qualify access ("(read only)") are notes; "(RT)" in a name is kept.
    .replace(/\([^)]*\bonly\)/g, " ")
    .replace(/\s*>\s*/g, " > ")
    .replace(/\s+/g, " ")
    .trim();
  if (EMPTY_CELL.test(text)) return { pages: [], kind: null };
  for (const rewrite of PAGE_REWRITES) {
    if (rewrite.category !== undefined && rewrite.category !== category) continue;
    const m = rewrite.match.exec(text);
    if (!m) continue;
    return {
      pages: rewrite.pages.map((p) => p.replace(/\$(\d)/g, (_, i: string) => m[Number(i)] ?? "")),
      kind: rewrite.kind ?? null,
    };
  }
  const root = CATEGORY_PAGE_ROOTS[category];
  const pages = text
    .split(/\s*,\s*|(?<=[^>\s])\s+(?=Application Management\b|Insights >|Analytics >|Analytics Dashboard\b)/)
    .filter((p) => p !== "")
    .map((p) => (root !== undefined && p !== root && !p.startsWith(`${root} >`) ? `${root} > ${p}` : p));
  return { pages, kind: null };
}

/** Splits notes into sentences, keeping "Org." inside a name and splitting "...permission To ..." run-ons. */
function sentences(text: string): string[] {
  return text
    .replace(/\bOrg\. /g, "Org\uE001 ")
    .split(/(?<=[.:])\s+(?=[A-Z“"])|(?<=\bpermissions?)\s+(?=(?:To|If|You)\s)/)
    .map((s) => s.replace(/\uE001/g, ".").trim())
    .filter((s) => s !== "");
}

/** Resolves permission names in notes to keys, forgiving the document's singular/plural slips. */
class NameResolver {
  private readonly byKey: ReadonlyMap<string, string>;
  private readonly productData: readonly string[];
  private readonly protectedNames: readonly string[];

  constructor(names: readonly string[]) {
    this.byKey = new Map(names.map((n) => [slugify(n), n] as const));
    // "at least one “View [Product] Data” permission" names the family of per-product data permissions.
    this.productData = names.filter((n) => /^View .+ Data$/.test(n)).map(slugify);
    // Names containing list words must not be split as lists ("Send Segment and Delete / Save Command").
    this.protectedNames = names.filter((n) => /,| and | or /.test(n)).sort((a, b) => b.length - a.length);
  }

  /** The key of a name, or `null` when it is a known absent name; throws on anything else. */
  key(name: string, context: string): string | null {
    const slug = slugify(name);
    for (const candidate of [slug, slug.replace(/s$/, ""), `${slug}s`]) {
      if (this.byKey.has(candidate)) return candidate;
    }
    if (ABSENT_PERMISSION_NAMES.has(name.toLowerCase())) return null;
    throw new Error(`calabrio-one: '${context}' names unknown permission '${name}'`);
  }

  /** Parses "A, B, and C or D permissions" into all-of / any-of over keys; licenses are skipped. */
  list(text: string, context: string): RequirementExpr[] {
    let body = text;
    const slots: string[] = [];
    for (const name of this.protectedNames) {
      body = body.split(name).join(`\uE000${slots.length}\uE000`);
      slots.push(name);
    }
    const terms: RequirementExpr[] = [];
    for (const part of body.split(/\s*,\s*(?:and\s+)?|\s+and\s+/)) {
      const alternatives: RequirementExpr[] = [];
      for (const atom of part.split(/\s+or\s+/)) {
        const name = atom
          .replace(/\uE000(\d+)\uE000/g, (_, i: string) => slots[Number(i)] ?? "")
          .replace(/\bpermissions?\b.*$/, "")
          .replace(/^(?:the|at least one)\s+/, "")
          .replace(/[“”"]/g, "")
          .trim();
        if (name === "" || /\blicen[cs]e\b/i.test(atom)) continue;
        if (name === "View [Product] Data") {
          alternatives.push(anyOf(this.productData));
          continue;
        }
        const key = this.key(name, context);
        if (key !== null) alternatives.push(key);
      }
      if (alternatives.length > 0) terms.push(anyOf(alternatives));
    }
    return terms;
  }

  /** Whether the whole cell is a plain comma list of permission names (Bot Analytics, Data Explorer). */
  bareList(text: string): string[] | null {
    const names = text.split(/\s*,\s*/);
    const keys = names.map((n) => (this.byKey.has(slugify(n)) ? slugify(n) : null));
    return keys.every((k): k is string => k !== null) ? keys : null;
  }
}

function anyOf(items: readonly RequirementExpr[]): RequirementExpr {
  return items.length === 1 ? items[0]! : { any: [...items] };
}

function allOf(items: readonly RequirementExpr[]): RequirementExpr | null {
  const seen = new Set<string>();
  const unique = items.filter((item) => {
    const id = JSON.stringify(item);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  if (unique.length === 0) return null;
  return unique.length === 1 ? unique[0]! : { all: unique };
}

/** What the notes of one permission say, read sentence by sentence. */
interface ReadNotes {
  readonly requires: RequirementExpr[];
  /** "Monitors also need ...": what only the monitoring (acting) side of a mutual permission needs. */
  readonly actorRequires: RequirementExpr[];
  readonly implies: string[];
  /** "To access <page>, you also need ...": conditions of a page, not of holding the permission. */
  readonly pageNeeds: { readonly page: string; readonly needs: RequirementExpr[] }[];
  /** "Your organization must have a Calabrio X license": license names the tenant must hold. */
  readonly organizationLicenses: string[];
  /** "By default, ... assigns this permission to all roles that have the X license": license names. */
  readonly defaultFor: string[];
}

const HARD_CLAUSE = /^(?:You|Agents|The agent)\b.*?\b(?:must also have|must have|also needs?) the (.+?)\.?$/;
const ACTOR_CLAUSE = /^Monitors\b.*?\b(?:must also have|must have|also needs?) the (.+?)\.?$/;
const PAGE_CLAUSE =
  /^To access (?:the )?(.+?)(?: page)?, you (?:also need|must have|must also have) the (.+?)\.?$/;
/** "You must also have ..." right after a page sentence: one more condition of the same page. */
const PAGE_CONTINUATION = /^You must also have the /;
const IMPLIES_CLAUSE =
  /automatically gets the (.+?) permission|adding .+? also adds (?:the )?(.+?)(?: permission)?\.?$/i;
const ORGANIZATION_LICENSE_CLAUSE = /^Your organi[sz]ation must have an? (?:Calabrio )?(.+?) license\.?$/i;
const DEFAULT_GRANT_CLAUSE =
  /^By default\b.*?\b(?:assigns|gives) this permission to (?:all|every) roles? (?:that (?:has|have)|with) the (.+?) license\.?$/i;

function readNotes(notes: string, resolver: NameResolver, context: string): ReadNotes {
  const out: ReadNotes = {
    requires: [],
    actorRequires: [],
    implies: [],
    pageNeeds: [],
    organizationLicenses: [],
    defaultFor: [],
  };
  let lastPage: { readonly page: string; readonly needs: RequirementExpr[] } | null = null;
  for (const sentence of sentences(notes)) {
    const page = PAGE_CLAUSE.exec(sentence);
    if (page) {
      lastPage = { page: page[1]!, needs: resolver.list(page[2]!, context) };
      out.pageNeeds.push(lastPage);
      continue;
    }
    const afterPage = lastPage;
    lastPage = null;
    const defaultGrant = DEFAULT_GRANT_CLAUSE.exec(sentence);
    if (defaultGrant) {
      out.defaultFor.push(defaultGrant[1]!);
      continue;
    }
    const organization = ORGANIZATION_LICENSE_CLAUSE.exec(sentence);
    if (organization) {
      out.organizationLicenses.push(organization[1]!);
      continue;
    }
    // Other "To <do something>, you also need ..." sentences are conditions of an action, not of holding it.
    if (/^(?:To|If|With|By default)\b/.test(sentence)) continue;
    const actor = ACTOR_CLAUSE.exec(sentence);
    if (actor) {
      out.actorRequires.push(...resolver.list(actor[1]!, context));
      continue;
    }
    const hard = HARD_CLAUSE.exec(sentence);
    if (hard) {
      const needs = resolver.list(hard[1]!, context);
      out.requires.push(...needs);
      // "To access Trending Topics, you also need A and B. You must also have C or D." names
      // four conditions of the page; C or D stays a requirement of the permission as well.
      if (afterPage !== null && PAGE_CONTINUATION.test(sentence)) afterPage.needs.push(...needs);
    }
    const implied = IMPLIES_CLAUSE.exec(sentence);
    const impliedName = implied?.[1] ?? implied?.[2];
    if (impliedName !== undefined) {
      const key = resolver.key(impliedName, context);
      if (key !== null) out.implies.push(key);
    }
  }
  return out;
}

/**
 * Organisation licenses named by product abbreviation ("a Calabrio QM license"), mapped to the
 * license the Licenses cells name in full. Names not listed are license names as they stand.
 */
const ORGANIZATION_LICENSE_NAMES: Readonly<Record<string, string>> = {
  QM: "Quality Management",
  WFM: "Workforce Management",
};

/** What the page's prose (before the tables) says about licenses. */
interface LicenseProse {
  /** Licenses the vendor no longer sells ("... is not currently available for purchase"). */
  readonly notForSale: readonly string[];
  /** Licenses the organisation holds without any role ("you do not need to assign this license to any roles"). */
  readonly heldByTenant: readonly string[];
}

/** Reads the license notes of the whole document (they sit in its prose, outside the tables). */
export function readLicenseProse(text: string): LicenseProse {
  const flat = text.replace(/\s+/g, " ");
  const notForSale = [
    ...flat.matchAll(
      /\bIMPORTANT ([A-Z][A-Za-z ]*?) (?:is not (?:currently )?available for purchase|cannot be (?:bought|purchased))\b/g,
    ),
  ].map((m) => m[1]!);
  const heldByTenant = [
    ...flat.matchAll(
      /\bIf your organi[sz]ation has the ([A-Z][A-Za-z ]*?) license\b[^.]*\.[^.]*?\bdo not need to assign this license to any roles\b/g,
    ),
  ].map((m) => m[1]!);
  return { notForSale: [...new Set(notForSale)], heldByTenant: [...new Set(heldByTenant)] };
}

/** A summary for permissions nobody has written one for yet: plain, and clearly generated. */
function fallbackSummary(name: string, categoryName: string, unused: boolean): string {
  return unused
    ? `${name}: listed by the vendor but not currently used.`
    : `${categoryName} permission: ${name}.`;
}

/** Parses the Calabrio ONE roles-and-permissions document into a system file (before overrides). */
export function parseCalabrioOne(text: string): SystemFile {
  const raws = readPermissions(text);
  if (raws.length === 0) throw new Error("calabrio-one: no permission table found in the document");

  const named = raws.map((raw) => {
    if (raw.name !== null) return { ...raw, name: raw.name };
    const rule = UNNAMED_PERMISSIONS.find((r) => r.description.test(raw.description));
    if (!rule)
      throw new Error(`calabrio-one: a permission has no name and no naming rule: '${raw.description}'`);
    return { ...raw, name: rule.name };
  });

  const tableCategory = new Map<number, CategoryEntry>();
  for (const raw of named) {
    if (tableCategory.has(raw.table)) continue;
    const entry = TABLE_CATEGORIES.find((c) => c.firstPermission === raw.name);
    if (!entry) throw new Error(`calabrio-one: no category for the table that starts with '${raw.name}'`);
    tableCategory.set(raw.table, { id: entry.id, name: entry.name });
  }
  const categoryOf = (raw: { table: number }) => tableCategory.get(raw.table)!;

  const keys = new Map<string, string>();
  for (const raw of named) {
    const key = slugify(raw.name);
    const clash = keys.get(key);
    if (clash !== undefined)
      throw new Error(`calabrio-one: '${raw.name}' and '${clash}' share the key '${key}'`);
    keys.set(key, raw.name);
  }
  const resolver = new NameResolver(named.map((r) => r.name));

  // Related-permission cells that are bare lists ("View Experience Automation") link both ways; only
  // the edit/configure side depends on the view side, and a one-way mention is a dependency.
  const bareLists = new Map(named.map((r) => [slugify(r.name), resolver.bareList(r.related) ?? []] as const));
  const bareRequires = (key: string): string[] =>
    (bareLists.get(key) ?? []).filter((other) => {
      const back = bareLists.get(other) ?? [];
      if (!back.includes(key)) return true;
      return keys.get(other)!.startsWith("View ") && !keys.get(key)!.startsWith("View ");
    });

  const licenseNames = new Map<string, string>();
  const surfaceKinds = new Map<string, SurfaceKind>();
  const pageNeeds = new Map<string, RequirementExpr[]>();
  const defaultGrants = new Map<string, string[]>();
  const permissions: PermissionEntry[] = named.map((raw) => {
    const key = slugify(raw.name);
    const category = categoryOf(raw);
    const unused = /not currently used/i.test(raw.description);
    const licenses = parseLicenseNames(raw.licenses).map((name) => {
      licenseNames.set(slugify(name), name);
      return slugify(name);
    });
    const { pages, kind } = parsePages(raw.pageAccess, category.id);
    if (kind !== null) for (const page of pages) surfaceKinds.set(page, kind);
    const notes = readNotes(raw.related, resolver, raw.name);
    for (const { page, needs } of notes.pageNeeds) {
      const id = page.toLowerCase();
      pageNeeds.set(id, [...(pageNeeds.get(id) ?? []), ...needs]);
    }
    for (const name of notes.defaultFor) {
      const id = slugify(name);
      defaultGrants.set(id, [...(defaultGrants.get(id) ?? []), key]);
    }
    const bare = bareRequires(key);
    const assumptions: Assumption[] = [];
    if (bare.length > 0) assumptions.push(BARE_RELATED_CELL);
    const tenantLicenses = notes.organizationLicenses.map((name) => {
      const full = ORGANIZATION_LICENSE_NAMES[name] ?? name;
      if (full !== name) {
        assumptions.push({
          field: "tenantLicenses",
          reason: `The note names the organisation's license by product abbreviation ('${name}'); we take it to be the ${full} license the Licenses cells name in full`,
        });
      }
      if (!licenseNames.has(slugify(full))) licenseNames.set(slugify(full), full);
      return slugify(full);
    });
    const actorRequires = allOf(notes.actorRequires);
    return {
      key,
      name: raw.name,
      category: category.id,
      summary: CALABRIO_ONE_SUMMARIES[key] ?? fallbackSummary(raw.name, category.name, unused),
      pages,
      licenses: [...new Set(licenses)],
      requires: allOf([...notes.requires, ...bare]),
      implies: notes.implies,
      status: unused ? "unused" : "active",
      mutual: /both the agent and the monitor must have this permission/i.test(
        `${raw.description} ${raw.related}`,
      ),
      scope: null,
      ...(actorRequires === null ? {} : { actorRequires }),
      ...(tenantLicenses.length === 0 ? {} : { tenantLicenses: [...new Set(tenantLicenses)] }),
      ...(assumptions.length === 0 ? {} : { assumptions }),
    };
  });

  const prose = readLicenseProse(text);
  for (const name of prose.heldByTenant) licenseNames.set(slugify(name), name);
  const licenseIds = new Set(licenseNames.keys());
  const knownLicenses = (what: string, names: Iterable<string>): Set<string> => {
    const ids = new Set([...names].map(slugify));
    for (const id of ids) {
      if (!licenseIds.has(id)) throw new Error(`calabrio-one: ${what} names unknown license '${id}'`);
    }
    return ids;
  };
  const notForSale = knownLicenses("a purchase note", prose.notForSale);
  const heldByTenant = knownLicenses("a license note", prose.heldByTenant);
  knownLicenses("a 'by default' note", defaultGrants.keys());
  const licenses = [...licenseNames].map(
    ([id, name]): LicenseEntry => ({
      id,
      name,
      ...(heldByTenant.has(id) ? { heldBy: "tenant" } : {}),
      ...(notForSale.has(id) ? { purchasable: false } : {}),
      ...(defaultGrants.has(id) ? { defaultGrants: defaultGrants.get(id)! } : {}),
    }),
  );

  return {
    id: CALABRIO_ONE_SYSTEM_ID,
    name: "Calabrio ONE",
    // Which permissions give which admin action is a decision on the document: see the overrides.
    adminRights: [],
    categories: [...new Map([...tableCategory.values()].map((c) => [c.id, c] as const)).values()],
    licenses,
    // Which permissions the default roles start with is not documented: decided in the overrides.
    defaultRoles: [],
    permissions,
    surfaces: buildSurfaces(permissions, surfaceKinds, pageNeeds),
  };
}

/** Why a bare "Related Permissions" cell (names, no sentence) is read as a requirement. */
export const BARE_RELATED_CELL: Assumption = {
  field: "requires",
  reason:
    "The Related Permissions cell only lists names, without saying how they relate; we read it as a requirement of the edit or configure side on the view side, and a one-way mention as a requirement",
};

/**
 * One surface per distinct page location: shown to anyone holding a permission that opens it, and
 * also, when a note says "to access <page> you also need ...", to those holding what it needs.
 */
function buildSurfaces(
  permissions: readonly PermissionEntry[],
  kinds: ReadonlyMap<string, SurfaceKind>,
  pageNeeds: ReadonlyMap<string, RequirementExpr[]>,
): SurfaceEntry[] {
  const openers = new Map<string, string[]>();
  for (const p of permissions) {
    for (const page of p.pages) openers.set(page, [...(openers.get(page) ?? []), p.key]);
  }
  return [...openers].map(([location, keys]): SurfaceEntry => {
    const segments = location.split(" > ");
    const label = segments.at(-1)!;
    const id = slugify(location);
    const alternatives = [...new Set(keys)].sort();
    const needs = [...(pageNeeds.get(label.toLowerCase()) ?? [])].sort((a, b) =>
      JSON.stringify(a).localeCompare(JSON.stringify(b)),
    );
    const needKeys = new Set(needs.filter((n): n is string => typeof n === "string"));
    const opener = anyOf(alternatives);
    // When a needed permission itself opens the page, the needs alone decide.
    const requires =
      needs.length === 0
        ? opener
        : allOf(alternatives.some((k) => needKeys.has(k)) ? needs : [opener, ...needs])!;
    return {
      id,
      label,
      kind: kinds.get(location) ?? (/ tab$/i.test(label) ? "tab" : "page"),
      location,
      urlPattern: `/${CALABRIO_ONE_SYSTEM_ID}/${segments.map(slugify).join("/")}`,
      selector: `[data-rolecall-surface="${CALABRIO_ONE_SYSTEM_ID}/${id}"]`,
      requires,
    };
  });
}

/** Reads `calabrio-one-roles-and-permissions.txt` into the `calabrio-one` system. */
export const calabrioOneImporter: Importer = {
  seedFile: "calabrio-one-roles-and-permissions.txt",
  parse: parseCalabrioOne,
};
