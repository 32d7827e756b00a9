import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Runs serve's heap settings in a fresh node process (the flags are process-wide, and a fresh
 * heap starts with a small new space): `tuneHeapForServe(flags)`, then, with `growCapMb`,
 * `allowYoungGenerationGrowth(growCapMb)` as `serve` does once serving. Then makes ~300 MB of
 * short-lived garbage, some of it surviving a scavenge or two as calls in flight do, in steps
 * that let the GC observer run. Returns the new space's size (MB) when the settings went in
 * (loading tsx grew it already) and its largest size afterwards.
 */
function newSpaceAfterGarbage(
  flags: readonly string[],
  growCapMb?: number,
  worker?: "reapply" | "only",
): { before: number; largest: number } {
  const module = join(import.meta.dirname, "serve-heap.ts");
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { setImmediate as tick } from "node:timers/promises";
    const { tuneHeapForServe, allowYoungGenerationGrowth, reapplyServeHeapFlags } = await import(${JSON.stringify(module)});
    const { Worker } = await import("node:worker_threads");
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size / 1048576;
    const before = newSpace();
    tuneHeapForServe(${JSON.stringify(flags)});
    ${growCapMb === undefined ? "" : `allowYoungGenerationGrowth(${growCapMb});`}
    ${
      worker === undefined
        ? ""
        : `const w = new Worker("setInterval(() => {}, 1000)", { eval: true });
           await new Promise((r) => w.once("online", r));
           ${worker === "reapply" ? "reapplyServeHeapFlags();" : ""}`
    }
    let largest = 0, keep = [];
    for (let step = 0; step < 300; step++) {
      for (let i = 0; i < 10_000; i++) { keep.push({ i, a: [i, i] }); if (keep.length > 20_000) keep = []; }
      largest = Math.max(largest, newSpace());
      await tick();
    }
    process.stdout.write(JSON.stringify({ before, largest }));
    process.exit(0);`;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  return JSON.parse(out) as { before: number; largest: number };
}

describe("serve's heap settings", () => {
  it("keep the new space at the size it had while starting, however busy the heap gets", () => {
    const { before, largest } = newSpaceAfterGarbage([]);
    expect(largest).toBeLessThanOrEqual(Math.max(before, 2));
  });

  it("once serving, let it grow under load up to the cap (one late doubling at most)", () => {
    const { before, largest } = newSpaceAfterGarbage([], 8);
    expect(largest).toBeGreaterThan(Math.max(before, 2));
    expect(largest).toBeLessThanOrEqual(16);
  });

  it("hold after a worker thread starts, set again (starting one resets V8's flags)", () => {
    const reset = newSpaceAfterGarbage([], undefined, "only");
    expect(reset.largest).toBeGreaterThan(Math.max(reset.before, 2));
    const { before, largest } = newSpaceAfterGarbage([], undefined, "reapply");
    expect(largest).toBeLessThanOrEqual(Math.max(before, 2));
  });

  it("leave V8 alone when node was given a young-generation flag", () => {
    const { before, largest } = newSpaceAfterGarbage(["--max-semi-space-size=16"]);
    expect(largest).toBeGreaterThan(Math.max(before, 2));
  });
});
