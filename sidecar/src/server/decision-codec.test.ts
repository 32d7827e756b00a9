import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CheckPermissionResponseSchema,
  CheckPermissionsResponseSchema,
  Reason as WireReason,
} from "../../../gen/rolecall/v1/policy_pb.js";
import { decision, type Reason } from "../policy/decision.js";
import { encodeCheckPermissionResponse, encodeCheckPermissionsResponse } from "./decision-codec.js";

const REASONS: readonly Reason[] = [
  "GRANTED",
  "NOT_GRANTED",
  "LICENSE_MISSING",
  "REQUIREMENT_MISSING",
  "USER_INACTIVE",
  "USER_UNKNOWN",
  "TARGET_LACKS_PERMISSION",
  "OUT_OF_SCOPE",
];

const decisionArb = fc
  .record({
    allowed: fc.boolean(),
    reason: fc.constantFrom(...REASONS),
    missing: fc.array(fc.string({ unit: "grapheme", maxLength: 40 }), { maxLength: 4 }),
    revision: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  })
  .map((d) => decision(d.allowed, d.reason, d.missing, d.revision));

const wire = (d: ReturnType<typeof decision>) =>
  create(CheckPermissionResponseSchema, {
    allowed: d.allowed,
    reason: WireReason[d.reason],
    missing: [...d.missing],
    revision: BigInt(d.revision),
  });

describe("decision codec", () => {
  it("encodes one answer exactly as protobuf-es does", () => {
    fc.assert(
      fc.property(decisionArb, (d) => {
        expect(encodeCheckPermissionResponse(d)).toEqual(toBinary(CheckPermissionResponseSchema, wire(d)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("encodes a batch exactly as protobuf-es does, reusing the bytes of a repeated decision", () => {
    fc.assert(
      fc.property(fc.array(decisionArb, { maxLength: 20 }), fc.nat({ max: 2 ** 40 }), (ds, revision) => {
        const batch = [...ds, ...ds];
        const expected = toBinary(
          CheckPermissionsResponseSchema,
          create(CheckPermissionsResponseSchema, { results: batch.map(wire), revision: BigInt(revision) }),
        );
        expect(encodeCheckPermissionsResponse(batch, revision)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
