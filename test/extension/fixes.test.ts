/** The extension's ranked fixes: what each proposes, and that the fewest side effects rank first. */
import { describe, expect, it } from "vitest";
import { type Decided, needsFor, rankFixes } from "../../extension/src/background/fixes.js";
import type { RoleFacts } from "../../extension/src/background/tenant-facts.js";

const role = (
  id: string,
  name: string,
  permissions: string[],
  holderCount: number,
  licenseIds: string[] = [],
) => [id, { id, name, permissions: new Set(permissions), licenseIds, holderCount }] as [string, RoleFacts];

const denied = (reason: string, missing: string[] = [], grantedByRoleIds: string[] = []): Decided => ({
  allowed: false,
  reason,
  missing,
  grantedByRoleIds,
});
const allowed: Decided = { allowed: true, reason: "GRANTED", missing: [], grantedByRoleIds: ["r"] };

describe("rankFixes", () => {
  const goal = (needs: string[], decisions: [string, Decided][], userRoleIds = ["custom"]) => ({
    tenantId: "t",
    userId: "dave",
    needs,
    userRoleIds,
    decisions: new Map(decisions),
  });

  it("ranks a grant to a role many hold below an assignment that adds nothing else", () => {
    const roles = new Map([
      role("custom", "Custom Agent", ["s/A"], 40),
      role("agent", "Agent", ["s/A", "s/B"], 3),
      role("admin", "Admin", ["s/A", "s/B", "s/C", "s/D"], 1),
    ]);
    const fixes = rankFixes(
      goal(
        ["s/B"],
        [
          ["s/A", allowed],
          ["s/B", denied("NOT_GRANTED")],
          ["s/C", denied("NOT_GRANTED")],
          ["s/D", denied("NOT_GRANTED")],
        ],
      ),
      roles,
    );
    expect(fixes.map((f) => f.text)).toEqual([
      "assign role Agent (adds 0 other permissions)",
      "assign role Admin (adds 2 other permissions)",
      "grant B to role Custom Agent (40 users hold Custom Agent)",
    ]);
    expect(fixes[2]!.write).toEqual({
      grantPermissions: { tenantId: "t", roleId: "custom", permissions: ["s/B"] },
    });
  });

  it("fixes a license denial with the license, never with a grant, and assigns only roles carrying it", () => {
    const roles = new Map([
      role("viewer", "Viewer", ["s/A"], 1, ["lic/qm"]),
      role("sup", "Supervisor", ["s/A"], 5, ["lic/analytics"]),
      role("bare", "Bare", ["s/A"], 1),
    ]);
    const fixes = rankFixes(
      {
        ...goal(["s/A"], [["s/A", denied("LICENSE_MISSING", ["lic/analytics"], ["viewer"])]], ["viewer"]),
        seatsFree: new Map([["lic/analytics", 23]]),
      },
      roles,
    );
    expect(fixes.map((f) => f.kind)).toEqual(["license", "assign"]);
    expect(fixes[0]!.text).toBe("add license lic/analytics to role Viewer (1 user holds it; 23 seats free)");
    expect(fixes[0]!.write).toEqual({
      setRoleLicenses: { tenantId: "t", roleId: "viewer", licenseIds: ["lic/qm", "lic/analytics"] },
    });
    expect(fixes[1]!.text).toBe("assign role Supervisor (adds 0 other permissions)");
  });

  it("reactivates an inactive user and proposes nothing else", () => {
    const fixes = rankFixes(
      goal(["s/A"], [["s/A", denied("USER_INACTIVE")]]),
      new Map([role("custom", "Custom", [], 1)]),
    );
    expect(fixes).toEqual([
      {
        kind: "activate",
        text: "reactivate dave (an inactive user is denied everything)",
        sideEffects: 0,
        write: { setUserActive: { tenantId: "t", userId: "dave", active: true } },
      },
    ]);
  });

  it("proposes nothing for what is already allowed, and nothing without the tenant's roles", () => {
    expect(rankFixes(goal(["s/A"], [["s/A", allowed]]), new Map([role("custom", "C", [], 1)]))).toEqual([]);
    expect(rankFixes(goal(["s/A"], [["s/A", denied("NOT_GRANTED")]]), new Map())).toEqual([]);
  });
});

describe("needsFor", () => {
  it("is the permission itself, or what it requires when the requirement is the gap", () => {
    const decisions = new Map([
      ["s/A", denied("NOT_GRANTED")],
      ["s/B", denied("REQUIREMENT_MISSING", ["s/A"], ["r"])],
    ]);
    expect(needsFor("s/A", decisions)).toEqual(["s/A"]);
    expect(needsFor("s/B", decisions)).toEqual(["s/A"]);
  });
});
