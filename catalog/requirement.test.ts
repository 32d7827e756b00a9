import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  evaluateRequirement,
  formatRequirement,
  missingForRequirement,
  normalizeRequirement,
  parseRequirement,
  qualifyRequirement,
  RequirementSyntaxError,
  requirementKeys,
  unmetRequirement,
} from "./requirement.js";
import type { RequirementExpr } from "./schema.js";

const holds =
  (...keys: string[]) =>
  (key: string) =>
    keys.includes(key);

/** Keys in every style the five systems use. */
const keyArb = fc.constantFrom(
  "view-contacts",
  "view-scored-contacts",
  "RptWallboard:Read",
  "CONTACTS_READ",
  "calabrio-one/view-contacts",
  "iadvize/access.reports",
  "a",
  "b",
);
const exprArb: fc.Arbitrary<RequirementExpr> = fc.letrec<{ expr: RequirementExpr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    keyArb,
    fc.array(tie("expr"), { minLength: 1, maxLength: 4 }).map((all) => ({ all })),
    fc.array(tie("expr"), { minLength: 1, maxLength: 4 }).map((any) => ({ any })),
  ),
})).expr;

describe("qualifyRequirement", () => {
  it("qualifies local keys and leaves qualified ones", () => {
    expect(qualifyRequirement({ all: ["view-contacts", { any: ["b", "beta/c"] }] }, "calabrio-one")).toEqual({
      all: ["calabrio-one/view-contacts", { any: ["calabrio-one/b", "beta/c"] }],
    });
    expect(qualifyRequirement("RptWallboard:Read", "zoom-contact-center")).toBe(
      "zoom-contact-center/RptWallboard:Read",
    );
  });
});

describe("requirementKeys", () => {
  it("lists each key once in order of appearance", () => {
    expect(requirementKeys({ all: ["a", { any: ["b", "a", { all: ["c"] }] }] })).toEqual(["a", "b", "c"]);
  });
});

describe("formatRequirement", () => {
  it("writes the API's requires text with parentheses around nested groups only", () => {
    expect(formatRequirement({ all: ["A", { any: ["B", "C"] }] })).toBe("A and (B or C)");
    expect(formatRequirement({ any: ["A", { all: ["B", "C"] }] })).toBe("A or (B and C)");
    expect(formatRequirement("RptWallboard:Read")).toBe("RptWallboard:Read");
    expect(formatRequirement({ all: [{ any: ["x"] }] })).toBe("x");
    expect(formatRequirement({ all: [] })).toBe("()");
  });
});

