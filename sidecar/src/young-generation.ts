/**
 * Keeps `rolecall serve`'s young generation at the size start-up gave it. V8 doubles the new
 * space whenever a scavenge finds it busy, up to 2 × 16 MB semi-spaces, and never gives the
 * memory back while calls keep coming: under a steady stream of checks that is 16 MB more
 * resident memory than an idle sidecar's, for no measurable CPU gain (a check leaves a few KB
 * of garbage). Node reads `--max-semi-space-size` only when the heap is created, too late for
 * `serve`; the growth factor, though, V8 reads at every growth. So after each garbage collection
 * the factor is set to 1 (no growth) at or above the cap and back to V8's default of 2 below it
 * (should V8 shrink the space while idle). A late reading can only let it grow as before.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/** Both semi-spaces together, as V8 reports the new space's size (MB): 2 × 8 MB. */
export const YOUNG_GENERATION_CAP_MB = 16;

function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
}

/**
 * Starts capping. The flag is process-wide: the store reader's worker thread grows no further
 * either while it is set, so `serve` calls this once started (the first full read done). A
 * young-generation flag given to node itself wins: nothing is changed.
 */
export function capYoungGeneration(
  capMb = YOUNG_GENERATION_CAP_MB,
  nodeFlags: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)],
): void {
  if (nodeFlags.some((f) => /^--(max-semi-space-size|semi-space-growth-factor)\b/.test(f))) return;
  const cap = capMb * 1024 * 1024;
  let factor = 2;
  const adjust = () => {
    const wanted = newSpaceBytes() < cap ? 2 : 1;
    if (wanted === factor) return;
    factor = wanted;
    setFlagsFromString(`--semi-space-growth-factor=${wanted}`);
  };
  adjust();
  new PerformanceObserver(adjust).observe({ entryTypes: ["gc"] });
}
