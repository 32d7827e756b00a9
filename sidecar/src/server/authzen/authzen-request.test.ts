import { describe, expect, it } from "vitest";
import { AuthzenError } from "./authzen-error.js";
import { parseBody, parseEvaluation, parseEvaluations, parsePage } from "./authzen-request.js";

const subject = { type: "user", id: "dave" };
const action = { name: "CONTACTS_READ" };
const resource = { type: "contact", id: "c-1" };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuthzenError);
    expect((err as AuthzenError).status).toBe(400);
    return (err as AuthzenError).message;
  }
  throw new Error("expected a 400");
}

describe("AuthZEN request shapes", () => {
  it("reads owner and participants from the resource's properties, either spelling", () => {
    const e = parseEvaluation({
      subject,
      action,
      resource: { ...resource, properties: { owner_id: "bob", participants: ["dave", "zoe"] } },
    });
    expect(e.resource).toEqual({ type: "contact", id: "c-1", ownerId: "bob", participants: ["dave", "zoe"] });
    expect(
      refusal(() =>
        parseEvaluation({
          subject,
          action,
          resource: { ...resource, properties: { ownerID: "a", owner_id: "b" } },
        }),
      ),
    ).toContain("send one of them");
    expect(
      refusal(() =>
        parseEvaluation({ subject, action, resource: { ...resource, properties: { participants: "dave" } } }),
      ),
    ).toContain("participants must be an array of user ids");
  });

  it("names the path of what is missing or mistyped", () => {
    expect(refusal(() => parseEvaluation({ subject, resource }))).toBe("request.action is required");
    expect(refusal(() => parseEvaluation({ subject: { type: "user" }, action, resource }))).toBe(
      "request.subject.id must be a non-empty string",
    );
    expect(refusal(() => parseEvaluation({ subject, action, resource, context: [] }))).toBe(
      "request.context must be a JSON object",
    );
    expect(refusal(() => parseBody("[1]"))).toBe("the request body must be a JSON object");
  });

  it("applies top-level defaults, an item's own key winning as a whole", () => {
    const req = parseEvaluations(
      {
        subject,
        action,
        resource: { ...resource, properties: { ownerID: "bob" } },
        evaluations: [
          {},
          { resource: { type: "contact", id: "c-2" } },
          { subject: { type: "group", id: "g" } },
        ],
      },
      10,
    );
    expect(req.single).toBe(false);
    expect(req.semantic).toBe("execute_all");
    const [first, second, third] = req.items;
    expect(first).toMatchObject({ subject, action, resource: { id: "c-1", ownerId: "bob" } });
    // The item's resource replaces the default whole: no owner carried over.
    expect(second).toMatchObject({ resource: { id: "c-2", ownerId: undefined } });
    // An item's own fault is kept in its place, not thrown.
    expect(third).toBeInstanceOf(AuthzenError);
  });

  it("refuses the whole request for a bad semantic, a non-array, too many items", () => {
    expect(
      refusal(() => parseEvaluations({ evaluations: [], options: { evaluations_semantic: "all" } }, 10)),
    ).toContain("execute_all, deny_on_first_deny, permit_on_first_permit");
    expect(refusal(() => parseEvaluations({ evaluations: {} }, 10))).toContain("must be an array");
    expect(refusal(() => parseEvaluations({ evaluations: [{}, {}, {}] }, 2))).toContain("at most 2");
  });

  it("pages with a default limit and refuses odd ones", () => {
    expect(parsePage({}, 1000)).toEqual({ token: "", limit: 100 });
    expect(parsePage({ page: { next_token: "x", limit: 5 } }, 1000)).toEqual({ token: "x", limit: 5 });
    expect(refusal(() => parsePage({ page: { limit: 0 } }, 1000))).toContain("from 1 to 1000");
    expect(refusal(() => parsePage({ page: { limit: 1.5 } }, 1000))).toContain("from 1 to 1000");
  });
});
