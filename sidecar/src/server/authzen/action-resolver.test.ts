import { describe, expect, it } from "vitest";
import { buildCatalog, role, tenant, user } from "../../../../test/support/policy/catalog-builder.js";
import { compileSnapshot } from "../../policy/compiler.js";
import { isMutual, resolveAction, tenantActions } from "./action-resolver.js";

// Two systems share the bare key READ; a third, which tenant `acme` does not have, holds SECRET.
const catalog = buildCatalog([
  { id: "desk", permissions: [{ key: "desk/READ" }, { key: "desk/CALL", mutual: true }] },
  { id: "crm", permissions: [{ key: "crm/READ" }, { key: "crm/CONTACTS_UPDATE" }] },
  { id: "other", permissions: [{ key: "other/SECRET" }] },
]);
const snapshot = compileSnapshot({
  databaseId: "db",
  revision: 1,
  catalog,
  tenants: [
    tenant("acme", ["desk", "crm"], [role("r", ["desk/READ"])], [user("ann", ["r"])]),
    tenant("solo", ["crm"], [], []),
  ],
});

describe("AuthZEN action names", () => {
  it("takes a qualified key of the tenant's systems as is, and a bare key unique among them", () => {
    expect(resolveAction(snapshot, "acme", "desk/READ")).toBe("desk/READ");
    expect(resolveAction(snapshot, "acme", "CONTACTS_UPDATE")).toBe("crm/CONTACTS_UPDATE");
    // The same bare name is unique in a tenant with only one of the systems.
    expect(resolveAction(snapshot, "solo", "READ")).toBe("crm/READ");
  });

  it("refuses an ambiguous bare key naming every candidate", () => {
    expect(() => resolveAction(snapshot, "acme", "READ")).toThrow(
      "action 'READ' is ambiguous in tenant 'acme': crm/READ, desk/READ all have it; send the qualified name",
    );
  });

  it("refuses an unknown name with the closest key, qualified", () => {
    expect(() => resolveAction(snapshot, "acme", "CONTACT_UPDATE")).toThrow(
      "did you mean 'crm/CONTACTS_UPDATE'?",
    );
    expect(() => resolveAction(snapshot, "acme", "desk/REED")).toThrow("did you mean 'desk/READ'?");
    expect(() => resolveAction(snapshot, "acme", "zzzzzzzz")).toThrow(/search\/action/);
  });

  it("never resolves, nor suggests, another system's key: only the tenant's own count", () => {
    expect(() => resolveAction(snapshot, "acme", "other/SECRET")).toThrow(
      /not a permission of tenant 'acme'/,
    );
    expect(() => resolveAction(snapshot, "acme", "SECRET")).toThrow(/not a permission/);
    expect(tenantActions(snapshot, "acme").keys).toEqual([
      "crm/CONTACTS_UPDATE",
      "crm/READ",
      "desk/CALL",
      "desk/READ",
    ]);
    expect(() => resolveAction(snapshot, "nobody", "READ")).toThrow("unknown tenant 'nobody'");
  });

  it("knows which permissions are mutual", () => {
    expect(isMutual(snapshot, "acme", "desk/CALL")).toBe(true);
    expect(isMutual(snapshot, "acme", "desk/READ")).toBe(false);
  });

  it("resolves a tenant's own system (PutSystem) for that tenant only", () => {
    const desktop = JSON.stringify({
      id: "headset",
      name: "Headset",
      permissions: [
        { key: "MUTE", name: "Mute" },
        { key: "BARGE", name: "Barge in", mutual: true },
      ],
    });
    const own = tenant("own", ["crm", "headset"], [], []);
    const withOwn = compileSnapshot({
      databaseId: "db",
      revision: 2,
      catalog,
      tenants: [
        { ...own, customSystems: [{ id: "headset", document: desktop }] },
        tenant("solo", ["crm"], [], []),
      ],
    });
    expect(resolveAction(withOwn, "own", "MUTE")).toBe("headset/MUTE");
    expect(resolveAction(withOwn, "own", "headset/BARGE")).toBe("headset/BARGE");
    expect(isMutual(withOwn, "own", "headset/BARGE")).toBe(true);
    expect(() => resolveAction(withOwn, "solo", "headset/MUTE")).toThrow(/not a permission of tenant 'solo'/);
    expect(tenantActions(withOwn, "solo").keys).toEqual(["crm/CONTACTS_UPDATE", "crm/READ"]);
  });
});
