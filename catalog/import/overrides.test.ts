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
