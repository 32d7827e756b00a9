/**
 * The Calabrio ONE rules the model gained (issue 13, "rules the model cannot express yet"),
 * decided by the engine on the real catalog. Each test names the passage of the Calabrio document
 * (calabrio-one-roles-and-permissions.txt) it enforces, in our own words.
 */
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../catalog/loader.js";
import { buildCatalog, role, tenant, user } from "../../../test/support/policy/catalog-builder.js";
import { compileSnapshot } from "./compiler.js";
import { check, listEffective, lookupUsers, resolveSurfaces } from "./evaluator.js";
import { explain } from "./explain.js";
import type { PolicySource } from "./policy-source.js";

const catalog = loadCatalog();
const C = (key: string) => `calabrio-one/${key}`;
const ACCESS = C("calabrio-one-access");
const QM = C("quality-management");
const MONITORING = C("monitoring");
const READER = C("insights-reader");
const ENTERPRISE = C("analytics-enterprise");

/** Tenant `t` (Calabrio only) with every license but the ones left out, and the given roles and users. */
function source(
  roles: Parameters<typeof tenant>[2],
  users: Parameters<typeof tenant>[3],
  leaveOut: readonly string[] = [],
): PolicySource {
  const pool = [...catalog.licenses.keys()].filter(
    (l) => l.startsWith("calabrio-one/") && !leaveOut.includes(l),
  );
  return {
    databaseId: "db",
    revision: 1,
    catalog,
    tenants: [tenant("t", ["calabrio-one"], roles, users, pool)],
  };
}

describe("requirement cycles (Capture Desktop Events and Analytics; View Content and the data permissions)", () => {
  // Recording table: agents need Capture Desktop Analytics with Capture Desktop Events, and the other way round.
  it("allows the two capture permissions together and neither alone", () => {
    const snap = compileSnapshot(
      source(
        [
          role("both", [C("capture-desktop-events"), C("capture-desktop-analytics")], [ACCESS]),
          role("events", [C("capture-desktop-events")], [ACCESS]),
        ],
        [user("ann", ["both"]), user("ed", ["events"])],
      ),
    );
    expect(check(snap, "t", "ann", { permission: C("capture-desktop-events") }).allowed).toBe(true);
    expect(check(snap, "t", "ann", { permission: C("capture-desktop-analytics") }).allowed).toBe(true);
    expect(check(snap, "t", "ed", { permission: C("capture-desktop-events") })).toMatchObject({
      allowed: false,
      reason: "REQUIREMENT_MISSING",
      missing: [C("capture-desktop-analytics")],
    });
  });

  // Insights table: View Content needs at least one View [Product] Data permission; each of those
  // needs View Content.
  it("allows View Content with one data permission, and names every data permission without one", () => {
    const snap = compileSnapshot(
      source(
        [
          role("reader", [C("view-content"), C("view-qm-data")], [READER]),
          role("bare", [C("view-content")], [READER]),
        ],
        [user("rita", ["reader"]), user("bea", ["bare"])],
      ),
    );
    expect(check(snap, "t", "rita", { permission: C("view-content") }).allowed).toBe(true);
    expect(check(snap, "t", "rita", { permission: C("view-qm-data") }).allowed).toBe(true);
    expect(check(snap, "t", "bea", { permission: C("view-content") })).toMatchObject({
      reason: "REQUIREMENT_MISSING",
      missing: [C("view-analytics-data"), C("view-classic-wfm-data"), C("view-qm-data"), C("view-wfm-data")],
    });
  });
});

describe("live monitoring: Agent Monitoring is the monitor's need only", () => {
  // Live Screen Monitoring: both the agent and the monitor hold it; monitors also need Agent Monitoring.
  const snap = compileSnapshot(
    source(
      [
        role("monitor", [C("agent-monitoring"), C("live-screen-monitoring")], [ACCESS, QM, MONITORING]),
        role("agent", [C("live-screen-monitoring")], [QM]),
      ],
      [user("mo", ["monitor"]), user("al", ["agent"]), user("nobody-much", [])],
    ),
  );
  const live = C("live-screen-monitoring");

  it("lets a monitor with Agent Monitoring watch an agent who holds live monitoring without it", () => {
    expect(check(snap, "t", "mo", { permission: live, targetUserId: "al" })).toMatchObject({
      allowed: true,
      reason: "GRANTED",
    });
  });

  it("denies the agent acting as a monitor, naming Agent Monitoring", () => {
    expect(check(snap, "t", "al", { permission: live, targetUserId: "mo" })).toMatchObject({
      allowed: false,
      reason: "REQUIREMENT_MISSING",
      missing: [C("agent-monitoring")],
    });
    expect(check(snap, "t", "al", { permission: live })).toMatchObject({ reason: "REQUIREMENT_MISSING" });
  });

  it("still needs the target to hold live monitoring itself", () => {
    expect(check(snap, "t", "mo", { permission: live, targetUserId: "nobody-much" })).toMatchObject({
      reason: "TARGET_LACKS_PERMISSION",
      missing: ["nobody-much"],
    });
  });

  it("lists and looks up the permission for acting users only", () => {
    const row = listEffective(snap, "t", "al", "calabrio-one").find((r) => r.permission === live)!;
    expect(row).toMatchObject({ allowed: false, reason: "REQUIREMENT_MISSING", grantedByRoleIds: ["agent"] });
    expect(lookupUsers(snap, "t", live)).toEqual(["mo"]);
  });

  it("explains the acting side's need, and the target as holding it", () => {
    const denied = explain(snap, "t", "al", { permission: live });
    expect(denied.summary).toMatch(/holds live-screen-monitoring \(calabrio-one\) but may not act with it/);
    expect(denied.summary).toMatch(/agent-monitoring \(calabrio-one\)/);
    expect(denied.trace.actorRequirement).toEqual({
      kind: "permission",
      permission: C("agent-monitoring"),
      holds: false,
    });
    const allowed = explain(snap, "t", "mo", { permission: live, targetUserId: "al" });
    expect(allowed.decision.allowed).toBe(true);
    expect(allowed.trace.target).toEqual({ userId: "al", allowed: true, reason: "GRANTED" });
  });
});

