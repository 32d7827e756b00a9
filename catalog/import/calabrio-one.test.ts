import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { PermissionEntry, RequirementExpr, SurfaceEntry, SystemFile } from "../schema.js";
import { slugify } from "../schema.js";
import {
  BARE_RELATED_CELL,
  CALABRIO_ONE_SUMMARIES,
  calabrioOneImporter,
  parseCalabrioOne,
  parseLicenseNames,
  parsePages,
} from "./calabrio-one.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => readFileSync(join(here, "fixtures", `calabrio-one-${name}.txt`), "utf8");
const dataPath = join(here, "..", "data", "calabrio-one.json");

function byKey(file: SystemFile): Map<string, PermissionEntry> {
  return new Map(file.permissions.map((p) => [p.key, p] as const));
}

function perm(file: SystemFile, key: string): PermissionEntry {
  const found = file.permissions.find((p) => p.key === key);
  if (!found) throw new Error(`no permission '${key}'`);
  return found;
}

function surface(file: SystemFile, id: string): SurfaceEntry {
  const found = file.surfaces.find((s) => s.id === id);
  if (!found) throw new Error(`no surface '${id}'`);
  return found;
}

function holds(expr: RequirementExpr, held: ReadonlySet<string>): boolean {
  if (typeof expr === "string") return held.has(expr);
  if ("all" in expr) return expr.all.every((e) => holds(e, held));
  return expr.any.some((e) => holds(e, held));
}

function keysOf(expr: RequirementExpr | null): string[] {
  if (expr === null) return [];
  if (typeof expr === "string") return [expr];
  return ("all" in expr ? expr.all : expr.any).flatMap(keysOf);
}

describe("parseLicenseNames", () => {
  it("strips the license-class prefix and splits on commas and 'and'", () => {
    expect(
      parseLicenseNames("Data Licenses: Compliance Recording, Quality Management, and Analytics"),
    ).toEqual(["Compliance Recording", "Quality Management", "Analytics"]);
    expect(parseLicenseNames("Data Licenses: Quality Management and Analytics")).toEqual([
      "Quality Management",
      "Analytics",
    ]);
    expect(parseLicenseNames("Administrative License: System Administrator")).toEqual([
      "System Administrator",
    ]);
    expect(parseLicenseNames("Insights Author, Insights Reader")).toEqual([
      "Insights Author",
      "Insights Reader",
    ]);
  });

  it("drops trailing notes and reads a dash or nothing as no license", () => {
    expect(
      parseLicenseNames("Data Licenses: Quality Management NOTE any one of the listed licenses is enough."),
    ).toEqual(["Quality Management"]);
    expect(parseLicenseNames("—")).toEqual([]);
    expect(parseLicenseNames("")).toEqual([]);
  });
});

describe("parsePages", () => {
  it("splits several breadcrumbs written on one line", () => {
    expect(
      parsePages(
        "Insights > Pinned Insights > Latest Insights > My boards Insights > Team boards Insights > Dashboards",
        "insights",
      ).pages,
    ).toEqual([
      "Insights > Pinned",
      "Insights > Latest",
      "Insights > My boards",
      "Insights > Team boards",
      "Insights > Dashboards",
    ]);
    expect(parsePages("Analytics Dashboard Analytics > Transcript Search", "analytics").pages).toEqual([
      "Analytics Dashboard",
      "Analytics > Transcript Search",
    ]);
    expect(parsePages("Agent Explorer Analytics Dashboard", "analytics").pages).toEqual([
      "Agent Explorer",
      "Analytics Dashboard",
    ]);
  });

  it("keeps a nested 'Analytics >' segment inside one breadcrumb", () => {
    expect(parsePages("Application Management > Analytics > Analytics Setup", "analytics").pages).toEqual([
      "Application Management > Analytics > Analytics Setup",
    ]);
  });

  it("drops access notes in parentheses but keeps parentheses that are part of a page name", () => {
    expect(
      parsePages("(Support alerts only) Application Management > Monitoring > Alerts", "x").pages,
    ).toEqual(["Application Management > Monitoring > Alerts"]);
    expect(parsePages("Application Management > Data Management > Live (RT) Job Queue", "x").pages).toEqual([
      "Application Management > Data Management > Live (RT) Job Queue",
    ]);
  });

  it("roots product-relative pages and rewrites prose locations", () => {
    expect(
      parsePages("Configuration > Bot Health, Configuration > Topic Health", "bot-analytics").pages,
    ).toEqual(["Bot Analytics > Configuration > Bot Health", "Bot Analytics > Configuration > Topic Health"]);
    expect(
      parsePages(
        "Share option on the context menu of any report you own on the Data Explorer > Reports page.",
        "data-management",
      ),
    ).toEqual({ pages: ["Data Explorer > Reports > Share"], kind: "menu-item" });
    expect(parsePages("Settings", "data-management").pages).toEqual(["Data Explorer > Settings"]);
    expect(parsePages("—", "x").pages).toEqual([]);
    expect(parsePages("-", "x").pages).toEqual([]);
  });
});

