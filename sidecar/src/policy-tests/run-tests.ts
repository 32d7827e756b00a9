/**
 * Runs a test file's expectations on compiled policy, each decided and explained exactly as
 * `rolecall check --explain` and ExplainPermission would: a test passes when the decision is the
 * one expected, and a failure carries the explanation's one-line summary.
 */
import { UnknownPermissionError, UnknownTenantError } from "../policy/decision.js";
import { explain } from "../policy/explain.js";
import type { Snapshot } from "../policy/snapshot.js";
import { type Expectation, type PolicyTestCase, PolicyTestFileError } from "./test-file.js";

/** What one expectation met. */
export interface TestOutcome {
  readonly test: PolicyTestCase;
  readonly pass: boolean;
  readonly allowed: boolean;
  /** The reason as the proto names it, `REASON_NOT_GRANTED`. */
  readonly reason: string;
  readonly missing: readonly string[];
  /** The explanation's one-line summary. */
  readonly summary: string;
  readonly revision: number;
}

/** An expectation as the proto would spell it: `allowed`, `denied` or `REASON_…`. */
export function expectationLabel(e: Expectation): string {
  if (e === "GRANTED") return "allowed";
  if (e === "DENIED") return "denied (any reason)";
  return `REASON_${e}`;
}

function meets(expected: Expectation, allowed: boolean, reason: string): boolean {
  if (expected === "GRANTED") return allowed;
  if (expected === "DENIED") return !allowed;
  return reason === expected;
}

/**
 * Runs `tests` on `snapshotFor(tenant)`. An unknown tenant or permission is the file's mistake
 * (a `PolicyTestFileError` at the test's line), not a failed expectation.
 */
export function runPolicyTests(
  path: string,
  tests: readonly PolicyTestCase[],
  snapshotFor: (tenant: string) => Snapshot,
  where: string,
): TestOutcome[] {
  return tests.map((test) => {
    const snapshot = snapshotFor(test.tenant);
    let answer: ReturnType<typeof explain>;
    try {
      answer = explain(snapshot, test.tenant, test.user, {
        permission: test.permission,
        ...(test.target === undefined ? {} : { targetUserId: test.target }),
        ...(test.resource === undefined ? {} : { resource: test.resource }),
      });
    } catch (err) {
      if (err instanceof UnknownTenantError) {
        throw new PolicyTestFileError(path, test.line, `no tenant '${test.tenant}' in ${where}`);
      }
      if (err instanceof UnknownPermissionError) {
        throw new PolicyTestFileError(path, test.line, `'permission': ${err.message}`);
      }
      throw err;
    }
    const d = answer.decision;
    return {
      test,
      pass: meets(test.expect, d.allowed, d.reason),
      allowed: d.allowed,
      reason: `REASON_${d.reason}`,
      missing: d.missing,
      summary: answer.summary,
      revision: d.revision,
    };
  });
}
