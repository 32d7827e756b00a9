/**
 * `rolecall serve`'s V8 heap settings, applied before its modules load (cli/main.ts), so the
 * sidecar's resident memory stays near its live data instead of V8's defaults for a batch job
 * (docs/performance.md, "Resident memory"). Node reads most heap flags only when the heap is
 * created, before any of our code runs; these two V8 reads again at every collection, so setting
 * them first thing works as if they had been given to node. A young-generation or heap-growing
 * flag given to node itself (command line or NODE_OPTIONS) wins: that one is left alone.
 */
import { setFlagsFromString } from "node:v8";

/**
 * The young generation stays at the size of a fresh heap (1–2 MB): V8 doubles the new space
 * whenever a scavenge finds it busy, up to 2 × 16 MB semi-spaces, and never gives it back while
 * calls keep coming. A check leaves a few KB of garbage, so a scavenge every few hundred calls
 * costs little, and the 30 MB that growth held (idle too: loading the modules grew it) was
 * most of the gap between the sidecar's memory and Cerbos's. Not a growth factor toggled from a
 * GC observer: its callbacks arrive late, and a busy heap doubled several times meanwhile.
 */
const YOUNG_GENERATION_FLAG = "--semi-space-growth-factor=1";

/**
 * Old-generation growth between full collections. V8 lets the heap grow to up to 4x its live
 * size before a full collection; in the soak that left resident memory swinging between ~195
 * and ~230 MiB. Doubling at most keeps it flat with more, smaller full collections (1.5x cost
 * more CPU under full load).
 */
const HEAP_GROWING_FLAG = "--heap-growing-percent=100";

function nodeFlags(): string[] {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
}

/** The flags tuneHeapForServe set, for reapplyServeHeapFlags. */
let applied: readonly string[] = [];

/** Applies serve's heap settings; call once, before the server's modules are imported. */
export function tuneHeapForServe(flags: readonly string[] = nodeFlags()): void {
  const ours: string[] = [];
  if (!flags.some((f) => /^--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/.test(f)))
    ours.push(YOUNG_GENERATION_FLAG);
  if (!flags.some((f) => f.startsWith("--heap-growing-percent"))) ours.push(HEAP_GROWING_FLAG);
  applied = ours;
  reapplyServeHeapFlags();
}

/**
 * Sets the flags tuneHeapForServe chose again (none if it never ran): starting a worker thread
 * puts V8's flags back to their defaults for the whole process, the main thread's heap included.
 */
export function reapplyServeHeapFlags(): void {
  for (const flag of applied) setFlagsFromString(flag);
}