describe("parseCalabrioOne on the administration fixture", () => {
  const file = parseCalabrioOne(fixture("administration"));

  it("reads every permission, including ones whose name or Description label was lost", () => {
    expect(file.permissions.map((p) => p.key)).toEqual([
      "administer-qm",
      "watch-agents",
      "run-tenant-setup",
      "maintain-org-chart",
      "get-business-alerts",
      "get-support-alerts",
      "edit-directory-sign-in",
      "mobile-device-access",
      "hand-out-roles",
      "mobile-app-access",
      "view-recycle-bin",
      "purge-contact",
      "legacysyncjobs",
      "capture-desktop-analytics",
      "live-screen-watch",
      "record-chosen-segments-rtp-signaling",
      "capture-screen-events",
      "view-contacts",
      "label-contact",
      "unlabel-contact",
      "flag-for-training",
      "bulk-purge",
      "flag-for-hr",
      "add-own-contacts-to-views",
      "send-pause-resume-command",
      "send-split-and-discard-keep-command",
      "split-and-discard-keep-buttons",
    ]);
    expect(perm(file, "mobile-device-access").name).toBe("Mobile Device Access");
    expect(perm(file, "mobile-app-access").name).toBe("Mobile App Access");
    expect(perm(file, "maintain-org-chart").name).toBe("Maintain Org. Chart");
  });

  it("gives each table the category of its first permission", () => {
    expect(file.categories.map((c) => c.id)).toEqual([
      "administration",
      "qm-administration",
      "recording",
      "contacts",
      "recording-controls",
    ]);
    expect(perm(file, "mobile-app-access").category).toBe("administration");
    expect(perm(file, "legacysyncjobs").category).toBe("qm-administration");
    expect(perm(file, "capture-screen-events").category).toBe("recording");
    expect(perm(file, "add-own-contacts-to-views").category).toBe("contacts");
  });

  it("reads license cells into license ids and lists each license once", () => {
    expect(perm(file, "get-support-alerts").licenses).toEqual(["system-administrator"]);
    expect(perm(file, "mobile-app-access").licenses).toEqual([
      "compliance-recording",
      "quality-management",
      "workforce-management",
      "analytics",
    ]);
    expect(perm(file, "flag-for-hr").licenses).toEqual(["quality-management"]);
    expect(perm(file, "edit-directory-sign-in").licenses).toEqual([]);
    expect(perm(file, "add-own-contacts-to-views").licenses).toContain("call-recording");
    expect(file.licenses).toContainEqual({ id: "calabrio-one-access", name: "Calabrio ONE Access" });
    expect(new Set(file.licenses.map((l) => l.id)).size).toBe(file.licenses.length);
  });

  it("reads requirements, any-of alternatives and forgives singular/plural slips", () => {
    expect(perm(file, "purge-contact").requires).toBe("view-recycle-bin");
    expect(perm(file, "flag-for-training").requires).toEqual({
      all: ["view-contacts", { any: ["label-contact", "unlabel-contact"] }],
    });
    expect(perm(file, "flag-for-hr").requires).toBe("view-contacts");
    expect(perm(file, "split-and-discard-keep-buttons").requires).toBe("send-split-and-discard-keep-command");
    expect(perm(file, "capture-desktop-analytics").requires).toBe("capture-screen-events");
  });

  // Calabrio document, Live Screen / Live Audio Monitoring notes: monitors also need Agent
  // Monitoring, a need of the monitoring side only (the monitored agent holds the permission alone).
  it("reads what monitors also need as a requirement of the acting user only", () => {
    expect(perm(file, "live-screen-watch").actorRequires).toBe("watch-agents");
    expect(perm(file, "live-screen-watch").requires).toBeNull();
    expect(perm(file, "live-screen-watch").mutual).toBe(true);
    expect(file.permissions.filter((p) => p.actorRequires !== undefined).map((p) => p.key)).toEqual([
      "live-screen-watch",
    ]);
  });

  // Calabrio document, "Associate a role to a license type" note: a license the organisation has
  // that no role needs to carry.
  it("reads a license the organisation holds without any role from the page's prose", () => {
    expect(file.licenses).toContainEqual({ id: "meeting-digest", name: "Meeting Digest", heldBy: "tenant" });
    expect(file.licenses.filter((l) => l.heldBy === "tenant")).toHaveLength(1);
  });

  it("does not turn conditional or optional notes into requirements or implications", () => {
    // "To watch an agent live, you also need ... and/or ..." is an optional enhancement.
    expect(perm(file, "watch-agents").requires).toBeNull();
    // "With the Monitoring license, the role automatically gets ..." holds only under a condition.
    expect(perm(file, "watch-agents").implies).toEqual([]);
    expect(perm(file, "label-contact").requires).toBeNull();
    expect(perm(file, "hand-out-roles").requires).toBeNull();
    expect(perm(file, "maintain-org-chart").requires).toBeNull();
  });

  it("marks unused and mutual permissions", () => {
    expect(perm(file, "legacysyncjobs").status).toBe("unused");
    expect(perm(file, "bulk-purge").status).toBe("unused");
    expect(perm(file, "view-contacts").status).toBe("active");
    expect(perm(file, "live-screen-watch").mutual).toBe(true);
    expect(perm(file, "watch-agents").mutual).toBe(false);
    expect(file.permissions.every((p) => p.scope === null)).toBe(true);
  });

  it("splits page cells and makes one surface per location, any-of over the permissions that open it", () => {
    expect(perm(file, "run-tenant-setup").pages).toEqual([
      "Application Management > Tenant > Merge Accounts",
      "Application Management > Analytics > Analytics Setup",
      "Application Management > Tenant > Sign-in Methods",
    ]);
    expect(surface(file, "application-management-monitoring-alerts")).toEqual({
      id: "application-management-monitoring-alerts",
      label: "Alerts",
      kind: "page",
      location: "Application Management > Monitoring > Alerts",
      urlPattern: "/calabrio-one/application-management/monitoring/alerts",
      selector: '[data-rolecall-surface="calabrio-one/application-management-monitoring-alerts"]',
      requires: { any: ["get-business-alerts", "get-support-alerts"] },
    });
    expect(surface(file, "interactions").requires).toBe("view-contacts");
  });

  it("uses our own summaries where written and a plain generated line otherwise", () => {
    expect(perm(file, "view-contacts").summary).toBe(CALABRIO_ONE_SUMMARIES["view-contacts"]);
    expect(perm(file, "view-contacts").summary).not.toContain("Find recorded contacts");
    expect(perm(file, "purge-contact").summary).toBe("QM Administration permission: Purge Contact.");
    expect(perm(file, "legacysyncjobs").summary).toBe(
      "LegacySyncJobs: listed by the vendor but not currently used.",
    );
  });
});

