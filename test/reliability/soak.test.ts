/**
 * The soak's short variant (issue 8, item 8) inside `npm test`: 20 s at 500 checks/s with a
 * policy change every second through AdminService. It asserts the invariants that hold at any
 * length — zero errors, every answer about the flipped permission right for its revision, the
 * WAL bounded, the sidecar caught up and alive — and prints memory and p99 figures; the memory
 * and latency trend criteria need the long run (a 20 s window cannot tell warm-up from growth):
 *
 *   npx tsx test/reliability/soak.ts --seconds 600          (or test/reliability/run-long.sh)
 */
import { describe, expect, it } from "vitest";
import { runSoak, WAL_BOUND_KIB } from "./soak.js";

describe("soak (short)", () => {
  it("serves 20 s of checks with a policy change each second: no errors, right answers, bounded WAL", async () => {
    const result = await runSoak({ seconds: 20, rate: 500, baselineSeconds: 5 });
    const { samples, ...summary } = result;
    console.log(`soak (short): ${JSON.stringify(summary)}`);
    expect(result.errors).toBe(0);
    expect(result.wrong).toBe(0);
    expect(result.changes).toBeGreaterThanOrEqual(15);
    expect(result.walMaxKiB).toBeLessThanOrEqual(WAL_BOUND_KIB);
    expect(
      result.failures.filter((f) => /errors|disagreed|WAL|revision|exited|changes failed/.test(f)),
    ).toEqual([]);
  }, 60_000);
});
