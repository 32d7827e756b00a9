/**
 * Policy tests as code (issue 15): `rolecall test` runs the shipped examples — the demo story on
 * the store a first `rolecall serve` leaves behind, and a file with its own fixture tenant — and
 * reports a broken expectation as a diff (text and --json) and a malformed file as exit 2.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, rolecall } from "../support/cli.js";
import { startSidecarProcess } from "../support/sidecar-process.js";

const DEMO = join(ROOT, "examples/policy-tests/demo.yaml");
const FIXTURE = join(ROOT, "examples/policy-tests/fixture.yaml");

describe("rolecall test", () => {
  let dir: string;
  let db: string;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rolecall-policy-tests-"));
    db = join(dir, "rolecall.db");
    const sidecar = await startSidecarProcess({ dbPath: db });
    expect(await sidecar.stop()).toBe(0);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("the demo story's expectations hold on the demo store", async () => {
    const run = await rolecall(["test", DEMO, "--db", db]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("✓ dave's custom role lacks CONTACTS_UPDATE, which hides the panel");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("11 passed, 0 failed");
  });

  it("a file with a fixture builds its own tenant through the admin rules and needs no store", async () => {
    const run = await rolecall(["test", FIXTURE], { ROLECALL_DB: join(dir, "absent.db") });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("5 passed, 0 failed");
  });

  const failing = () =>
    file(
      "failing.yaml",
      `tests:
  - name: dave updates contacts
    tenant: demo
    user: dave
    permission: cxengage/CONTACTS_UPDATE
    expect: allowed
  - {tenant: demo, user: lena, permission: calabrio-one/view-analytics, expect: not_granted}
  - {tenant: demo, user: alice, permission: cxengage/CONTACTS_UPDATE, expect: allowed}
`,
    );

  it("a broken expectation exits 1 with expected vs got and the explanation", async () => {
    const run = await rolecall(["test", failing(), "--db", db]);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split("\n");
    const at = lines.findIndex((l) => l.includes("✗ dave updates contacts"));
    expect(lines[at]).toBe(`  ✗ dave updates contacts  (${join(dir, "failing.yaml")}:2)`);
    expect(lines[at + 2]).toBe("      expected: allowed");
    expect(lines[at + 3]).toMatch(/^ {6}got: {6}REASON_NOT_GRANTED at revision \d+$/);
    expect(lines[at + 4]).toBe(
      "      why:      Dave (custom agent) may not use CONTACTS_UPDATE (cxengage): none of their roles (Custom Agent) grants it; roles Administrator (CxEngage), Agent (CxEngage), Supervisor (CxEngage) do.",
    );
    expect(run.stdout).toContain(
      "      got:      REASON_LICENSE_MISSING (missing calabrio-one/analytics, calabrio-one/calabrio-one-access)",
    );
    expect(run.stdout).toContain("  ✓ alice cxengage/CONTACTS_UPDATE");
    expect(lines.at(-1)).toBe("1 passed, 2 failed");
  });

  it("--json gives CI one object: counts and every result", async () => {
    const run = await rolecall(["test", failing(), "--db", db, "--json"]);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout) as {
      passed: number;
      failed: number;
      results: Record<string, unknown>[];
    };
    expect(out).toMatchObject({ passed: 1, failed: 2 });
    expect(out.results[1]).toEqual({
      file: join(dir, "failing.yaml"),
      line: 7,
      name: "lena calabrio-one/view-analytics",
      tenant: "demo",
      user: "lena",
      permission: "calabrio-one/view-analytics",
      expected: "REASON_NOT_GRANTED",
      allowed: false,
      reason: "REASON_LICENSE_MISSING",
      missing: ["calabrio-one/analytics", "calabrio-one/calabrio-one-access"],
      summary: expect.stringContaining("Lena Analyst may not use view-analytics"),
      revision: expect.any(Number),
      pass: false,
    });
  });

  it("a malformed file exits 2 naming file, line, field and the fix; nothing is run", async () => {
    const cases: [string, string][] = [
      [
        "tests:\n  - tenant: demo\n    user: dave\n    permision: cxengage/CONTACTS_UPDATE\n    expect: allowed\n",
        ":4: unknown field 'permision' in tests[0]; did you mean 'permission'?",
      ],
      [
        "tests:\n  - {tenant: demo, user: dave, permission: cxengage/CONTACTS_UPDATE, expect: not_grantd}\n",
        ":2: 'expect: not_grantd' is not a decision; did you mean 'not_granted'?",
      ],
      [
        "tests:\n  - {tenant: demo, user: dave, permission: cxengage/CONTACT_UPDATE, expect: allowed}\n",
        ":2: 'permission': unknown permission 'cxengage/CONTACT_UPDATE'; did you mean 'cxengage/CONTACTS_UPDATE'?",
      ],
      [
        "tests:\n  - {user: dave, permission: cxengage/CONTACTS_UPDATE, expect: allowed}\n",
        ":2: 'tenant' is required",
      ],
      [
        "fixture:\n  tenant: t\n  users:\n    - {id: u, roles: [Nope]}\ntests:\n  - {user: u, permission: cxengage/CONTACTS_READ, expect: allowed}\n",
        ":4: fixture user 'u': no role 'Nope'",
      ],
      ["tests: []\n", ":1: 'tests' must be a non-empty list"],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const path = file(`malformed-${i}.yaml`, text);
      const run = await rolecall(["test", path, "--db", db]);
      expect(run.code, text).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`rolecall test: ${path}${message}`);
    }
  });

  it("--help describes the file", async () => {
    const help = await rolecall(["test", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: rolecall test FILE.yaml... [options]");
    expect(help.stdout).toContain("expect: not_granted");
  });
});
