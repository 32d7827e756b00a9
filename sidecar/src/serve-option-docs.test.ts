import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVE_HELP } from "./cli/serve.js";
import {
  README_MARKERS,
  REGENERATE_README_COMMAND,
  serveOptionsMarkdown,
  withServeOptionsTable,
} from "./serve-option-docs.js";
import { SERVE_OPTION_ROWS } from "./serve-options.js";

const README = join(import.meta.dirname, "..", "..", "README.md");

describe("the serve option table as documented", () => {
  it("is what README.md's Configuration section shows", () => {
    const readme = readFileSync(README, "utf8");
    const start = readme.indexOf(README_MARKERS.start);
    const end = readme.indexOf(README_MARKERS.end);
    expect(start, `README.md lost its ${README_MARKERS.start} marker`).toBeGreaterThanOrEqual(0);
    expect(end, `README.md lost its ${README_MARKERS.end} marker`).toBeGreaterThan(start);
    const shown = readme.slice(start + README_MARKERS.start.length, end).trim();
    expect(
      shown,
      `README.md's serve options differ from sidecar/src/serve-options.ts; run \`${REGENERATE_README_COMMAND}\` and commit README.md`,
    ).toBe(serveOptionsMarkdown());
  });

  it("lists every option, flag and environment variable in --help and the README", () => {
    const table = serveOptionsMarkdown();
    for (const [, row] of SERVE_OPTION_ROWS) {
      const flags = Object.keys(row.flags).map((name) => `--${name}`);
      for (const text of [...flags, ...(row.env ? [row.env] : [])]) {
        expect(SERVE_HELP).toContain(text);
        expect(table).toContain(text);
      }
    }
    expect(table.split("\n")).toHaveLength(SERVE_OPTION_ROWS.length + 2);
  });

  it("rewrites only what lies between the markers", () => {
    const readme = `# x\n\nbefore\n${README_MARKERS.start}\nold table\n${README_MARKERS.end}\nafter\n`;
    const updated = withServeOptionsTable(readme);
    expect(updated).toBe(
      `# x\n\nbefore\n${README_MARKERS.start}\n${serveOptionsMarkdown()}\n${README_MARKERS.end}\nafter\n`,
    );
    expect(withServeOptionsTable(updated)).toBe(updated);
    expect(() => withServeOptionsTable("# no markers\n")).toThrow(/serve-options:start/);
  });
});
