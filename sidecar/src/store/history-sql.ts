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

/** prunedThrough, prunedBefore, lastWholeStoreChange (no parameter). */
export const HISTORY_BOUNDS_SQL = `SELECT
  (SELECT coalesce(max(revision), 0) FROM audit_log WHERE operation = '${PRUNED_OPERATION}') AS pruned,
  (SELECT max(time) FROM audit_log WHERE operation = '${PRUNED_OPERATION}') AS pruned_before,
  (SELECT coalesce(max(revision), 0) FROM change_log
    WHERE tenant_id IS NULL AND kind IN (${WHOLE_STORE_KINDS.map((k) => `'${k}'`).join(", ")})) AS whole`;

/** The revision of the first audited write after a time (one parameter: the ISO time); by index. */
export function firstRevisionAfterSql(param: string): string {
  return `SELECT revision AS v FROM audit_log WHERE time > ${param} AND operation <> '${PRUNED_OPERATION}'
    ORDER BY time, id LIMIT 1`;
}

/** Deletes the audit rows of writes up to a revision (parameter: the revision). */
export function pruneAuditSql(param: string): string {
  return `DELETE FROM audit_log WHERE revision <= ${param} AND operation <> '${PRUNED_OPERATION}'`;
}

/** Deletes the earlier pruning marks (no parameter): the newest says it all. */
export const DROP_PRUNE_MARKS_SQL = `DELETE FROM audit_log WHERE operation = '${PRUNED_OPERATION}'`;

/** Records a pruning (parameters: the time history now starts at, detail JSON, revision). */
export function pruneMarkSql(time: string, detail: string, revision: string): string {
  return `INSERT INTO audit_log (time, actor, tenant_id, operation, before, after, revision)
    VALUES (${time}, '${PRUNED_ACTOR}', NULL, '${PRUNED_OPERATION}', NULL, ${detail}, ${revision})`;
}
