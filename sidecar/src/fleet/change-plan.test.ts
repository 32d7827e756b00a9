import { describe, expect, it } from "vitest";
import { type ChangeRow, MAX_NAMED_ROWS, planChanges } from "./change-plan.js";

const row = (revision: number, tenant: string | null, detail: object): ChangeRow => ({
  revision,
  tenant_id: tenant,
  detail: JSON.stringify(detail),
});
const touched = (t: { tenant?: boolean; roles?: string[]; users?: string[] }) => ({
  operation: "X",
  users: t.users ?? [],
  touched: { tenant: t.tenant ?? false, roles: t.roles ?? [], users: t.users ?? [] },
});

describe("planChanges", () => {
  it("unites what each revision touched, per tenant", () => {
    const plan = planChanges(
      [
        row(11, "acme", touched({ roles: ["agent"] })),
        row(12, "acme", touched({ users: ["ann"] })),
        row(13, "beta", touched({ tenant: true })),
      ],
      10,
      13,
    );
    expect(plan.full).toBe(false);
    expect(plan.tenants.get("acme")).toEqual({
      whole: false,
      tenantRows: false,
      allRoles: false,
      roles: new Set(["agent"]),
      users: new Set(["ann"]),
    });
    expect(plan.tenants.get("beta")).toMatchObject({ whole: false, tenantRows: true, allRoles: false });
  });

  it("copies everything but unnamed users for a change logged without `touched`, and a tenant whole without users named", () => {
    const plan = planChanges(
      [row(2, "acme", { operation: "GrantPermissions", users: [] }), row(3, "beta", { operation: "X" })],
      1,
      3,
    );
    expect(plan.tenants.get("acme")).toMatchObject({ whole: false, tenantRows: true, allRoles: true });
    expect(plan.tenants.get("beta")?.whole).toBe(true);
  });

  it("copies everything on a gap in the log, a change to every tenant, or a row outside the range", () => {
    expect(planChanges([row(2, "acme", touched({}))], 0, 2).full).toBe(true); // revision 1 missing
    expect(planChanges([row(1, null, { operation: "catalog" })], 0, 1).full).toBe(true);
    expect(planChanges([row(5, "acme", touched({}))], 0, 1).full).toBe(true);
  });

  it("copies a tenant whole when it names too many rows", () => {
    const users = Array.from({ length: MAX_NAMED_ROWS + 1 }, (_, i) => `u${i}`);
    expect(planChanges([row(1, "acme", touched({ users }))], 0, 1).tenants.get("acme")?.whole).toBe(true);
  });
});