describe("parseCalabrioOne on the analytics and insights fixture", () => {
  const file = parseCalabrioOne(fixture("analytics-insights"));

  it("reads 'View [Product] Data' as any one of the per-product data permissions", () => {
    expect(perm(file, "view-content").requires).toEqual({ any: ["view-billing-data", "view-roster-data"] });
    expect(perm(file, "share-content").requires).toEqual({
      all: ["create-content", { any: ["view-billing-data", "view-roster-data"] }],
    });
    // "Your organization must have ... license" is about the tenant's pool, not a permission.
    expect(perm(file, "view-billing-data").requires).toBe("view-content");
  });

  // Calabrio document, Insights table, View [Product] Data notes: the organisation must have the
  // product's license, whatever the user's roles carry.
  it("reads the license the organisation must have as a tenant license, abbreviations assumed", () => {
    expect(perm(file, "view-billing-data").tenantLicenses).toEqual(["billing"]);
    expect(perm(file, "view-billing-data").assumptions).toBeUndefined();
    expect(perm(file, "view-roster-data").tenantLicenses).toEqual(["workforce-management"]);
    expect(perm(file, "view-roster-data").assumptions).toEqual([
      {
        field: "tenantLicenses",
        reason: expect.stringMatching(/abbreviation \('WFM'\).*Workforce Management/),
      },
    ]);
    expect(file.licenses).toContainEqual({ id: "billing", name: "Billing" });
    expect(perm(file, "view-content").tenantLicenses).toBeUndefined();
  });

  // Calabrio document, Insights table: View Content needs one View [Product] Data permission and
  // each of those needs View Content, a requirement cycle the catalog keeps as written.
  it("keeps requirements that form a cycle", () => {
    expect(perm(file, "view-content").requires).toEqual({ any: ["view-billing-data", "view-roster-data"] });
    expect(perm(file, "view-roster-data").requires).toBe("view-content");
  });

  it("reads 'automatically gets' and 'adding X also adds Y' as implications", () => {
    expect(perm(file, "create-content").implies).toEqual(["view-content"]);
    expect(perm(file, "view-roster-data").implies).toEqual(["view-content"]);
    expect(perm(file, "view-content").implies).toEqual([]);
  });

  it("reads the inline cell layout of the Insights table", () => {
    expect(perm(file, "view-content").licenses).toEqual(["insights-author", "insights-reader"]);
    expect(perm(file, "insights-housekeeping").status).toBe("unused");
    expect(perm(file, "edit-topic-scores").name).toBe("Edit Topic Scores");
  });

  // Calabrio document, Trending Topics notes: to reach the page one needs View and Edit
  // Performance by Topics, and also View Contacts or View Scored Contacts.
  it("keeps 'you must also have X or Y' as a requirement and, after 'to access a page', as a page condition too", () => {
    expect(perm(file, "view-topic-trends").requires).toEqual({
      any: ["view-contacts", "view-scored-contacts"],
    });
    expect(surface(file, "analytics-topic-trends").requires).toEqual({
      all: ["edit-topic-scores", "view-topic-scores", { any: ["view-contacts", "view-scored-contacts"] }],
    });
    expect(perm(file, "configure-analytics").requires).toBeNull();
    expect(surface(file, "application-management-analytics-analytics-setup").requires).toEqual({
      all: ["configure-analytics", "run-tenant-setup"],
    });
  });
});

