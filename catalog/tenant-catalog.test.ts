import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CatalogError, type CatalogIssue, loadCatalog } from "./loader.js";
import { buildCustomSystems, extendCatalog } from "./tenant-catalog.js";

const base = loadCatalog();
const example = JSON.parse(readFileSync("examples/systems/agent-desktop.json", "utf8")) as Record<
  string,
  unknown
>;

function issuesOf(data: unknown, file = "my-app.json"): readonly CatalogIssue[] {
  try {
    buildCustomSystems(base, [{ file, data }]);
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogError);
    return (err as CatalogError).issues;
  }
  throw new Error("expected a CatalogError, but the system was accepted");
}

describe("a tenant's own system", () => {
  it("needs only the system's id and name and each permission's key and name", () => {
    const [system] = buildCustomSystems(base, [
      { file: "tiny.json", data: { id: "tiny", name: "Tiny", permissions: [{ key: "go", name: "Go" }] } },
    ]);
    expect(system?.permissions).toEqual([
      expect.objectContaining({
        key: "tiny/go",
        system: "tiny",
        name: "Go",
        category: "general",
        summary: "Go",
        licenses: [],
        requires: null,
        implies: [],
        status: "active",
        mutual: false,
        scope: null,
      }),
    ]);
    expect(system?.defaultRoles).toEqual([]);
    expect(system?.surfaces).toEqual([]);
    expect(system?.licenses).toEqual([]);
  });

  it("loads the documented example app with its scopes, roles and surface", () => {
    const [system] = buildCustomSystems(base, [{ file: "agent-desktop.json", data: example }]);
    expect(system?.permissions.map((p) => [p.key, p.scope])).toContainEqual([
      "agent-desktop/notes.edit",
      "self",
    ]);
    expect(system?.defaultRoles.map((r) => r.id)).toEqual(["agent", "team-lead"]);
    expect(system?.surfaces[0]?.selector).toBe('[data-rolecall-surface="agent-desktop/recording-player"]');
    const catalog = extendCatalog(base, system ? [system] : []);
    expect(catalog.permissions.get("agent-desktop/recordings.play")?.requires).toBe(
      "agent-desktop/desktop.use",
    );
    expect(catalog.permissions.get("cxengage/CONTACTS_READ")).toBeDefined();
    expect(catalog.systems.at(-1)?.id).toBe("agent-desktop");
  });

  it("names the file, the field and the key of each problem, as the loader does", () => {
    const issues = issuesOf({
      id: "my-app",
      name: "My app",
      permissions: [
        { key: "read", name: "Read", implies: ["raed-all"] },
        { key: "write" },
        { key: "audit", name: "Audit", scope: "mine" },
        { key: "export", name: "Export", requires: "cxengage/CONTACTS_REED" },
      ],
    });
    expect(issues).toEqual([
      {
        file: "my-app.json",
        id: "write",
        message: "permission 'write': 'name' must be a non-empty string, got nothing (the field is missing)",
      },
      {
        file: "my-app.json",
        id: "audit",
        message: "permission 'audit': 'scope' must be one of 'all', 'self' or null, got 'mine'",
      },
      {
        file: "my-app.json",
        id: "read",
        message: "permission 'read': implies unknown permission 'raed-all'",
      },
      {
        file: "my-app.json",
        id: "export",
        message:
          "permission 'export': requires unknown permission 'cxengage/CONTACTS_REED' (did you mean 'cxengage/CONTACTS_READ'?)",
      },
    ]);
  });

  it("requires the system's id and name", () => {
    expect(issuesOf({ permissions: [] }).map((i) => i.message)).toEqual([
      "system: 'id' must be a non-empty string, got nothing (the field is missing)",
      "system: 'name' must be a non-empty string, got nothing (the field is missing)",
    ]);
  });

  it("refuses a vendor system's id and an implication cycle", () => {
    expect(issuesOf({ id: "cxengage", name: "Mine", permissions: [] })[0]?.message).toMatch(
      /id 'cxengage' is a vendor system of the catalog/,
    );
    const cycle = issuesOf({
      id: "loop",
      name: "Loop",
      permissions: [
        { key: "a", name: "A", implies: ["b"] },
        { key: "b", name: "B", implies: ["a"] },
      ],
    });
    expect(cycle[0]?.message).toBe(
      "permission 'a': implication cycle (it ends up implying itself): a → b → a",
    );
  });

  it("reports an unknown field with the closest one", () => {
    const issues = issuesOf({ id: "x", name: "X", permissons: [] });
    expect(issues[0]?.message).toBe("system: unknown field 'permissons' (did you mean 'permissions'?)");
  });
});