describe("licenses the organisation must have (View [Product] Data)", () => {
  // Insights table, View QM Data: the organisation must have the QM license, whatever the role carries.
  it("denies View QM Data when the tenant lacks Quality Management, naming it", () => {
    const roles = [role("reader", [C("view-content"), C("view-qm-data"), C("view-wfm-data")], [READER])];
    const without = compileSnapshot(source(roles, [user("rita", ["reader"])], [QM]));
    expect(check(without, "t", "rita", { permission: C("view-qm-data") })).toEqual({
      allowed: false,
      reason: "LICENSE_MISSING",
      missing: [QM],
      revision: 1,
    });
    // View Content still holds through View WFM Data, whose organisation license the tenant has.
    expect(check(without, "t", "rita", { permission: C("view-content") }).allowed).toBe(true);
    const e = explain(without, "t", "rita", { permission: C("view-qm-data") });
    expect(e.summary).toMatch(/tenant t itself must have license calabrio-one\/quality-management/);
    expect(e.trace.licenses).toMatchObject({ tenantMustHave: [QM], tenantLacks: [QM] });
    expect(e.trace.wouldFix.licenses).toEqual([QM]);

    const withIt = compileSnapshot(source(roles, [user("rita", ["reader"])]));
    expect(check(withIt, "t", "rita", { permission: C("view-qm-data") }).allowed).toBe(true);
  });
});

describe("licenses held by the tenant (Interaction Summary)", () => {
  // Associating a role to a license type: with the Interaction Summary license, no role needs it.
  it("is a tenant-held license in the catalog", () => {
    expect(catalog.licenses.get(C("interaction-summary"))).toMatchObject({ heldBy: "tenant" });
  });

  it("licenses a permission for every user of a tenant that has it, with no role carrying it", () => {
    // The document names no permission under Interaction Summary; a synthetic one shows the rule.
    const synthetic = buildCatalog([
      {
        id: "c1",
        licenses: [{ id: "c1/summary", heldBy: "tenant" }, "c1/seat"],
        permissions: [{ key: "c1/read-summary", licenses: ["c1/summary"] }],
      },
    ]);
    const world = (pool: string[]): PolicySource => ({
      databaseId: "db",
      revision: 1,
      catalog: synthetic,
      tenants: [tenant("t", ["c1"], [role("r", ["c1/read-summary"], ["c1/seat"])], [user("u", ["r"])], pool)],
    });
    expect(
      check(compileSnapshot(world(["c1/summary"])), "t", "u", { permission: "c1/read-summary" }).allowed,
    ).toBe(true);
    expect(check(compileSnapshot(world([])), "t", "u", { permission: "c1/read-summary" })).toMatchObject({
      reason: "LICENSE_MISSING",
      missing: ["c1/summary"],
    });
  });
});

describe("the Trending Topics page", () => {
  // Trending Topics permissions: the page needs View and Edit Performance by Topics, and View
  // Contacts or View Scored Contacts.
  it("shows only with both topic permissions and one of the contact views", () => {
    const topics = [C("view-performance-by-topics"), C("edit-performance-by-topics")];
    const snap = compileSnapshot(
      source(
        [
          role("topics", topics, [ACCESS, ENTERPRISE]),
          role("topics-and-scored", [...topics, C("view-scored-contacts")], [ACCESS, ENTERPRISE, QM]),
        ],
        [user("tom", ["topics"]), user("sue", ["topics-and-scored"])],
      ),
    );
    const page = C("analytics-trending-topics");
    expect(resolveSurfaces(snap, "t", "tom", [page])).toEqual([
      {
        surface: page,
        allowed: false,
        reason: "REQUIREMENT_MISSING",
        missing: [C("view-contacts"), C("view-scored-contacts")],
      },
    ]);
    expect(resolveSurfaces(snap, "t", "sue", [page])[0]!.allowed).toBe(true);
  });
});