describe("parseCalabrioOne on the bot analytics, data management and coaching fixture", () => {
  const file = parseCalabrioOne(fixture("bot-data-coaching"));

  it("reads bare related lists as a dependency of the edit/configure side only, marked assumed", () => {
    expect(perm(file, "set-experience-targets").requires).toBe("view-experience-automation");
    expect(perm(file, "set-experience-targets").assumptions).toEqual([BARE_RELATED_CELL]);
    expect(perm(file, "view-experience-automation").assumptions).toBeUndefined();
    expect(perm(file, "view-experience-automation").requires).toBeNull();
    expect(perm(file, "view-topic-board-transcripts").requires).toBe("view-topic-board");
    // Neither side is a view: the importer leaves the direction to the overrides.
    expect(perm(file, "promote-workspace").requires).toBeNull();
    expect(perm(file, "publish-workspace").requires).toBeNull();
  });

  it("roots product pages and types tabs and menu items", () => {
    expect(perm(file, "set-alert-thresholds").pages).toEqual([
      "Bot Analytics > Configuration > Bot Health",
      "Bot Analytics > Configuration > Topic Health",
    ]);
    expect(surface(file, "bot-analytics-topic-board-transcripts-tab").kind).toBe("tab");
    expect(surface(file, "data-explorer-reports-share")).toMatchObject({ kind: "menu-item", label: "Share" });
    expect(surface(file, "data-explorer-settings").requires).toEqual({
      any: ["delivery-management", "promote-workspace", "publish-workspace"],
    });
    expect(perm(file, "view-topic-changes").pages).toEqual([]);
  });

  it("expands 'All Performance Coaching pages' and ignores the notes around the tables", () => {
    expect(file.permissions).toHaveLength(14);
    expect(perm(file, "coaching-lead").pages).not.toContain("Performance Coaching > Metric Administration");
    expect(perm(file, "coaching-owner").pages).toContain("Performance Coaching > Metric Administration");
    expect(surface(file, "performance-coaching-agent-dashboard").requires).toEqual({
      any: ["coachable-performance-user", "coaching-lead", "coaching-owner"],
    });
    expect(perm(file, "coachable-performance-user").category).toBe("performance-coaching");
  });

  // Calabrio document, Performance Coaching: the license is not for sale, and Coachable
  // Performance User goes by default to every role that has the license.
  it("reads a license no longer for sale and the permission it grants by default", () => {
    expect(file.licenses).toContainEqual({
      id: "performance-coaching",
      name: "Performance Coaching",
      purchasable: false,
      defaultGrants: ["coachable-performance-user"],
    });
    // A "by default" note is about the license, not a requirement or implication of the permission.
    expect(perm(file, "coachable-performance-user").requires).toBeNull();
    expect(perm(file, "coachable-performance-user").implies).toEqual([]);
  });
});

describe("parseCalabrioOne on a changed document", () => {
  const header = "Permission | Details | |\n---|---|---|\n";
  const entry = (name: string, related: string) =>
    `${name} |\nDescription |\nSomething. |\nPage Access |\n— |\n|\nLicenses |\n— |\n|\nRelated Permissions and Notes |\n${related} |\n|\n`;

  it("fails on a table whose first permission has no category", () => {
    expect(() => parseCalabrioOne(header + entry("Brand New Thing", "—"))).toThrow(
      /no category .*Brand New Thing/,
    );
  });

  it("fails on a requirement naming a permission the document does not have", () => {
    const text = header + entry("Administer QM", "You must also have the Make Coffee permission.");
    expect(() => parseCalabrioOne(text)).toThrow(/Administer QM.*unknown permission 'Make Coffee'/);
  });

  it("fails on an unnamed permission it has no name for", () => {
    const text = `${header + entry("Administer QM", "—")}Description |\nDoes a new thing. |\n|\nLicenses |\n— |\n|\n`;
    expect(() => parseCalabrioOne(text)).toThrow(/no name/);
  });

  it("fails on a license note naming a license no permission works under", () => {
    const text = `IMPORTANT Crystal Ball cannot be bought any more.\n${header}${entry("Administer QM", "—")}`;
    expect(() => parseCalabrioOne(text)).toThrow(/purchase note names unknown license 'crystal-ball'/);
    const byDefault =
      header +
      entry(
        "Administer QM",
        "By default, the product gives this permission to every role with the Crystal Ball license.",
      );
    expect(() => parseCalabrioOne(byDefault)).toThrow(
      /'by default' note names unknown license 'crystal-ball'/,
    );
  });

  it("fails when there is no permission table", () => {
    expect(() => parseCalabrioOne("Manage roles\nNothing here.\n")).toThrow(/no permission table/);
  });

  it("is the registered importer for the seed document", () => {
    expect(calabrioOneImporter.seedFile).toBe("calabrio-one-roles-and-permissions.txt");
    expect(calabrioOneImporter.parse).toBe(parseCalabrioOne);
  });
});

