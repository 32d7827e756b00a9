/**
 * Which revision a past ask names, and whether history still covers it. An ask names a revision
 * (`at_revision`) or a time (`at_time`, the revision in force then: the last one committed at or
 * before it). History covers the revisions since the last of: the pruning (`--history-days`), the
 * horizon of `--history-days` itself, and the last store-wide change (a catalog import or a
 * restore, whose earlier state is not rebuilt). Anything older fails FAILED_PRECONDITION naming
 * the oldest revision kept.
 */
import type { PolicyStoreReads } from "../store/policy-store.js";
import { StoreError } from "../store/store-error.js";

/** Default of `--history-days`. */
export const DEFAULT_HISTORY_DAYS = 90;

const DAY_MS = 86_400_000;

/** A past ask as the API and CLI take it: a revision, or a time (RFC 3339). */
export interface PastAsk {
  readonly atRevision?: number;
  readonly atTime?: string;
}

/** The history settings a reader runs with. */
export interface HistoryPolicy {
  /** Days of history kept. */
  readonly historyDays: number;
  /** The clock. */
  readonly now: () => Date;
}

/** Parses an RFC 3339 time (a date alone is its midnight UTC); throws INVALID_ARGUMENT naming `field`. */
export function parseAskTime(text: string, field = "at_time"): Date {
  const ms = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text.trim())
    ? Date.parse(text.trim())
    : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `${field} '${text}' is not a time; write it as RFC 3339, e.g. 2026-11-24T17:00:00Z (or a date, 2026-11-24)`,
      { field },
    );
  }
  return new Date(ms);
}

/** The revision in force at `time`: the last committed at or before it. */
export async function revisionAt(tx: PolicyStoreReads, time: Date): Promise<number> {
  const next = await tx.firstRevisionAfter(time.toISOString());
  return next === undefined ? await tx.revision() : next - 1;
}

/** The time `historyDays` ago: history before it is not kept. */
export function cutoffOf(policy: HistoryPolicy): Date {
  return new Date(policy.now().getTime() - policy.historyDays * DAY_MS);
}

/** The oldest revision history can rebuild now. */
export async function oldestKept(tx: PolicyStoreReads, policy: HistoryPolicy): Promise<number> {
  const bounds = await tx.historyBounds();
  return Math.max(bounds.prunedThrough, bounds.lastWholeStoreChange, await revisionAt(tx, cutoffOf(policy)));
}

/** The earliest time history covers: `historyDays` ago, or when it was pruned before, if later. */
async function earliestTime(tx: PolicyStoreReads, policy: HistoryPolicy): Promise<Date> {
  const cutoff = cutoffOf(policy);
  const { prunedBefore } = await tx.historyBounds();
  const pruned = prunedBefore === undefined ? undefined : new Date(prunedBefore);
  return pruned !== undefined && pruned > cutoff ? pruned : cutoff;
}

/**
 * The revision a past ask names, checked against the history kept; `undefined` for an ask of
 * the present (neither field set).
 */
export async function resolvePastRevision(
  tx: PolicyStoreReads,
  ask: PastAsk,
  policy: HistoryPolicy,
): Promise<number | undefined> {
  const byRevision = ask.atRevision !== undefined && ask.atRevision !== 0;
  const byTime = ask.atTime !== undefined && ask.atTime !== "";
  if (byRevision && byTime) {
    throw new StoreError("INVALID_ARGUMENT", "set at_revision or at_time, not both", { field: "at_time" });
  }
  if (!byRevision && !byTime) return undefined;
  const current = await tx.revision();
  let revision: number;
  if (byRevision) {
    revision = ask.atRevision!;
    if (!Number.isSafeInteger(revision) || revision < 0 || revision > current) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `at_revision ${ask.atRevision} is not a revision of this store (its revisions run to ${current})`,
        { field: "at_revision" },
      );
    }
  } else {
    const time = parseAskTime(ask.atTime!);
    if (time.getTime() > policy.now().getTime()) {
      throw new StoreError("INVALID_ARGUMENT", `at_time ${ask.atTime} is in the future`, {
        field: "at_time",
      });
    }
    revision = await revisionAt(tx, time);
  }
  const oldest = await oldestKept(tx, policy);
  // Once pruned, the rows that told which revision an older time had are gone: refuse by time too.
  const earliest = await earliestTime(tx, policy);
  if (byTime && parseAskTime(ask.atTime!) < earliest) {
    throw new StoreError(
      "FAILED_PRECONDITION",
      `at_time ${ask.atTime} is older than the history kept, which starts at ${earliest.toISOString()} (--history-days ${policy.historyDays}); the oldest revision kept is ${oldest}`,
      { field: "at_time" },
    );
  }
  if (revision < oldest) {
    const asked = byRevision ? `revision ${revision}` : `at_time ${ask.atTime} (revision ${revision})`;
    throw new StoreError(
      "FAILED_PRECONDITION",
      `${asked} is older than the history kept: the oldest revision kept is ${oldest} (--history-days ${policy.historyDays}; catalog imports and restores also start history afresh)`,
      { field: byRevision ? "at_revision" : "at_time" },
    );
  }
  return revision;
}
