import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Runs `tuneHeapForServe(flags)` in a fresh node process (the flags are process-wide, and a
 * fresh heap starts with a small new space), then makes ~300 MB of short-lived garbage, some of
 * it surviving a scavenge or two as a call in flight does. Returns the new space's size (MB) when
 * the settings went in (loading tsx grew it already) and its largest size afterwards.
 */
function newSpaceAfterGarbage(flags: readonly string[]): { before: number; largest: number } {
  const module = join(import.meta.dirname, "serve-heap.ts");
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { setImmediate as tick } from "node:timers/promises";
    const { tuneHeapForServe } = await import(${JSON.stringify(module)});
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size / 1048576;
    const before = newSpace();
    tuneHeapForServe(${JSON.stringify(flags)});
    let largest = 0, keep = [];
    for (let step = 0; step < 300; step++) {
      for (let i = 0; i < 10_000; i++) { keep.push({ i, a: [i, i] }); if (keep.length > 20_000) keep = []; }
      largest = Math.max(largest, newSpace());
      await tick();
    }
    process.stdout.write(JSON.stringify({ before, largest }));`;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  return JSON.parse(out) as { before: number; largest: number };
}

describe("tuneHeapForServe", () => {
  it("keeps the new space at the size it had however busy the heap gets", () => {
    const { before, largest } = newSpaceAfterGarbage([]);
    expect(largest).toBeLessThanOrEqual(Math.max(before, 2));
  });

  it("leaves V8 alone when node was given a young-generation flag", () => {
    const { before, largest } = newSpaceAfterGarbage(["--max-semi-space-size=16"]);
    expect(largest).toBeGreaterThan(Math.max(before, 2));
  });
});
