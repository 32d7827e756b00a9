import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take ten seconds or more, started before everything else so that the two
 * workers end together instead of one starting a 40 s file when the other has finished. They
 * alternate between the reliability suites that put the sidecar under load or time a fault
 * (odd places) and the other long files (even places): with durations alike, a worker taking the
 * next file mostly pairs a load suite with a CLI, browser or property suite rather than with
 * another load suite. Durations (s) from `npm test` on the 2-core machine. A file missing here
 * still runs, after these, in vitest's own order (longest first from its cache, by size on a
 * fresh clone).
 */
const LONGEST_FIRST = [
  "test/reliability/fleet-faults.test.ts", // 41
  "test/integration/cli.test.ts", // 47
  "test/reliability/freshness.test.ts", // 26
  "test/integration/cli-fleet.test.ts", // 18
  "test/browser/extension-fixes.test.ts", // 18
  "test/reliability/soak.test.ts", // 21
  "sidecar/src/policy/engine.property.test.ts", // 18
  "test/reliability/differential.test.ts", // 20
  "test/integration/review-export.test.ts", // 12
  "test/reliability/writer-crash.test.ts", // 18
  "test/browser/extension.test.ts", // 12
  "test/reliability/fuzz.test.ts", // 17
  "sidecar/src/admin/policy-admin.test.ts", // 11
  "test/reliability/broken-store.test.ts", // 14
  "test/integration/policy-tests.test.ts", // 10
  "test/reliability/auth-isolation.test.ts", // 8
  "test/browser/extension-analyzer.test.ts", // 10
];

/**
 * Files that compare latency under attack with a baseline measured moments before: run last,
 * when the other worker is down to short unit files (or done), so a neighbouring load suite
 * does not move one window and not the other.
 */
const LAST = ["test/reliability/denial-of-service.test.ts"];

/** vitest's order, with LONGEST_FIRST moved to the front in its order and LAST to the end. */
class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      if (LAST.some((f) => spec.moduleId.endsWith(`/${f}`))) return LONGEST_FIRST.length + 1;
      const i = LONGEST_FIRST.findIndex((f) => spec.moduleId.endsWith(`/${f}`));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b)); // stable: the rest keep vitest's order
  }
}

export default defineConfig({
  test: {
    include: ["catalog/**/*.test.ts", "sidecar/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["node_modules/**", "test/bench/**"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // vitest's default is one worker per core less one: a single worker on the 2-core machine,
    // where most of a suite's time is spent waiting on its sidecar, PostgreSQL or Chromium child.
    // ROLECALL_TEST_WORKERS=1 runs one file at a time (a machine already busy with other work).
    maxWorkers: Number(process.env.ROLECALL_TEST_WORKERS) || Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: LongestFirstSequencer },
  },
});
