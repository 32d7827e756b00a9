/**
 * `COPY (SELECT …) TO STDOUT` on a node-postgres client, row by row as the server sends them, with
 * no package beyond `pg`: a query object node-postgres hands the connection to (its "submittable"
 * interface) and a parser of PostgreSQL's text COPY format. A million-user table moves as a stream
 * of rows the caller writes straight into SQLite — no object per row, no JSON built by the server
 * (the aggregated-JSON read it replaces took the primary longer than its statement bound).
 */
import type pg from "pg";

/** One row: each column's text, or null for SQL NULL. */
export type CopyRow = (string | null)[];

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

const ESCAPES: Readonly<Record<string, string>> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/** A field of the text format with its backslash escapes undone. */
function unescapeField(raw: Buffer): string {
  const text = raw.toString("utf8");
  return text.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/gs, (_, code: string) => {
    if (code[0] === "x") return String.fromCharCode(Number.parseInt(code.slice(1), 16));
    if (/^[0-7]/.test(code)) return String.fromCharCode(Number.parseInt(code, 8));
    return ESCAPES[code] ?? code;
  });
}

/** Splits one row (without its newline) into fields. */
function parseRow(line: Buffer): CopyRow {
  const out: CopyRow = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i <= line.length; i++) {
    const b = i === line.length ? TAB : line[i]!;
    if (b === BACKSLASH) {
      escaped = true;
      i++; // the escaped byte is never a separator
      continue;
    }
    if (b !== TAB) continue;
    if (i - start === 2 && line[start] === BACKSLASH && line[start + 1] === 0x4e)
      out.push(null); // \N
    else if (escaped) out.push(unescapeField(line.subarray(start, i)));
    else out.push(line.toString("utf8", start, i));
    start = i + 1;
    escaped = false;
  }
  return out;
}

/**
 * Runs `COPY (select) TO STDOUT` on `client` (inside whatever transaction it has open) and calls
 * `onRow` for each row, synchronously, as it arrives. Resolves with the row count once the
 * server says the copy is complete; rejects on the server's error or when `onRow` throws (the
 * connection is then unusable mid-copy: the caller ends it).
 */
export function copyOut(client: pg.Client, select: string, onRow: (row: CopyRow) => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let rows = 0;
    let pending: Buffer | undefined;
    let failure: unknown;
    const take = (chunk: Buffer): void => {
      const data = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      pending = undefined;
      let start = 0;
      for (let nl = data.indexOf(NEWLINE, start); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
        onRow(parseRow(data.subarray(start, nl)));
        rows++;
        start = nl + 1;
      }
      if (start < data.length) pending = Buffer.from(data.subarray(start));
    };
    const submittable = {
      submit(connection: { query(text: string): void }) {
        connection.query(`COPY (${select}) TO STDOUT`);
      },
      handleCopyData(msg: { chunk: Buffer }) {
        if (failure !== undefined) return;
        try {
          take(msg.chunk);
        } catch (err) {
          failure = err; // reported once the server has finished the statement
        }
      },
      handleCommandComplete() {},
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
      handleError(err: Error) {
        reject(err);
      },
      handleReadyForQuery() {
        if (failure !== undefined) reject(failure);
        else if (pending !== undefined) reject(new Error("COPY ended inside a row"));
        else resolve(rows);
      },
    };
    // node-postgres runs any object with `submit` as a query of its own; its types do not say so.
    (client as unknown as { query(s: object): void }).query(submittable);
  });
}
