import { describe, expect, it } from "vitest";
import { worldSource } from "../../../test/support/policy/contact-center-world.js";
import { compileSnapshot } from "./compiler.js";
import { UnknownPermissionError, UnknownSurfaceError, UnknownTenantError } from "./decision.js";
import { check, checkMany, listEffective, lookupUsers, resolveSurfaces } from "./evaluator.js";

const snap = compileSnapshot(worldSource);
const at = (userId: string, permission: string, extra = {}) =>
  check(snap, "acme", userId, { permission, ...extra });

describe("check", () => {
  it("allows a direct grant and carries the revision", () => {
    expect(at("alice", "cx/CONTACTS_UPDATE")).toEqual({
      allowed: true,
      reason: "GRANTED",
      missing: [],
      revision: 7,
    });
  });

  it("allows what a grant implies", () => {
    expect(at("sam", "cx/NOTES_READ_SELF").allowed).toBe(true);
    expect(at("sam", "c1/view-content").allowed).toBe(true);
  });

  it("denies an ungranted permission with NOT_GRANTED", () => {
    expect(at("dave", "cx/CONTACTS_UPDATE")).toMatchObject({
      allowed: false,
      reason: "NOT_GRANTED",
      missing: [],
    });
  });

  it("reports unknown and inactive users before anything else", () => {
    expect(at("ghost", "cx/CONTACTS_READ").reason).toBe("USER_UNKNOWN");
    expect(at("ivy", "cx/CONTACTS_READ").reason).toBe("USER_INACTIVE");
    expect(at("ivy", "c1/view-scored").reason).toBe("USER_INACTIVE");
  });

  it("names the licenses the tenant has that would do, or all listed when it has none", () => {
    expect(at("nora", "c1/view-scored")).toMatchObject({ reason: "LICENSE_MISSING", missing: ["c1/qm"] });
    expect(check(snap, "globex", "dave", { permission: "c1/view-scored" })).toMatchObject({
      reason: "LICENSE_MISSING",
      missing: ["c1/qm", "c1/analytics"],
    });
  });

  it("names every alternative of an any-of requirement when none is held", () => {
    expect(at("nora", "c1/evaluate")).toMatchObject({
      reason: "REQUIREMENT_MISSING",
      missing: ["c1/view-contacts", "c1/view-scored"],
    });
    expect(at("sam", "c1/evaluate").allowed).toBe(true);
  });

  it("removes permissions whose requirement fails transitively (greatest fixpoint)", () => {
    // c1/c is unlicensed, so b (requires c) and then a (requires b) fall too.
    expect(at("nora", "c1/c").reason).toBe("LICENSE_MISSING");
    expect(at("nora", "c1/b")).toMatchObject({ reason: "REQUIREMENT_MISSING", missing: ["c1/c"] });
    expect(at("nora", "c1/a")).toMatchObject({ reason: "REQUIREMENT_MISSING", missing: ["c1/b"] });
  });

  it("requires a mutual permission of the target too", () => {
    expect(at("sam", "cx/MONITOR", { targetUserId: "alice" }).allowed).toBe(true);
    expect(at("sam", "cx/MONITOR", { targetUserId: "dave" })).toMatchObject({
      reason: "TARGET_LACKS_PERMISSION",
      missing: ["dave"],
    });
    expect(at("sam", "cx/MONITOR", { targetUserId: "ghost" })).toMatchObject({
      reason: "TARGET_LACKS_PERMISSION",
      missing: ["ghost"],
    });
    expect(at("sam", "cx/MONITOR", { targetUserId: "ivy" }).reason).toBe("TARGET_LACKS_PERMISSION");
    expect(at("sam", "cx/MONITOR").allowed).toBe(true);
    // A target on a permission that is not mutual changes nothing.
    expect(at("alice", "cx/CONTACTS_READ", { targetUserId: "dave" }).allowed).toBe(true);
  });

  it("keeps a _SELF grant to resources the user took part in, unless the _ALL twin is held", () => {
    const foreign = { ownerUserId: "bob", participantUserIds: ["carol"] };
    expect(at("alice", "cx/NOTES_READ_SELF", { resource: foreign })).toMatchObject({
      reason: "OUT_OF_SCOPE",
      missing: ["cx/NOTES_READ_ALL"],
    });
    expect(
      at("alice", "cx/NOTES_READ_SELF", { resource: { ownerUserId: "alice", participantUserIds: [] } })
        .allowed,
    ).toBe(true);
    expect(
      at("alice", "cx/NOTES_READ_SELF", { resource: { ownerUserId: "bob", participantUserIds: ["alice"] } })
        .allowed,
    ).toBe(true);
    expect(at("sam", "cx/NOTES_READ_SELF", { resource: foreign }).allowed).toBe(true);
    expect(at("alice", "cx/NOTES_READ_SELF").allowed).toBe(true);
  });

  it("throws for an unknown permission, naming the closest key, and for an unknown tenant", () => {
    expect(() => at("alice", "cx/CONTACT_READ")).toThrow(UnknownPermissionError);
    expect(() => at("alice", "cx/CONTACT_READ")).toThrow("did you mean 'cx/CONTACTS_READ'?");
    expect(() => check(snap, "nope", "alice", { permission: "cx/CONTACTS_READ" })).toThrow(
      UnknownTenantError,
    );
  });

  it("batch-checks in order and rejects the batch on an unknown key", () => {
    const ds = checkMany(snap, "acme", "dave", [
      { permission: "cx/CONTACTS_READ" },
      { permission: "cx/CONTACTS_UPDATE" },
    ]);
    expect(ds.map((d) => d.reason)).toEqual(["GRANTED", "NOT_GRANTED"]);
    expect(() =>
      checkMany(snap, "acme", "dave", [{ permission: "cx/CONTACTS_READ" }, { permission: "x" }]),
    ).toThrow(UnknownPermissionError);
  });
});

