/**
 * Rewrites the Configuration table in README.md from the option table
 * (sidecar/src/serve-options.ts). Run with `npm run docs:serve-options`; a unit test fails while
 * the README and the table disagree.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withServeOptionsTable } from "../sidecar/src/serve-option-docs.js";

const readmePath = join(import.meta.dirname, "..", "README.md");
const readme = readFileSync(readmePath, "utf8");
const updated = withServeOptionsTable(readme);
if (updated === readme) {
  console.log("README.md: the serve options table is up to date.");
} else {
  writeFileSync(readmePath, updated);
  console.log("README.md: the serve options table was rewritten from sidecar/src/serve-options.ts.");
}
