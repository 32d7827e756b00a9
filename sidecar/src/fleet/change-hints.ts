/**
 * What a commit notification says about the commit. The PostgreSQL store's writer sends, with
 * each commit, the change-log row it wrote (when it fits in a notification: `pg_notify` takes at
 * most 8,000 bytes); a follower holding the rows of every revision between its copy's and the
 * newest one can plan its read without first reading the change log — one statement instead of
 * two. A hint is only a shortcut: the read checks that the primary is at exactly the revision the
 * hints end at (same database, catalog and tokens), else it reads the log as it would without.
 */

/** A change-log row heard in a notification, by column name. */
export type HeardChange = Readonly<Record<"revision" | "tenant_id" | "kind" | "detail", unknown>>;

/** A notification's payload: `[database_id, revision, tenant_id, kind, detail]`, or the revision alone. */
type HintPayload = [string, number, string | null, string, string];

function parse(payload: string | undefined): HintPayload | undefined {
  if (payload === undefined || !payload.startsWith("[")) return undefined;
  try {
    const value = JSON.parse(payload) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 5 &&
      typeof value[0] === "string" &&
      Number.isSafeInteger(value[1]) &&
      (value[2] === null || typeof value[2] === "string") &&
      typeof value[3] === "string" &&
      typeof value[4] === "string"
    ) {
      return value as HintPayload;
    }
  } catch {
    // Not a hint: the follower reads the change log.
  }
  return undefined;
}

/** Change-log rows heard in notifications, by revision, until the copy has them. */
export class ChangeHints {
  readonly #rows = new Map<number, HeardChange>();
  #databaseId: string | undefined;
  /** Bound on rows kept while the copy does not advance (the primary unreachable for reads). */
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  /** Records a notification's payload (ignored unless it is a hint). */
  heard(payload: string | undefined): void {
    const hint = parse(payload);
    if (hint === undefined) return;
    const [databaseId, revision, tenantId, kind, detail] = hint;
    if (databaseId !== this.#databaseId || this.#rows.size >= this.#max) {
      this.#rows.clear();
      this.#databaseId = databaseId;
    }
    this.#rows.set(revision, { revision, tenant_id: tenantId, kind, detail });
  }

  /**
   * The change-log rows of every revision above `revision` up to the newest heard, when every one
   * was heard for this database; undefined otherwise (or when none is newer).
   */
  above(databaseId: string, revision: number): { rows: HeardChange[]; until: number } | undefined {
    if (databaseId !== this.#databaseId) return undefined;
    const rows: HeardChange[] = [];
    for (let r = revision + 1; this.#rows.has(r); r++) rows.push(this.#rows.get(r)!);
    if (rows.length === 0 || rows.length + revision < this.#newest()) return undefined;
    return { rows, until: revision + rows.length };
  }

  /** Forgets the rows at or below `revision` (the copy has them). */
  copied(revision: number): void {
    for (const r of this.#rows.keys()) if (r <= revision) this.#rows.delete(r);
  }

  #newest(): number {
    let newest = 0;
    for (const r of this.#rows.keys()) if (r > newest) newest = r;
    return newest;
  }
}