describe("listEffective", () => {
  it("lists every permission of the enabled systems with the roles granting it", () => {
    const rows = listEffective(snap, "acme", "sam");
    expect(rows).toHaveLength(13);
    expect(rows.find((r) => r.permission === "cx/NOTES_READ_SELF")).toMatchObject({
      allowed: true,
      grantedByRoleIds: ["supervisor"],
    });
    expect(listEffective(snap, "acme", "sam", "cx")).toHaveLength(5);
    expect(listEffective(snap, "globex", "dave", "cx")).toHaveLength(0);
    expect(listEffective(snap, "acme", "ghost", "cx").every((r) => r.reason === "USER_UNKNOWN")).toBe(true);
  });
});

describe("lookupUsers", () => {
  it("returns the active users allowed, sorted, and pages", () => {
    expect(lookupUsers(snap, "acme", "cx/CONTACTS_READ")).toEqual(["alice", "dave"]);
    expect(lookupUsers(snap, "acme", "cx/MONITOR")).toEqual(["alice", "sam"]);
    expect(lookupUsers(snap, "acme", "cx/MONITOR", { limit: 1 })).toEqual(["alice"]);
    expect(lookupUsers(snap, "acme", "cx/MONITOR", { after: "alice" })).toEqual(["sam"]);
  });
});

describe("resolveSurfaces", () => {
  it("evaluates each surface on the effective set", () => {
    expect(resolveSurfaces(snap, "acme", "dave", ["cx/contact-management-panel"])).toEqual([
      {
        surface: "cx/contact-management-panel",
        allowed: false,
        reason: "REQUIREMENT_MISSING",
        missing: ["cx/CONTACTS_UPDATE"],
      },
    ]);
    expect(resolveSurfaces(snap, "acme", "alice", ["cx/contact-management-panel"])[0]?.allowed).toBe(true);
    expect(() => resolveSurfaces(snap, "acme", "alice", ["cx/contact-panel"])).toThrow(UnknownSurfaceError);
  });
});
