import { describe, expect, it } from "vitest";
import type { CatalogPermission } from "../../../catalog/catalog.js";
import { permissionSources } from "./permission-sources.js";

const permission = (licenses: string[], requires: CatalogPermission["requires"]) =>
  ({ key: "s/P", licenses, requires }) as unknown as CatalogPermission;

describe("permissionSources", () => {
  it("names the user's licenses the permission works under, and its requirement as text", () => {
    const p = permission(["lic/a", "lic/b"], { any: ["s/X", "s/Y"] });
    expect(permissionSources(p, true, ["lic/b", "lic/c"])).toEqual({
      licensedBy: ["lic/b"],
      requirement: "s/X or s/Y",
    });
  });

  it("credits no license to a denied permission, and says nothing of an absent requirement", () => {
    expect(permissionSources(permission(["lic/a"], null), false, ["lic/a"])).toEqual({
      licensedBy: [],
      requirement: "",
    });
  });
});