describe("catalog/data/calabrio-one.json", () => {
  const data = JSON.parse(readFileSync(dataPath, "utf8")) as SystemFile;
  const perms = byKey(data);
  const licenseIds = new Set(data.licenses.map((l) => l.id));

  it("is the Calabrio ONE system with all 174 permissions under unique slug keys", () => {
    expect(data.id).toBe("calabrio-one");
    expect(data.name).toBe("Calabrio ONE");
    expect(data.permissions).toHaveLength(174);
    expect(perms.size).toBe(174);
    for (const p of data.permissions) expect(p.key).toBe(slugify(p.name));
    expect(data.adminRights?.map((r) => [r.action, r.permissions, r.section])).toEqual([
      ["edit-roles", ["administer-roles"], "Administer Roles"],
      ["assign-roles", ["assign-user-roles"], "Assign User Roles"],
      ["manage-users", ["administer-org-structure"], "Administer Org. Structure"],
      ["manage-apps", ["administer-tenant"], "Administer Tenant"],
      ["read-decisions", ["administer-roles"], "Administer Roles"],
    ]);
  });

  it("names the two permissions that were unnamed in the scrape", () => {
    expect(perms.get("mobile-device-access")?.name).toBe("Mobile Device Access");
    expect(perms.get("mobile-app-access")?.name).toBe("Mobile App Access");
  });

  it("puts every permission in one of the 16 categories", () => {
    expect(data.categories).toHaveLength(16);
    const ids = new Set(data.categories.map((c) => c.id));
    for (const p of data.permissions) expect(ids, p.key).toContain(p.category);
    const count = (category: string) => data.permissions.filter((p) => p.category === category).length;
    expect(count("bot-analytics")).toBe(30);
    expect(count("insights")).toBe(8);
    expect(count("data-management")).toBe(11);
    expect(count("performance-coaching")).toBe(4);
    expect(count("recording-controls")).toBe(12);
    expect(perms.get("administer-org-structure")?.category).toBe("administration");
    expect(perms.get("view-contacts")?.category).toBe("contacts");
    expect(perms.get("evaluate-contact")?.category).toBe("evaluations");
  });

  it("lists every license it uses, under the slug ids of their names", () => {
    expect([...licenseIds].sort()).toEqual([
      "analytics",
      "analytics-enterprise",
      "analytics-lite",
      "bot-analytics",
      "calabrio-one-access",
      "call-recording",
      "classic-wfm",
      "compliance-recording",
      "data-management",
      "desktop-analytics",
      "insights-author",
      "insights-reader",
      "interaction-summary",
      "monitoring",
      "performance-coaching",
      "quality-management",
      "system-administrator",
      "transcription",
      "workforce-management",
    ]);
    for (const l of data.licenses) expect(l.id).toBe(slugify(l.name));
    for (const p of data.permissions) for (const l of p.licenses) expect(licenseIds, p.key).toContain(l);
  });

  it("keeps the licenses each permission works under", () => {
    expect(perms.get("view-contacts")?.licenses).toEqual([
      "compliance-recording",
      "quality-management",
      "analytics",
    ]);
    expect(perms.get("agent-monitoring")?.licenses).toEqual(["calabrio-one-access", "monitoring"]);
    expect(perms.get("receive-support-notifications")?.licenses).toEqual(["system-administrator"]);
    expect(perms.get("administer-distribution-list")?.licenses).toEqual(["system-administrator"]);
    expect(perms.get("view-content")?.licenses).toEqual(["insights-author", "insights-reader"]);
    expect(perms.get("create-content")?.licenses).toEqual(["insights-author"]);
    expect(perms.get("view-trending-topics")?.licenses).toEqual([
      "analytics-enterprise",
      "calabrio-one-access",
    ]);
    expect(perms.get("administer-speech-to-text-analytics")?.licenses).toEqual([
      "analytics",
      "analytics-lite",
      "transcription",
      "calabrio-one-access",
    ]);
    expect(perms.get("home-page")?.licenses).toEqual(["quality-management", "workforce-management"]);
    expect(perms.get("configure-vaa")?.licenses).toEqual(["bot-analytics"]);
    expect(perms.get("administer-tenant")?.licenses).toEqual([]);
    expect(perms.get("performance-coach")?.licenses).toEqual(["performance-coaching"]);
  });

  it("keeps the documented requirements, with any-of where the document says 'or'", () => {
    expect(perms.get("export-recordings")?.requires).toBe("view-contacts");
    expect(perms.get("edit-custom-metadata")?.requires).toEqual({
      all: ["view-contacts", "view-custom-metadata"],
    });
    expect(perms.get("edit-evaluation-comment")?.requires).toEqual({
      all: ["view-contacts", "create-evaluation-comment", "view-evaluations"],
    });
    expect(perms.get("mark-for-training")?.requires).toEqual({
      all: ["view-contacts", { any: ["tag-contact", "untag-contact"] }],
    });
    for (const key of [
      "view-trending-topics",
      "edit-trending-topics",
      "view-trending-topics-notification",
      "edit-trending-topics-notification",
    ]) {
      expect(perms.get(key)?.requires, key).toEqual({ any: ["view-contacts", "view-scored-contacts"] });
    }
    expect(perms.get("self-calibrate-contact")?.requires).toEqual({
      all: ["view-contacts", "calibrate-contact"],
    });
    expect(perms.get("view-unreconciled-root-recordings")?.requires).toBe("view-root-recordings");
    expect(perms.get("record-voice")?.requires).toBe("capture-contacts");
    expect(perms.get("record-screen")?.requires).toBe("capture-contacts");
    expect(perms.get("delete-contact")?.requires).toBe("view-recycle-bin");
    expect(perms.get("administer-dashboards")?.requires).toBe("view-qm-dashboard");
    expect(perms.get("start-stop-screen-buttons")?.requires).toBe("send-start-screen-stop-screen-command");
    expect(perms.get("content-publishing")?.requires).toBe("content-creation");
    expect(perms.get("content-creation")?.requires).toBe("data-explorer");
    expect(perms.get("view-analytics-data")?.requires).toBe("view-content");
    expect(perms.get("create-content")?.requires).toEqual({
      any: ["view-analytics-data", "view-classic-wfm-data", "view-qm-data", "view-wfm-data"],
    });
    expect(perms.get("share-content")?.requires).toEqual({
      all: [
        "create-content",
        { any: ["view-analytics-data", "view-classic-wfm-data", "view-qm-data", "view-wfm-data"] },
      ],
    });
    expect(perms.get("configure-vaa")?.requires).toEqual({
      all: [
        "view-vaa-overview",
        "view-vaa-performance-comparison",
        "view-vaa-response-performance",
        "view-vaa-unclassified-messages",
        "view-vaa-intent-performance",
      ],
    });
    expect(perms.get("view-conversation-topics-intents")?.requires).toBe("view-conversation-topics");
  });

  it("carries the hand decisions of the overrides, each assumed one marked with its reason", () => {
    expect(perms.get("agent-monitoring")?.requires).toBeNull();
    expect(perms.get("agent-monitoring")?.assumptions).toEqual([
      { field: "requires", reason: expect.stringContaining("and/or") },
    ]);
    expect(perms.get("view-qm-reports")?.requires).toBeNull();
    expect(perms.get("view-qm-reports")?.assumptions?.map((a) => a.field)).toEqual(["requires"]);
    expect(perms.get("edit-vaa-unclassified-messages")?.requires).toBe("view-vaa-unclassified-messages");
    expect(perms.get("deploy-infospace")?.requires).toBe("manage-infospace");
    // Not assumed: the override corrects the import from the document's own words, so the
    // import's assumption on the field is dropped.
    expect(perms.get("deploy-infospace")?.assumptions).toBeUndefined();
    expect(perms.get("manage-infospace")?.requires).toBeNull();
    expect(perms.get("assign-user-roles")?.requires).toBeNull();
  });

  // Calabrio document, Create Content note: adding it to a role adds View Content as well.
  it("grants View Content along with Create Content, and nothing else implies", () => {
    expect(perms.get("create-content")?.implies).toEqual(["view-content"]);
    const implying = data.permissions.filter((p) => p.implies.length > 0).map((p) => p.key);
    expect(implying.sort()).toEqual(["create-content"]);
  });

  it("references only known permissions; its only requirement cycles are the documented ones", () => {
    const edges = new Map<string, string[]>();
    for (const p of data.permissions) {
      const refs = keysOf(p.requires);
      for (const ref of [...refs, ...keysOf(p.actorRequires ?? null), ...p.implies])
        expect(perms.has(ref), `${p.key} → ${ref}`).toBe(true);
      edges.set(p.key, refs);
    }
    const reach = (from: string): Set<string> => {
      const seen = new Set<string>();
      const stack = [...(edges.get(from) ?? [])];
      while (stack.length > 0) {
        const k = stack.pop()!;
        if (seen.has(k)) continue;
        seen.add(k);
        stack.push(...(edges.get(k) ?? []));
      }
      return seen;
    };
    const onCycle = [...edges.keys()].filter((k) => reach(k).has(k)).sort();
    expect(onCycle).toEqual([
      "capture-desktop-analytics",
      "capture-desktop-events",
      "view-analytics-data",
      "view-classic-wfm-data",
      "view-content",
      "view-qm-data",
      "view-wfm-data",
    ]);
  });

  // Calabrio document, Recording table: Capture Desktop Analytics and Capture Desktop Events each
  // require the other; Insights table: View Content needs at least one View [Product] Data
  // permission, each of which needs View Content.
  it("keeps the mutual requirements as written", () => {
    expect(perms.get("capture-desktop-analytics")?.requires).toBe("capture-desktop-events");
    expect(perms.get("capture-desktop-events")?.requires).toBe("capture-desktop-analytics");
    expect(perms.get("view-content")?.requires).toEqual({
      any: ["view-analytics-data", "view-classic-wfm-data", "view-qm-data", "view-wfm-data"],
    });
    for (const key of ["view-analytics-data", "view-classic-wfm-data", "view-qm-data", "view-wfm-data"])
      expect(perms.get(key)?.requires, key).toBe("view-content");
  });

  // Calabrio document, Live Screen / Live Audio Monitoring notes: both sides hold the permission,
  // and monitors also need Agent Monitoring.
  it("gives live monitoring an acting-user requirement on Agent Monitoring, and no requirement", () => {
    for (const key of ["live-screen-monitoring", "live-audio-monitoring"]) {
      expect(perms.get(key)?.mutual, key).toBe(true);
      expect(perms.get(key)?.actorRequires, key).toBe("agent-monitoring");
      expect(perms.get(key)?.requires, key).toBeNull();
    }
    expect(data.permissions.filter((p) => p.actorRequires !== undefined)).toHaveLength(2);
  });

  // Calabrio document, Insights table, View [Product] Data notes: the organisation must have the
  // Analytics, Classic WFM, QM or WFM license.
  it("requires the organisation's license of each View [Product] Data permission", () => {
    expect(perms.get("view-analytics-data")?.tenantLicenses).toEqual(["analytics"]);
    expect(perms.get("view-classic-wfm-data")?.tenantLicenses).toEqual(["classic-wfm"]);
    expect(perms.get("view-qm-data")?.tenantLicenses).toEqual(["quality-management"]);
    expect(perms.get("view-wfm-data")?.tenantLicenses).toEqual(["workforce-management"]);
    expect(perms.get("view-qm-data")?.assumptions?.map((a) => a.field)).toEqual(["tenantLicenses"]);
    expect(data.permissions.filter((p) => p.tenantLicenses !== undefined)).toHaveLength(4);
  });

  // Calabrio document: Performance Coaching is not for sale; Coachable Performance User goes by
  // default to roles with its license; Interaction Summary, when the organisation has it, needs
  // no role.
  it("models the licenses beyond role association", () => {
    const license = (id: string) => data.licenses.find((l) => l.id === id);
    expect(license("performance-coaching")).toEqual({
      id: "performance-coaching",
      name: "Performance Coaching",
      purchasable: false,
      defaultGrants: ["coachable-performance-user"],
    });
    expect(license("interaction-summary")).toEqual({
      id: "interaction-summary",
      name: "Interaction Summary",
      heldBy: "tenant",
    });
    const special = data.licenses.filter((l) => Object.keys(l).length > 2).map((l) => l.id);
    expect(special.sort()).toEqual(["interaction-summary", "performance-coaching"]);
  });

  it("marks the four permissions documented as not currently used", () => {
    const unused = data.permissions.filter((p) => p.status === "unused").map((p) => p.key);
    expect(unused.sort()).toEqual([
      "administer-insights",
      "adminrecontasks",
      "bulk-delete",
      "viewnotprocessedreason",
    ]);
  });

  it("marks live monitoring as needed by both the agent and the monitor", () => {
    const mutual = data.permissions.filter((p) => p.mutual).map((p) => p.key);
    expect(mutual.sort()).toEqual(["live-audio-monitoring", "live-screen-monitoring"]);
    expect(data.permissions.every((p) => p.scope === null)).toBe(true);
  });

  it("keeps each permission's Page Access breadcrumbs", () => {
    expect(perms.get("administer-roles")?.pages).toEqual([
      "Application Management > User Configuration > Roles",
    ]);
    expect(perms.get("administer-desktop-analytics")?.pages).toEqual([
      "Application Management > Analytics > Task Manager",
      "Application Management > Analytics > Desktop Manager",
      "Application Management > Analytics > Field Manager",
      "Application Management > Analytics > Analytics Configuration",
    ]);
    expect(perms.get("create-content")?.pages).toHaveLength(7);
    expect(perms.get("data-management-system-administration")?.pages).toEqual([
      "Application Management > Data Management > Real-Time (RT) Job Management",
    ]);
    expect(perms.get("view-api-documentation")?.pages).toEqual([]);
  });

  it("has a surface for every page location, opened by the permissions that list it", () => {
    expect(data.surfaces).toHaveLength(80);
    const surfaces = new Map(data.surfaces.map((s) => [s.location, s] as const));
    for (const p of data.permissions) {
      for (const page of p.pages) {
        expect(surfaces.get(page), `${p.key}: ${page}`).toBeDefined();
      }
    }
    for (const s of data.surfaces) {
      expect(s.id).toBe(slugify(s.location));
      expect(s.urlPattern).toBe(`/calabrio-one/${s.location.split(" > ").map(slugify).join("/")}`);
      expect(s.selector).toBe(`[data-rolecall-surface="calabrio-one/${s.id}"]`);
      for (const ref of keysOf(s.requires)) expect(perms.has(ref), `${s.id} → ${ref}`).toBe(true);
    }
    expect(surface(data, "application-management-qm-configuration-global-settings")).toMatchObject({
      label: "Global Settings",
      urlPattern: "/calabrio-one/application-management/qm-configuration/global-settings",
      requires: "administer-qm",
    });
    expect(surface(data, "analytics-dashboard").requires).toEqual({
      any: [
        "view-analytics",
        "view-desktop-analytics",
        "view-speech-analytics",
        "view-speech-to-text-analytics",
        "view-system-analytics",
        "view-text-analytics",
      ],
    });
  });

  it("shows a page to each permission that opens it, and to nobody without one", () => {
    for (const s of data.surfaces) {
      // Pages whose notes state extra needs are pinned in the next test.
      if (typeof s.requires !== "string" && "all" in s.requires) continue;
      const openers = data.permissions.filter((p) => p.pages.includes(s.location)).map((p) => p.key);
      for (const opener of openers)
        expect(holds(s.requires, new Set([opener])), `${s.id} with ${opener}`).toBe(true);
      expect(holds(s.requires, new Set()), s.id).toBe(false);
    }
  });

  // Calabrio document, Page Access and Related Permissions of the Trending Topics permissions:
  // the page needs View and Edit Performance by Topics and View Contacts or View Scored Contacts.
  it("models the pages the notes say need a set of permissions", () => {
    expect(surface(data, "analytics-trending-topics")).toMatchObject({
      label: "Trending Topics",
      location: "Analytics > Trending Topics",
      requires: {
        all: [
          "edit-performance-by-topics",
          "view-performance-by-topics",
          { any: ["view-contacts", "view-scored-contacts"] },
        ],
      },
    });
    const trending = surface(data, "analytics-trending-topics").requires;
    const topics = ["view-performance-by-topics", "edit-performance-by-topics"];
    expect(holds(trending, new Set(["view-trending-topics", "view-contacts"]))).toBe(false);
    expect(holds(trending, new Set(topics))).toBe(false);
    expect(holds(trending, new Set([...topics, "view-contacts"]))).toBe(true);
    expect(holds(trending, new Set([...topics, "view-scored-contacts"]))).toBe(true);
    expect(surface(data, "application-management-analytics-analytics-configuration").requires).toEqual({
      all: ["administer-analytics", "administer-tenant"],
    });
    expect(surface(data, "application-management-user-configuration-users")).toMatchObject({
      label: "Users",
      kind: "page",
      requires: "administer-org-structure",
    });
    expect(surface(data, "data-explorer-reports-share").kind).toBe("menu-item");
    expect(surface(data, "bot-analytics-alert-notifications-tab").kind).toBe("tab");
  });

  it("writes every summary in our own words", () => {
    for (const p of data.permissions) {
      expect(p.summary, p.key).toBe(CALABRIO_ONE_SUMMARIES[p.key]);
      expect(p.summary, p.key).not.toMatch(/^Allows you to/);
    }
    expect(Object.keys(CALABRIO_ONE_SUMMARIES).sort()).toEqual([...perms.keys()].sort());
  });

  describe("default roles", () => {
    const roles = new Map(data.defaultRoles.map((r) => [r.id, r] as const));

    it("are administrator, agent and supervisor, none a template", () => {
      expect([...roles.keys()].sort()).toEqual(["administrator", "agent", "supervisor"]);
      for (const r of data.defaultRoles) expect(r.template).toBe(false);
    });

    it("keep role administration on the administrator and basic views on agent and supervisor", () => {
      expect(roles.get("administrator")?.required).toEqual(
        expect.arrayContaining(["administer-roles", "assign-user-roles", "administer-org-structure"]),
      );
      for (const id of ["agent", "supervisor"]) {
        expect(roles.get(id)?.required, id).toEqual(
          expect.arrayContaining(["view-contacts", "view-evaluations"]),
        );
      }
      expect(roles.get("agent")?.grants).toEqual(
        expect.arrayContaining(["record-voice", "live-screen-monitoring"]),
      );
      expect(roles.get("supervisor")?.grants).toEqual(
        expect.arrayContaining(["agent-monitoring", "live-screen-monitoring", "evaluate-contact"]),
      );
      expect(roles.get("agent")?.grants).not.toContain("agent-monitoring");
    });

    it("grant only active permissions, keep what they require, and hold a license for each", () => {
      for (const role of data.defaultRoles) {
        const held = new Set(role.grants);
        for (const key of role.required) expect(held, `${role.id} required ${key}`).toContain(key);
        for (const l of role.licenses) expect(licenseIds, `${role.id} license ${l}`).toContain(l);
        expect(role.licenses, role.id).toContain("calabrio-one-access");
        for (const key of role.grants) {
          const p = perms.get(key);
          expect(p, `${role.id} grants unknown ${key}`).toBeDefined();
          if (!p) continue;
          expect(p.status, `${role.id}/${key}`).toBe("active");
          for (const implied of p.implies)
            expect(held, `${role.id}/${key} implies ${implied}`).toContain(implied);
          if (p.requires !== null)
            expect(holds(p.requires, held), `${role.id}/${key} requirement`).toBe(true);
          if (p.licenses.length > 0) {
            expect(
              p.licenses.some((l) => role.licenses.includes(l)),
              `${role.id}/${key} needs one of ${p.licenses.join(", ")}`,
            ).toBe(true);
          }
        }
      }
    });

    it("leave out what the document says is off by default", () => {
      for (const role of data.defaultRoles) {
        for (const key of [
          "include-self-scope-in-qm-views",
          "bulk-contact-export",
          "view-bulk-contact-export",
        ]) {
          expect(role.grants, `${role.id}/${key}`).not.toContain(key);
        }
      }
    });
  });
});
