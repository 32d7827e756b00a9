import { describe, expect, it } from "vitest";
import { ChangeHints } from "./change-hints.js";

const hint = (db: string, revision: number, tenant: string | null = "t") =>
  JSON.stringify([db, revision, tenant, "GrantPermissions", `{"r":${revision}}`]);

describe("ChangeHints", () => {
  it("gives the rows of every revision above the copy's, in order, only when none is missing", () => {
    const hints = new ChangeHints();
    hints.heard(hint("db", 11));
    hints.heard(hint("db", 12));
    expect(hints.above("db", 10)).toEqual({
      until: 12,
      rows: [
        { revision: 11, tenant_id: "t", kind: "GrantPermissions", detail: '{"r":11}' },
        { revision: 12, tenant_id: "t", kind: "GrantPermissions", detail: '{"r":12}' },
      ],
    });
    expect(hints.above("db", 12)).toBeUndefined(); // nothing newer
    hints.heard(hint("db", 14)); // 13 was not heard (its change did not fit, or is late)
    expect(hints.above("db", 10)).toBeUndefined();
    expect(hints.above("db", 13)?.until).toBe(14);
    expect(hints.above("other", 13)).toBeUndefined(); // the copy is of another database
  });

  it("ignores what is not a hint: a bare revision, broken JSON, wrong shapes", () => {
    const hints = new ChangeHints();
    for (const payload of [
      undefined,
      "",
      "12",
      "[",
      "[1,2]",
      '["db","12",null,"k","{}"]',
      '["db",12,5,"k","{}"]',
    ]) {
      hints.heard(payload);
    }
    expect(hints.above("db", 11)).toBeUndefined();
  });

  it("forgets what the copy has, starts afresh on another database, and stays bounded", () => {
    const hints = new ChangeHints(3);
    hints.heard(hint("db", 1));
    hints.heard(hint("db", 2));
    hints.copied(1);
    expect(hints.above("db", 0)).toBeUndefined(); // revision 1 is forgotten
    expect(hints.above("db", 1)?.until).toBe(2);
    hints.heard(hint("new", 1, null));
    expect(hints.above("db", 1)).toBeUndefined();
    expect(hints.above("new", 0)?.rows[0]?.tenant_id).toBeNull();
    for (let r = 2; r <= 5; r++) hints.heard(hint("new", r)); // past the bound: cleared, then kept
    expect(hints.above("new", 0)).toBeUndefined();
    expect(hints.above("new", 4)?.until).toBe(5);
  });
});
