import { describe, expect, it } from "vitest";
import { worldSource } from "../../../test/support/policy/contact-center-world.js";
import { compileSnapshot } from "./compiler.js";
import { explain } from "./explain.js";

const snap = compileSnapshot(worldSource);

describe("explain", () => {
  it("names the user's roles and the tenant role that would grant a missing permission", () => {
    const e = explain(snap, "acme", "dave", { permission: "cx/CONTACTS_UPDATE" });
    expect(e.decision.reason).toBe("NOT_GRANTED");
    expect(e.summary).toBe(
      "Dave may not use CONTACTS_UPDATE (cx): none of their roles (Custom Agent) grants it; role Agent does.",
    );
    expect(e.trace.roles).toEqual([
      { roleId: "custom-agent", name: "Custom Agent", grants: false, direct: false, licenseIds: [] },
    ]);
    expect(e.trace.wouldFix.roles).toEqual([{ id: "agent", name: "Agent" }]);
  });

  it("explains a hidden surface by its first missing permission", () => {
    const e = explain(snap, "acme", "dave", { surface: "cx/contact-management-panel" });
    expect(e.summary).toBe(
      "Dave may not use Contact Management panel: needs CONTACTS_UPDATE (cx); none of their roles (Custom Agent) grants it; role Agent does.",
    );
    expect(e.decision).toMatchObject({
      allowed: false,
      reason: "REQUIREMENT_MISSING",
      missing: ["cx/CONTACTS_UPDATE"],
    });
    expect(e.trace.requirement).toEqual({
      kind: "all",
      holds: false,
      items: [
        { kind: "permission", permission: "cx/CONTACTS_READ", holds: true },
        { kind: "permission", permission: "cx/CONTACTS_UPDATE", holds: false },
      ],
    });
  });

  it("says which license would do and which role carries it", () => {
    const e = explain(snap, "acme", "nora", { permission: "c1/view-scored" });
    expect(e.summary).toBe(
      "nora may not use view-scored (c1): it needs license c1/qm, which none of their roles carries; role Supervisor does.",
    );
    expect(e.trace.licenses).toEqual({
      wanted: ["c1/qm", "c1/analytics"],
      held: [],
      tenantHas: ["c1/qm"],
      tenantMustHave: [],
      tenantLacks: [],
    });
    expect(e.trace.wouldFix.licenses).toEqual(["c1/qm"]);
    const g = explain(snap, "globex", "dave", { permission: "c1/view-scored" });
    expect(g.summary).toContain("tenant globex has none of them");
  });

  it("walks a failed requirement to the permission that is missing", () => {
    const e = explain(snap, "acme", "nora", { permission: "c1/a" });
    expect(e.summary).toBe("nora may not use a (c1): it also needs b (c1); b (c1) in turn needs c (c1).");
    expect(e.trace.requirement).toEqual({ kind: "permission", permission: "c1/b", holds: false });
  });

  it("explains grants, scope and mutual checks", () => {
    expect(explain(snap, "acme", "sam", { permission: "cx/NOTES_READ_SELF" }).summary).toBe(
      "sam may use NOTES_READ_SELF (cx): granted by role Supervisor.",
    );
    const scoped = explain(snap, "acme", "alice", {
      permission: "cx/NOTES_READ_SELF",
      resource: { ownerUserId: "bob", participantUserIds: [] },
    });
    expect(scoped.decision.reason).toBe("OUT_OF_SCOPE");
    expect(scoped.summary).toContain("NOTES_READ_ALL (cx) would allow it; role Supervisor does.");
    const mutual = explain(snap, "acme", "sam", { permission: "cx/MONITOR", targetUserId: "dave" });
    expect(mutual.trace.target).toEqual({ userId: "dave", allowed: false, reason: "NOT_GRANTED" });
    expect(mutual.summary).toBe(
      "sam may use MONITOR (cx), but dave does not (NOT_GRANTED); both must hold it.",
    );
  });

  it("explains unknown and inactive users", () => {
    expect(explain(snap, "acme", "ghost", { permission: "cx/MONITOR" }).summary).toBe(
      "ghost is not a user of tenant acme.",
    );
    expect(explain(snap, "acme", "ivy", { permission: "cx/MONITOR" }).decision.reason).toBe("USER_INACTIVE");
  });
});
