import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Runs `capYoungGeneration(4, flags)` in a fresh node process (the flag is process-wide, and a
 * fresh heap starts with a small new space), then makes ~300 MB of short-lived garbage in steps
 * that let the GC observer run, and returns the new space's largest size in MB.
 */
function newSpaceAfterGarbage(flags: readonly string[]): number {
  const module = join(import.meta.dirname, "young-generation.ts");
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { setImmediate as tick } from "node:timers/promises";
    const { capYoungGeneration } = await import(${JSON.stringify(module)});
    capYoungGeneration(4, ${JSON.stringify(flags)});
    let largest = 0, keep = [];
    for (let step = 0; step < 300; step++) {
      for (let i = 0; i < 10_000; i++) { keep.push({ i, a: [i, i] }); if (keep.length > 2_000) keep = []; }
      const size = getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
      largest = Math.max(largest, size / 1048576);
      await tick();
    }
    process.stdout.write(String(largest));`;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  return Number(out);
}

describe("capYoungGeneration", () => {
  it("stops the new space growing past the cap (one late doubling at most)", () => {
    expect(newSpaceAfterGarbage([])).toBeLessThanOrEqual(8);
  });

  it("leaves V8 alone when node was given a young-generation flag", () => {
    expect(newSpaceAfterGarbage(["--max-semi-space-size=16"])).toBeGreaterThan(8);
  });
});
