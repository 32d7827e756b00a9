/**
 * `rolecall serve`'s V8 heap settings (docs/performance.md, "Resident memory"): the sidecar's
 * resident memory stays near its live data instead of V8's defaults for a batch job. Node reads
 * most heap flags only when the heap is created, before any of our code runs; the ones set here
 * V8 reads again at every collection, so setting them first thing (cli/main.ts, before the
 * server's modules load) works as if they had been given to node. A young-generation,
 * heap-growing or parallel-scavenge flag given to node itself (command line or NODE_OPTIONS)
 * wins: that one is left alone.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/**
 * The young generation's largest size once serving (both semi-spaces, MB). V8 doubles the new
 * space whenever a scavenge finds it busy, up to 2 × 16 MB, and never gives it back. Each
 * scavenge copies what calls in flight hold (~0.4–1 MB at 32 in flight), so a 2 MB new space
 * spent a third of the sidecar's CPU in the collector. 8 MB, since round 4 read a small store
 * on the main thread (~10 MiB less): CPU per call 1.18–1.26x the no-op grpc-js server's and
 * throughput 0.93–1.00x of it, against 1.19–1.36x and 0.86–0.98x at 6 MB; resident memory ~2 MiB
 * under Cerbos's after the load (6 MB: ~4.5); docs/performance.md has the runs.
 */
export const SERVE_YOUNG_GENERATION_CAP_MB = 8;

/**
 * Old-generation growth between full collections. V8 lets the heap grow to up to 4x its live
 * size before a full collection; in the soak that left resident memory swinging between ~195 and
 * ~230 MiB. With ~14 MB live, 40% keeps it within ~6 MB of its live size, for a full collection
 * every few thousand calls.
 */
const HEAP_GROWING_FLAG = "--heap-growing-percent=40";

/**
 * Scavenges on the main thread alone. With a new space of a few MB and ~0.5 MB surviving, V8's
 * parallel scavenge spent ~1 ms of helper-thread CPU beside ~1.75 ms on the main thread per
 * scavenge; alone, the main thread takes ~1.9 ms (`--trace-gc-nvp` under 32 checks in flight):
 * about a third less CPU per scavenge, ~0.1 ms longer pauses.
 */
const SCAVENGE_FLAG = "--no-parallel-scavenge";

/** The growth factor in force, set again after a worker starts (undefined: left to V8). */
let growthFactor: number | undefined;
/** The other flags tuneHeapForServe set, for reapplyServeHeapFlags. */
let otherFlags: string[] = [];

function nodeFlags(): string[] {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
}

function setGrowthFactor(factor: number): void {
  growthFactor = factor;
  setFlagsFromString(`--semi-space-growth-factor=${factor}`);
}

/**
 * Applies serve's heap settings; call once, before the server's modules are imported. Until
 * allowYoungGenerationGrowth, the young generation keeps a fresh heap's size (1–2 MB): loading
 * the modules and the store would otherwise grow it to 16 MB and leave it there, idle.
 */
export function tuneHeapForServe(flags: readonly string[] = nodeFlags()): void {
  growthFactor = undefined;
  otherFlags = [];
  // Node takes V8 flags with `_` as well as `-` between words.
  const given = (pattern: RegExp) => flags.some((f) => pattern.test(f.replaceAll("_", "-")));
  if (!given(/^--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/)) setGrowthFactor(1);
  if (!given(/^--heap-growing-percent\b/)) otherFlags.push(HEAP_GROWING_FLAG);
  if (!given(/^--(no-)?parallel-scavenge\b/)) otherFlags.push(SCAVENGE_FLAG);
  for (const flag of otherFlags) setFlagsFromString(flag);
}

function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
}

/**
 * Once serving: lets the young generation grow under load, up to `capMb`. Below the cap the
 * growth factor is what reaches the cap in one step (at least 2: V8's own doubling), at the cap
 * 1. The GC observer runs after the collection it reports, so one growth past the cap is
 * possible. Nothing when node was given a young-generation flag.
 */
export function allowYoungGenerationGrowth(capMb = SERVE_YOUNG_GENERATION_CAP_MB): void {
  if (growthFactor === undefined) return;
  const cap = capMb * 1024 * 1024;
  const adjust = () => {
    const size = newSpaceBytes();
    const wanted = size < cap ? Math.max(2, Math.floor(cap / Math.max(size, 1))) : 1;
    if (wanted !== growthFactor) setGrowthFactor(wanted);
  };
  adjust();
  new PerformanceObserver(adjust).observe({ entryTypes: ["gc"] });
}

/**
 * Sets serve's flags again (none if tuneHeapForServe never ran): starting a worker thread puts
 * V8's flags back to their defaults for the whole process, the main thread's heap included.
 */
export function reapplyServeHeapFlags(): void {
  if (growthFactor !== undefined) setGrowthFactor(growthFactor);
  for (const flag of otherFlags) setFlagsFromString(flag);
}
