/**
 * `rolecall test FILE.yaml...`: policy tests as code. Each file's expectations run against its
 * own fixture tenant (built in a throwaway store) or, without one, against the store (`--db`,
 * `--primary`). Exit 0 when every expectation holds, 1 with a readable diff when one does not,
 * 2 when a file is malformed (naming file, line, field and the fix).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadCatalog } from "../../../catalog/loader.js";
import type { Snapshot } from "../policy/snapshot.js";
import { compileFixture } from "../policy-tests/fixture-store.js";
import { expectationLabel, runPolicyTests, type TestOutcome } from "../policy-tests/run-tests.js";
import { type PolicyTestFile, PolicyTestFileError, parsePolicyTestFile } from "../policy-tests/test-file.js";
import {
  type CliStore,
  openCliStore,
  STORE_FLAGS,
  STORE_FLAGS_HELP,
  snapshotOf,
  storeTargetOf,
} from "./cli-store.js";
import { UsageError } from "./usage-error.js";

/** Help of `rolecall test`. */
export const TEST_HELP = `Usage: rolecall test FILE.yaml... [options]

Runs policy tests: expectations on decisions, written down so a policy change that breaks one
fails CI. Exit 0 when all pass, 1 when one fails (expected vs got, with the explanation), 2 when
a file is malformed (file:line, the field, and what to write instead).

A file:
  fixture:                      # optional: a throwaway tenant, built through the admin rules
    tenant: acme                #   its id (the tests' default tenant)
    systems: [cxengage]         #   default: every system; every license gets 'seats' (25)
    roles:
      - {name: Custom Agent, based_on: cxengage.agent, revoke: [cxengage/CONTACTS_UPDATE]}
    users:
      - {id: dave, roles: [Custom Agent]}   # fixture role names, or default role ids
  tests:
    - name: dave cannot update contacts     # optional
      tenant: demo                          # required without a fixture
      user: dave
      permission: cxengage/CONTACTS_UPDATE
      target: alice                         # optional, for a mutual permission
      resource: {owner: alice, participants: [bob]}   # optional, for a _SELF permission
      expect: not_granted

'expect' is allowed, denied (any reason) or a reason: not_granted, license_missing,
requirement_missing, user_inactive, user_unknown, target_lacks_permission, out_of_scope
(REASON_NOT_GRANTED and the like work too). A file with a fixture runs on that tenant alone;
one without runs on the store.

Options:
${STORE_FLAGS_HELP}
  --json            one JSON object: {passed, failed, results: [{file, line, name, tenant, user,
                    permission, expected, allowed, reason, missing, summary, pass}]}
`;

/** An outcome with its file, as printed. */
interface FileOutcome {
  readonly file: PolicyTestFile;
  readonly outcomes: readonly TestOutcome[];
}

function readTestFile(path: string): PolicyTestFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parsePolicyTestFile(path, text);
}

function describeDecision(o: TestOutcome): string {
  const missing = o.missing.length > 0 ? ` (missing ${o.missing.join(", ")})` : "";
  return o.allowed ? "allowed" : `${o.reason}${missing}`;
}

function text(results: readonly FileOutcome[]): string {
  const lines: string[] = [];
  for (const { file, outcomes } of results) {
    lines.push(file.path);
    for (const o of outcomes) {
      const at = `${file.path}:${o.test.line}`;
      if (o.pass) {
        lines.push(`  ✓ ${o.test.name}`);
        continue;
      }
      lines.push(
        `  ✗ ${o.test.name}  (${at})`,
        `      ${o.test.tenant}/${o.test.user} ${o.test.permission}${o.test.target ? ` → ${o.test.target}` : ""}`,
        `      expected: ${expectationLabel(o.test.expect)}`,
        `      got:      ${describeDecision(o)} at revision ${o.revision}`,
        `      why:      ${o.summary}`,
      );
    }
  }
  const all = results.flatMap((r) => r.outcomes);
  const failed = all.filter((o) => !o.pass).length;
  lines.push(`${all.length - failed} passed, ${failed} failed`);
  return lines.join("\n");
}

function asJson(results: readonly FileOutcome[]) {
  const all = results.flatMap(({ file, outcomes }) =>
    outcomes.map((o) => ({
      file: file.path,
      line: o.test.line,
      name: o.test.name,
      tenant: o.test.tenant,
      user: o.test.user,
      permission: o.test.permission,
      ...(o.test.target === undefined ? {} : { target: o.test.target }),
      expected:
        o.test.expect === "GRANTED"
          ? "allowed"
          : o.test.expect === "DENIED"
            ? "denied"
            : `REASON_${o.test.expect}`,
      allowed: o.allowed,
      reason: o.reason,
      missing: o.missing,
      summary: o.summary,
      revision: o.revision,
      pass: o.pass,
    })),
  );
  return {
    passed: all.filter((r) => r.pass).length,
    failed: all.filter((r) => !r.pass).length,
    results: all,
  };
}

/** Runs `rolecall test`. */
export async function testCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { ...STORE_FLAGS, json: { type: "boolean" } },
  });
  if (positionals.length === 0) throw new UsageError("name at least one test FILE.yaml");
  let store: CliStore | undefined;
  const results: FileOutcome[] = [];
  try {
    // Every file is read first: a malformed one fails the run before anything is decided.
    const files = positionals.map(readTestFile);
    const catalog = loadCatalog();
    const fromStore = new Map<string, Snapshot>();
    for (const file of files) {
      let snapshotFor: (tenant: string) => Snapshot;
      let where: string;
      if (file.fixture !== undefined) {
        const fixture = await compileFixture(file.path, file.fixture, catalog);
        snapshotFor = () => fixture;
        where = `the fixture (it defines tenant '${file.fixture.tenant}' only)`;
      } else {
        const target = storeTargetOf(values);
        store ??= await openCliStore(target, "read");
        // Read each tenant once; on a primary a snapshot holds only the tenant asked for.
        for (const tenant of new Set(file.tests.map((t) => t.tenant))) {
          if (!fromStore.has(tenant)) fromStore.set(tenant, await snapshotOf(store, tenant));
        }
        snapshotFor = (tenant) => fromStore.get(tenant)!;
        where =
          target.kind === "file" ? `the store '${target.path}' (pass --db or add a fixture)` : "the primary";
      }
      results.push({ file, outcomes: runPolicyTests(file.path, file.tests, snapshotFor, where) });
    }
  } catch (err) {
    if (err instanceof PolicyTestFileError) {
      process.stderr.write(`rolecall test: ${err.message}\n`);
      return 2;
    }
    throw err;
  } finally {
    await store?.close();
  }
  const json = values.json ?? false;
  process.stdout.write(json ? `${JSON.stringify(asJson(results), null, 2)}\n` : `${text(results)}\n`);
  return results.every((r) => r.outcomes.every((o) => o.pass)) ? 0 : 1;
}
