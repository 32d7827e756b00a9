import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../catalog/loader.js";
import { compileSnapshot, recompileTenants } from "./compiler.js";
import { systemsOfTenant, tenantView } from "./custom-catalog.js";
import { UnknownPermissionError } from "./decision.js";
import { effectiveKeysByUser } from "./effective-keys.js";
import { check, listEffective, lookupUsers, resolveSurfaces } from "./evaluator.js";
import { explain } from "./explain.js";
import type { PolicySource, RoleRecord, TenantPolicy } from "./policy-source.js";
import { prepareReview } from "./review-rows.js";

const catalog = loadCatalog();
const desktop = readFileSync("examples/systems/agent-desktop.json", "utf8");
/** Another tenant's system under the same id, with one permission only. */
const otherDesktop = JSON.stringify({
  id: "agent-desktop",
  name: "Initech's desktop",
  permissions: [{ key: "launch", name: "Launch" }],
});

const role = (id: string, grants: string[]): RoleRecord => ({
  id,
  name: id,
  kind: "custom",
  basedOn: null,
  defaultOf: null,
  grants,
  licenseIds: [],
});
const user = (id: string, roleIds: string[]) => ({ id, displayName: id, active: true, roleIds });

const acme: TenantPolicy = {
  id: "acme",
  name: "Acme",
  systems: ["cxengage", "agent-desktop"],
  licenseSeats: new Map(),
  roles: [
    role("agent", ["agent-desktop/desktop.use", "agent-desktop/recordings.play", "agent-desktop/notes.edit"]),
    role("lead", [
      "agent-desktop/desktop.use",
      "agent-desktop/recordings.play-any",
      "agent-desktop/notes.edit-any",
    ]),
    role("cx-agent", ["cxengage/NOTES_READ_SELF", "cxengage/CONTACTS_READ"]),
    role("cx-sup", ["cxengage/NOTES_READ_ALL"]),
    role("auditor", ["agent-desktop/recordings.play-any", "agent-desktop/notes.edit-any"]),
  ],
  users: [user("ann", ["agent", "cx-agent"]), user("lee", ["lead", "cx-sup"]), user("nat", ["auditor"])],
  customSystems: [{ id: "agent-desktop", document: desktop }],
};
const globex: TenantPolicy = {
  id: "globex",
  name: "Globex",
  systems: ["cxengage"],
  licenseSeats: new Map(),
  roles: [role("cx-agent", ["cxengage/NOTES_READ_SELF"])],
  users: [user("gus", ["cx-agent"])],
};
const initech: TenantPolicy = {
  id: "initech",
  name: "Initech",
  systems: ["agent-desktop"],
  licenseSeats: new Map(),
  roles: [role("r", ["agent-desktop/launch"])],
  users: [user("ian", ["r"])],
  customSystems: [{ id: "agent-desktop", document: otherDesktop }],
};
const source: PolicySource = { databaseId: "db", revision: 3, catalog, tenants: [acme, globex, initech] };
const snap = compileSnapshot(source);
const on = (
  tenant: string,
  userId: string,
  permission: string,
  resource?: { owner: string; with?: string[] },
) =>
  check(snap, tenant, userId, {
    permission,
    ...(resource
      ? { resource: { ownerUserId: resource.owner, participantUserIds: resource.with ?? [] } }
      : {}),
  });

