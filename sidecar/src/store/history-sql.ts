/**
 * The few queries history needs, in SQL both backends run as written (the parameters are `?` on
 * SQLite and `$1` on PostgreSQL; each query takes at most one). Kept in one place so the two
 * stores cannot drift.
 */

/** The operation of the audit row that marks a pruning (its revision: pruned up to there). */
export const PRUNED_OPERATION = "HistoryPruned";

/** The audit actor of a pruning. */
export const PRUNED_ACTOR = "history-days";

/** The change-log kinds that replace data store-wide: history before them cannot be rebuilt. */
export const WHOLE_STORE_KINDS = ["catalog", "restore"] as const;

/** prunedThrough, lastWholeStoreChange (no parameter). */
export const HISTORY_BOUNDS_SQL = `SELECT
  (SELECT coalesce(max(revision), 0) FROM audit_log WHERE operation = '${PRUNED_OPERATION}') AS pruned,
  (SELECT coalesce(max(revision), 0) FROM change_log
    WHERE tenant_id IS NULL AND kind IN (${WHOLE_STORE_KINDS.map((k) => `'${k}'`).join(", ")})) AS whole`;

/** The first audited revision after a time (one parameter: the ISO time). */
export function firstRevisionAfterSql(param: string): string {
  return `SELECT min(revision) AS v FROM audit_log WHERE time > ${param} AND operation <> '${PRUNED_OPERATION}'`;
}
