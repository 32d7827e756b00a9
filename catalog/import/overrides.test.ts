import { describe, expect, it } from "vitest";
import type { SystemFile } from "../schema.js";
import { applyOverrides, OverridesError, parseOverrides, sortSystemFile } from "./overrides.js";

const imported: SystemFile = {
  id: "alpha",
  name: "Alpha",
  adminRights: [],
  categories: [{ id: "admin", name: "Admin" }],
  licenses: [],
  defaultRoles: [],
  permissions: [],
  surfaces: [],
};

const rights = `
adminRights:
  - action: read-decisions
    permissions: [view-users]
    document: alpha.txt
    section: Users
    reason: Whoever sees users sees what they may do.
  - action: edit-roles
    permissions: [manage-roles]
    document: alpha.txt
    section: Roles
    reason: The roles page.
    assumed: true
`;

describe("adminRights in an overrides file", () => {
  it("replaces the imported list, defaults assumed to false and sorts by action", () => {
    const file = sortSystemFile(applyOverrides(imported, parseOverrides(rights, "alpha.yaml"), "alpha.yaml"));
    expect(file.adminRights).toEqual([
      {
        action: "edit-roles",
        permissions: ["manage-roles"],
        document: "alpha.txt",
        section: "Roles",
        reason: "The roles page.",
        assumed: true,
      },
      {
        action: "read-decisions",
        permissions: ["view-users"],
        document: "alpha.txt",
        section: "Users",
        reason: "Whoever sees users sees what they may do.",
        assumed: false,
      },
    ]);
    // The field keeps its place in the file, right after the name.
    expect(Object.keys(file).slice(0, 3)).toEqual(["id", "name", "adminRights"]);
  });

  it("leaves the imported list when the overrides say nothing of it", () => {
    expect(applyOverrides(imported, parseOverrides("", "alpha.yaml"), "alpha.yaml").adminRights).toEqual([]);
  });

  it("refuses the legacy roleAdministration, naming its replacement", () => {
    expect(() => parseOverrides("system:\n  roleAdministration: [x]\n  reason: old\n", "alpha.yaml")).toThrow(
      new OverridesError("alpha.yaml: system: roleAdministration is replaced by adminRights; remove it"),
    );
  });

  it.each([
    [
      "an unknown action",
      rights.replace("read-decisions", "read-decision"),
      /#1: action must be one of edit-roles/,
    ],
    ["no permissions", rights.replace("[view-users]", "[]"), /#1 \(read-decisions\): permissions must list/],
    ["no section", rights.replace("section: Roles", "section: ''"), /#2 \(edit-roles\): 'section' must be/],
    [
      "a non-boolean assumed",
      rights.replace("assumed: true", "assumed: yes"),
      /#2 \(edit-roles\): 'assumed'/,
    ],
  ])("refuses an entry with %s, naming the file and the entry", (_name, text, message) => {
    expect(() => parseOverrides(text, "alpha.yaml")).toThrow(message);
  });
});

describe("assumed overrides in the data", () => {
  const withPermission: SystemFile = {
    ...imported,
    licenses: [{ id: "pro", name: "Pro" }],
    permissions: [
      {
        key: "edit-users",
        name: "Edit users",
        category: "admin",
        summary: "Edit users.",
        pages: [],
        licenses: [],
        requires: "view-users",
        implies: [],
        status: "active",
        mutual: false,
        scope: null,
        assumptions: [{ field: "requires", reason: "the importer's reading" }],
      },
    ],
  };
  const apply = (yaml: string) =>
    applyOverrides(withPermission, parseOverrides(yaml, "alpha.yaml"), "alpha.yaml");

  it("marks each field an assumed permission patch sets, replacing the import's assumption on it", () => {
    const file = apply(`
permissions:
  edit-users:
    requires: null
    implies: [view-users]
    reason: our choice
    assumed: true
`);
    expect(file.permissions[0]!.assumptions).toEqual([
      { field: "requires", reason: "our choice" },
      { field: "implies", reason: "our choice" },
    ]);
  });

  it("drops the import's assumption on a field a documented patch sets", () => {
    const file = apply(`
permissions:
  edit-users:
    requires: view-users
    reason: the document says so
`);
    expect(file.permissions[0]!.assumptions).toBeUndefined();
    expect(Object.keys(file.permissions[0]!)).not.toContain("assumptions");
  });

  it("marks a whole assumed category, license, default role or surface, and nothing when not assumed", () => {
    const file = apply(`
categories:
  - { id: admin, name: Administration, reason: heading lost, assumed: true }
licenses:
  - { id: pro, name: Pro, reason: as written }
defaultRoles:
  - { id: boss, name: Boss, grants: [edit-users], required: [], licenses: [], template: false, reason: invented, assumed: true }
`);
    expect(file.categories).toEqual([
      { id: "admin", name: "Administration", assumptions: [{ reason: "heading lost" }] },
    ]);
    expect(file.licenses).toEqual([{ id: "pro", name: "Pro" }]);
    expect(file.defaultRoles[0]!.assumptions).toEqual([{ reason: "invented" }]);
  });
});