describe("a tenant's own system in the engine", () => {
  it("decides its permissions, requirements included, at the snapshot's revision", () => {
    expect(on("acme", "ann", "agent-desktop/desktop.use")).toEqual({
      allowed: true,
      reason: "GRANTED",
      missing: [],
      revision: 3,
    });
    expect(on("acme", "ann", "agent-desktop/dialer.override").reason).toBe("NOT_GRANTED");
    // recordings.play requires desktop.use, which nat's auditor role lacks: the implication alone is not enough.
    expect(on("acme", "nat", "agent-desktop/recordings.play")).toMatchObject({
      allowed: false,
      reason: "REQUIREMENT_MISSING",
      missing: ["agent-desktop/desktop.use"],
    });
  });

  it("allows a self-scoped action on another's resource exactly when an all-scoped permission implying it is held", () => {
    const mine = { owner: "ann" };
    const theirs = { owner: "bob" };
    expect(on("acme", "ann", "agent-desktop/notes.edit", mine).allowed).toBe(true);
    expect(on("acme", "ann", "agent-desktop/notes.edit", { owner: "bob", with: ["ann"] }).allowed).toBe(true);
    expect(on("acme", "ann", "agent-desktop/notes.edit", theirs)).toMatchObject({
      allowed: false,
      reason: "OUT_OF_SCOPE",
      missing: ["agent-desktop/notes.edit-any"],
    });
    expect(on("acme", "lee", "agent-desktop/notes.edit", theirs).allowed).toBe(true);
    expect(on("acme", "lee", "agent-desktop/recordings.play", theirs).allowed).toBe(true);
    // Without a resource the scope is not in question.
    expect(on("acme", "ann", "agent-desktop/recordings.play").allowed).toBe(true);
  });

  it("keeps CxEngage's _SELF/_ALL decisions as they were", () => {
    expect(on("acme", "ann", "cxengage/NOTES_READ_SELF", { owner: "bob" })).toMatchObject({
      reason: "OUT_OF_SCOPE",
      missing: ["cxengage/NOTES_READ_ALL"],
    });
    expect(on("acme", "lee", "cxengage/NOTES_READ_SELF", { owner: "bob" }).allowed).toBe(true);
    expect(on("globex", "gus", "cxengage/NOTES_READ_SELF", { owner: "gus" }).allowed).toBe(true);
  });

  it("is invisible to other tenants, and another tenant's system of the same id is its own", () => {
    expect(() => on("globex", "gus", "agent-desktop/desktop.use")).toThrow(UnknownPermissionError);
    expect(() => on("initech", "ian", "agent-desktop/desktop.use")).toThrow(UnknownPermissionError);
    expect(on("initech", "ian", "agent-desktop/launch").allowed).toBe(true);
    expect(() => on("acme", "ann", "agent-desktop/launch")).toThrow(UnknownPermissionError);
    expect(snap.catalog.permissionIndex.has("agent-desktop/desktop.use")).toBe(false);
    expect(systemsOfTenant(snap, "acme").map((s) => s.id)).toEqual(["cxengage", "agent-desktop"]);
    expect(systemsOfTenant(snap, "globex").map((s) => s.id)).toEqual(["cxengage"]);
    expect(systemsOfTenant(snap, "initech").map((s) => s.name)).toEqual(["Initech's desktop"]);
    expect(tenantView(snap, "globex")).toBe(snap);
  });

  it("lists, looks up, explains and resolves surfaces over the tenant's own system", () => {
    const rows = listEffective(snap, "acme", "ann", "agent-desktop");
    expect(rows.filter((r) => r.allowed).map((r) => r.permission)).toEqual([
      "agent-desktop/desktop.use",
      "agent-desktop/recordings.play",
      "agent-desktop/notes.edit",
    ]);
    expect(listEffective(snap, "globex", "gus").some((r) => r.permission.startsWith("agent-desktop/"))).toBe(
      false,
    );
    expect(lookupUsers(snap, "acme", "agent-desktop/notes.edit")).toEqual(["ann", "lee", "nat"]);
    expect(
      explain(snap, "acme", "ann", {
        permission: "agent-desktop/notes.edit",
        resource: { ownerUserId: "bob", participantUserIds: [] },
      }).summary,
    ).toMatch(/notes\.edit-any/);
    expect(resolveSurfaces(snap, "acme", "nat", ["agent-desktop/recording-player"])).toEqual([
      {
        surface: "agent-desktop/recording-player",
        allowed: false,
        reason: "REQUIREMENT_MISSING",
        missing: ["agent-desktop/recordings.play"],
      },
    ]);
    expect(effectiveKeysByUser(snap, "acme").get("lee")?.has("agent-desktop/recordings.play")).toBe(true);
  });

  it("recompiles one tenant's system without touching the others", () => {
    const changed: TenantPolicy = {
      ...acme,
      roles: acme.roles.map((r) =>
        r.id === "agent" ? { ...r, grants: [...r.grants, "agent-desktop/dialer.override"] } : r,
      ),
    };
    const next = recompileTenants(snap, { ...source, revision: 4, tenants: [changed] }, 4);
    expect(check(next, "acme", "ann", { permission: "agent-desktop/dialer.override" })).toMatchObject({
      allowed: true,
      revision: 4,
    });
    expect(next.tenants.get("initech")).toBe(snap.tenants.get("initech"));
    expect(check(next, "initech", "ian", { permission: "agent-desktop/launch" }).revision).toBe(4);
    // The same documents compile once: the tenant's catalog is shared with the previous snapshot.
    expect(next.tenants.get("acme")?.catalog).toBe(snap.tenants.get("acme")?.catalog);
  });

  it("recompiles a changed document of the tenant's own system on a catalog of its own", () => {
    const withLaunch = JSON.parse(desktop) as { permissions: object[] };
    withLaunch.permissions.push({ key: "desktop.launch", name: "Launch the desktop" });
    const changed: TenantPolicy = {
      ...acme,
      customSystems: [{ id: "agent-desktop", document: JSON.stringify(withLaunch) }],
      roles: acme.roles.map((r) =>
        r.id === "agent" ? { ...r, grants: [...r.grants, "agent-desktop/desktop.launch"] } : r,
      ),
    };
    const next = recompileTenants(snap, { ...source, revision: 4, tenants: [changed] }, 4);
    expect(next.tenants.get("acme")?.catalog).not.toBe(snap.tenants.get("acme")?.catalog);
    expect(check(next, "acme", "ann", { permission: "agent-desktop/desktop.launch" }).allowed).toBe(true);
    expect(() => check(snap, "acme", "ann", { permission: "agent-desktop/desktop.launch" })).toThrow(
      UnknownPermissionError,
    );
  });

  it("reviews a tenant's own systems beside the vendor ones", () => {
    const rows = [...prepareReview(snap, { tenantId: "acme" }).rows()];
    const allowed = (userId: string) =>
      rows.filter((r) => r.userId === userId && r.kind === "permission").map((r) => r.permission);
    expect(allowed("ann")).toEqual(
      expect.arrayContaining(["agent-desktop/desktop.use", "cxengage/CONTACTS_READ"]),
    );
    expect(allowed("ann")).not.toContain("agent-desktop/recordings.play-any");
    expect(new Set(allowed("ann"))).toEqual(effectiveKeysByUser(snap, "acme").get("ann"));
    expect(
      [...prepareReview(snap, { tenantId: "acme", system: "agent-desktop" }).rows()].length,
    ).toBeGreaterThan(0);
  });
});
