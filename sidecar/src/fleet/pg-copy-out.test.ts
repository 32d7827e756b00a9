/**
 * The COPY reader against a real PostgreSQL 15: every value comes back exactly as stored —
 * separators, newlines and backslashes inside values, NULL against the text "\N", non-ASCII —
 * row by row in order; a server error rejects, and the connection stays usable after it.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usePostgres } from "../../../test/support/use-postgres.js";
import { type CopyRow, copyOut } from "./pg-copy-out.js";

const postgres = usePostgres();

const AWKWARD: (string | null)[][] = [
  ["plain", "a"],
  ["tab\there", "new\nline"],
  ["back\\slash", "\\N"],
  ["null", null],
  ["carriage\rreturn \u0008\u000b\f", ""],
  ["ünïcödé 😀 \uFF21", "end\\"],
];

describe("copyOut", () => {
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: await postgres().createDatabase("copy_out") });
    await client.connect();
    await client.query("CREATE TABLE t (n INTEGER, a TEXT, b TEXT)");
    for (const [i, [a, b]] of AWKWARD.entries()) {
      await client.query("INSERT INTO t VALUES ($1, $2, $3)", [i, a, b]);
    }
  });
  afterAll(async () => {
    await client.end();
  });

  it("returns every value exactly as stored, in order, NULL apart from the text \\N", async () => {
    const rows: CopyRow[] = [];
    const count = await copyOut(client, "SELECT n, a, b FROM t ORDER BY n", (row) => rows.push(row));
    expect(count).toBe(AWKWARD.length);
    expect(rows).toEqual(AWKWARD.map(([a, b], i) => [String(i), a, b]));
  });

  it("streams a large result row by row", async () => {
    let seen = 0;
    let last: CopyRow = [];
    const count = await copyOut(client, "SELECT g, md5(g::text) FROM generate_series(1, 50000) g", (row) => {
      seen++;
      last = row;
    });
    expect(count).toBe(50_000);
    expect(seen).toBe(50_000);
    expect(last[0]).toBe("50000");
  });

  it("rejects on the server's error and leaves the connection usable", async () => {
    await expect(copyOut(client, "SELECT * FROM no_such_table", () => {})).rejects.toThrow(/no_such_table/);
    expect((await client.query("SELECT 1 AS one")).rows[0].one).toBe(1);
  });

  it("rejects when the row handler throws", async () => {
    const refuse = () => {
      throw new Error("disk full");
    };
    await expect(copyOut(client, "SELECT n FROM t", refuse)).rejects.toThrow("disk full");
    expect((await client.query("SELECT 2 AS two")).rows[0].two).toBe(2);
  });
});
