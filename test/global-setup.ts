/**
 * Builds the sidecar bundle and the browser extension once before the suites, so `npx vitest`
 * alone tests what `npm start` runs. The extension is built here rather than by each browser
 * suite: two workers run files side by side, and a rebuild empties `extension/dist/` under a
 * Chromium another suite is driving.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** `extension/dist/` is fresh from this run's global setup: the browser harness need not rebuild it. */
    extensionBuilt: boolean;
  }
}

/** vitest global setup. */
export default function setup(project: TestProject): void {
  execFileSync(process.execPath, [join(import.meta.dirname, "..", "scripts/build.js")], {
    stdio: "inherit",
  });
  project.provide("extensionBuilt", true);
}
