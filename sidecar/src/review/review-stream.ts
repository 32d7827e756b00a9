/**
 * Writes a review (policy/review-rows.ts) to a stream as CSV or JSON, a row at a time: a pipeline
 * pulls the next rows only when the destination has drained, so memory stays flat however many
 * users the tenant has, and a reader that goes away stops the walk.
 */
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { stringify } from "csv-stringify";
import { REVIEW_COLUMNS, type Review, type ReviewRow, reviewCells } from "../policy/review-rows.js";

/** The review's output formats. */
export const REVIEW_FORMATS = ["csv", "json"] as const;

/** One of `REVIEW_FORMATS`. */
export type ReviewFormat = (typeof REVIEW_FORMATS)[number];

/** Whether `value` names a review format. */
export function isReviewFormat(value: string): value is ReviewFormat {
  return (REVIEW_FORMATS as readonly string[]).includes(value);
}

/** The media type of a format, for HTTP answers. */
export function reviewMediaType(format: ReviewFormat): string {
  return format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";
}

/** The file name a download of the review gets. */
export function reviewFileName(review: Review, format: ReviewFormat): string {
  const system = review.system === undefined ? "" : `-${review.system}`;
  return `rolecall-review-${review.tenantId}${system}-r${review.revision}.${format}`;
}

/** A row as the JSON form's object (snake_case like the CSV header, lists as arrays). */
function jsonRow(row: ReviewRow): Record<string, unknown> {
  return {
    tenant: row.tenant,
    user_id: row.userId,
    user_name: row.userName,
    active: row.active,
    kind: row.kind,
    systems: row.systems,
    permission: row.permission,
    role_ids: row.roleIds,
    role_names: row.roleNames,
    licenses: row.licenses,
  };
}

/** The JSON document, in pieces: a header object whose `rows` array is filled as the rows come. */
function* jsonChunks(review: Review, counted: Iterable<ReviewRow>): Generator<string> {
  const head = { tenant: review.tenantId, revision: review.revision, system: review.system ?? null };
  yield `${JSON.stringify(head).slice(0, -1)},"rows":[`;
  let first = true;
  for (const row of counted) {
    yield `${first ? "\n" : ",\n"}${JSON.stringify(jsonRow(row))}`;
    first = false;
  }
  yield "\n]}\n";
}

/** Options of `writeReview`. */
export interface WriteReviewOptions {
  /** End `out` when done. Default true; pass false for process.stdout. */
  readonly end?: boolean;
  /** Stops the walk (a reader gone, a deadline). */
  readonly signal?: AbortSignal;
}

/** Streams `review` into `out` as `format`; resolves to the number of rows written. */
export async function writeReview(
  review: Review,
  format: ReviewFormat,
  out: Writable,
  options: WriteReviewOptions = {},
): Promise<number> {
  let rows = 0;
  function* counted(): Generator<ReviewRow> {
    for (const row of review.rows()) {
      rows++;
      yield row;
    }
  }
  const streamOptions = { end: options.end ?? true, ...(options.signal ? { signal: options.signal } : {}) };
  if (format === "csv") {
    const cells = Readable.from(
      (function* () {
        for (const row of counted()) yield reviewCells(row);
      })(),
    );
    // Names are anyone's to choose: a cell starting with = + - @ is quoted with a leading ' so a
    // spreadsheet shows it as text instead of running it as a formula.
    const csv = stringify({ header: true, columns: [...REVIEW_COLUMNS], escape_formulas: true });
    await pipeline(cells, csv, out, streamOptions);
  } else {
    await pipeline(Readable.from(jsonChunks(review, counted()), { objectMode: false }), out, streamOptions);
  }
  return rows;
}
