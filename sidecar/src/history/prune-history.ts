/**
 * `--history-days`: the audit rows of writes older than the horizon are deleted, and the pruning
 * is itself recorded as an audit row (operation HistoryPruned, at the revision pruned through) —
 * so the oldest revision kept stays known whatever `--history-days` a later start is given, and
 * a follower copies the mark with the audit log. Rebuilding revision R needs only the rows above
 * R, so everything from the horizon on can still be rebuilt.
 */
import type { PolicyStore } from "../store/policy-store.js";
import { cutoffOf, type HistoryPolicy, revisionAt } from "./history-bounds.js";

/** What one pruning did. */
export interface PruneResult {
  /** History now starts at this revision. */
  readonly prunedThrough: number;
  /** Audit rows deleted. */
  readonly deleted: number;
}

/** Prunes the store's history to `policy.historyDays`; `undefined` when there was nothing to prune. */
export function pruneHistory(store: PolicyStore, policy: HistoryPolicy): Promise<PruneResult | undefined> {
  return store.write(async (tx) => {
    const cutoff = cutoffOf(policy);
    const horizon = await revisionAt(tx, cutoff);
    const { prunedThrough } = await tx.historyBounds();
    if (horizon <= prunedThrough) return undefined;
    const deleted = await tx.pruneAudit(horizon, cutoff.toISOString(), {
      historyDays: policy.historyDays,
      prunedAt: policy.now().toISOString(),
    });
    return deleted === 0 ? undefined : { prunedThrough: horizon, deleted };
  });
}

/** How often a sidecar prunes its store's history. */
const PRUNE_EVERY_MS = 3_600_000;

/** A running pruner; `stop` waits for a pruning in progress. */
export interface HistoryPruner {
  stop(): Promise<void>;
}

/**
 * Prunes at once and then hourly, on the store of record (the file, or the primary: a read
 * replica refuses and is left alone). A failure is logged and retried at the next hour.
 */
export function startHistoryPruner(
  store: PolicyStore,
  policy: HistoryPolicy,
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void },
): HistoryPruner {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = pruneHistory(store, policy).then(
      (out) => {
        if (out !== undefined) log.info({ ...out, historyDays: policy.historyDays }, "history pruned");
      },
      (err: unknown) =>
        log.warn({ err: (err as Error).message }, "history pruning failed; retried in an hour"),
    );
  };
  run();
  const timer = setInterval(run, PRUNE_EVERY_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