describe("parseRequirement", () => {
  it("reads and/or/parentheses, keys with ':', '_', '/', '-', '.'", () => {
    expect(parseRequirement("A and (B or C)")).toEqual({ all: ["A", { any: ["B", "C"] }] });
    expect(parseRequirement("zoom-contact-center/RptWallboard:Read OR CONTACTS_READ or iadvize/a.b")).toEqual(
      {
        any: ["zoom-contact-center/RptWallboard:Read", "CONTACTS_READ", "iadvize/a.b"],
      },
    );
    expect(parseRequirement("  (view-contacts)  ")).toBe("view-contacts");
    expect(parseRequirement("a and (b and c)")).toEqual({ all: ["a", "b", "c"] });
  });

  it.each([
    ["", 0, /expected a permission key or '\('/],
    ["A and", 5, /found end of text/],
    ["A and (B or C", 13, /expected '\)' to close the '\(' at position 6/],
    ["A and B or C", 8, /ambiguous; add parentheses/],
    ["A B", 2, /expected 'and', 'or' or end of text, found 'B'/],
    ["A)", 1, /unmatched '\)'/],
    ["A & B", 2, /unexpected character '&'/],
    ["(or)", 1, /expected a permission key or '\(', found 'or'/],
  ])("rejects %j at position %d", (text, position, message) => {
    let error: unknown;
    try {
      parseRequirement(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RequirementSyntaxError);
    expect((error as RequirementSyntaxError).position).toBe(position);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(`at position ${position}`);
  });

  it("is the inverse of formatRequirement, up to normalization", () => {
    fc.assert(
      fc.property(exprArb, (expr) => {
        expect(parseRequirement(formatRequirement(expr))).toEqual(normalizeRequirement(expr));
      }),
    );
  });
});

describe("normalizeRequirement", () => {
  it("flattens same-kind groups, unwraps single items, drops repeats", () => {
    expect(normalizeRequirement({ all: ["a", { all: ["b", { all: ["c"] }] }, { any: ["d"] }, "a"] })).toEqual(
      {
        all: ["a", "b", "c", "d"],
      },
    );
    expect(normalizeRequirement({ any: [{ all: ["a", "b"] }, { any: ["c", { any: ["d"] }] }] })).toEqual({
      any: [{ all: ["a", "b"] }, "c", "d"],
    });
    expect(normalizeRequirement({ all: [{ any: ["x"] }] })).toBe("x");
  });

  it("keeps the meaning and is idempotent", () => {
    const keys = ["view-contacts", "view-scored-contacts", "RptWallboard:Read", "CONTACTS_READ", "a", "b"];
    fc.assert(
      fc.property(exprArb, fc.subarray(keys), (expr, held) => {
        const has = (k: string) => held.includes(k);
        const normal = normalizeRequirement(expr);
        expect(evaluateRequirement(normal, has)).toBe(evaluateRequirement(expr, has));
        expect(normalizeRequirement(normal)).toEqual(normal);
      }),
    );
  });
});

describe("evaluateRequirement", () => {
  const expr: RequirementExpr = { all: ["A", { any: ["B", "C"] }] };
  it("needs every item of an all-of and one item of an any-of", () => {
    expect(evaluateRequirement(expr, holds("A", "C"))).toBe(true);
    expect(evaluateRequirement(expr, holds("A"))).toBe(false);
    expect(evaluateRequirement(expr, holds("B", "C"))).toBe(false);
  });
  it("treats an empty all-of as met and an empty any-of as unmet", () => {
    expect(evaluateRequirement({ all: [] }, holds())).toBe(true);
    expect(evaluateRequirement({ any: [] }, holds("A"))).toBe(false);
  });
});

describe("missingForRequirement / unmetRequirement", () => {
  it("names nothing when the requirement holds", () => {
    expect(missingForRequirement({ all: ["A", { any: ["B", "C"] }] }, holds("A", "B"))).toEqual([]);
    expect(unmetRequirement({ all: ["A", { any: ["B", "C"] }] }, holds("A", "B"))).toBeNull();
  });

  it("names the unmet keys of an all-of, and every alternative of an unmet any-of", () => {
    const expr: RequirementExpr = { all: ["A", "B", { any: ["C", { all: ["D", "E"] }] }] };
    expect(missingForRequirement(expr, holds("A", "D"))).toEqual(["B", "C", "E"]);
    // The structured form keeps "B and (C or E)": one of C / E will do.
    expect(formatRequirement(unmetRequirement(expr, holds("A", "D"))!)).toBe("B and (C or E)");
  });

  it("explains View Contacts or View Scored Contacts when neither is held", () => {
    const expr: RequirementExpr = {
      any: ["calabrio-one/view-contacts", "calabrio-one/view-scored-contacts"],
    };
    expect(missingForRequirement(expr, holds())).toEqual([
      "calabrio-one/view-contacts",
      "calabrio-one/view-scored-contacts",
    ]);
  });

  it("adding the missing keys always satisfies the requirement", () => {
    const keys = ["view-contacts", "view-scored-contacts", "RptWallboard:Read", "CONTACTS_READ", "a", "b"];
    fc.assert(
      fc.property(exprArb, fc.subarray(keys), (expr, held) => {
        const missing = missingForRequirement(expr, (k) => held.includes(k));
        const after = (k: string) => held.includes(k) || missing.includes(k);
        expect(evaluateRequirement(expr, after)).toBe(true);
        expect(missing.length === 0).toBe(evaluateRequirement(expr, (k) => held.includes(k)));
      }),
    );
  });
});
