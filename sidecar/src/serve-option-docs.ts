/**
 * The option table as people read it: the option lines of `rolecall serve --help` and the
 * README's Configuration table (regenerated with `npm run docs:serve-options`).
 */
import type { ServeOption } from "./option-kinds.js";
import { SERVE_OPTION_ROWS } from "./serve-options.js";

/** The command that rewrites the README's table from the option table. */
export const REGENERATE_README_COMMAND = "npm run docs:serve-options";

/** The comments the README's generated table sits between. */
export const README_MARKERS = Object.freeze({
  start: `<!-- serve-options:start (generated from sidecar/src/serve-options.ts by \`${REGENERATE_README_COMMAND}\`; do not edit) -->`,
  end: "<!-- serve-options:end -->",
});

/** The default as the values to type (`20`), or in words when there is none; undefined for a switch. */
function shownDefault(row: ServeOption<unknown>): { values: string[] } | { words: string } | undefined {
  if (row.kind === "switch") return undefined;
  if (row.default === undefined) return { words: row.unset ?? "none" };
  return { values: Array.isArray(row.default) ? row.default.map(String) : [String(row.default)] };
}

const HELP_COLUMN = 25;

/** The option lines of `rolecall serve --help`, environment variables in brackets. */
export function serveOptionsHelp(): string {
  const lines = SERVE_OPTION_ROWS.map(([, row]) => {
    const env = row.env ? ` [${row.env}${row.envFormat ? `, ${row.envFormat}` : ""}]` : "";
    const shown = shownDefault(row);
    const fallback = !shown
      ? ""
      : "values" in shown
        ? ` (default ${shown.values.join(",")})`
        : ` (default: ${shown.words})`;
    const description = `${row.help}${env}${fallback}`;
    // A usage too long for the column gets its description on the next line.
    return row.usage.length < HELP_COLUMN - 1
      ? `  ${row.usage.padEnd(HELP_COLUMN)}${description}`
      : `  ${row.usage}\n  ${" ".repeat(HELP_COLUMN)}${description}`;
  });
  return `${lines.join("\n")}\n  ${"-h, --help".padEnd(HELP_COLUMN)}this help\n`;
}

/** Text in a Markdown table cell: pipes and tag-like brackets escaped. */
function cell(text: string): string {
  return text.replace(/[|<]/g, (c) => `\\${c}`);
}

/** The README's Configuration table, in GitHub Markdown. */
export function serveOptionsMarkdown(): string {
  const rows = SERVE_OPTION_ROWS.map(([, row]) => {
    const shown = shownDefault(row);
    const fallback = !shown
      ? "off"
      : "values" in shown
        ? shown.values.map((v) => `\`${v}\``).join(", ")
        : cell(shown.words);
    const env = row.env ? `\`${row.env}\`${row.envFormat ? ` (${row.envFormat})` : ""}` : "";
    const meaning = row.details ? `${row.help}; ${row.details}` : row.help;
    return `| \`${row.usage}\` | ${env} | ${fallback} | ${cell(row.accepts)} | ${cell(meaning)} |`;
  });
  return ["| flag | variable | default | accepts | meaning |", "|---|---|---|---|---|", ...rows].join("\n");
}

/** The README with its Configuration table replaced by the rendered one; throws if the markers are missing. */
export function withServeOptionsTable(readme: string): string {
  const start = readme.indexOf(README_MARKERS.start);
  const end = readme.indexOf(README_MARKERS.end);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${README_MARKERS.start} ... ${README_MARKERS.end} section`);
  }
  return `${readme.slice(0, start + README_MARKERS.start.length)}\n${serveOptionsMarkdown()}\n${readme.slice(end)}`;
}
