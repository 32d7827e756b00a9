/** Builds the sidecar bundle once before the suites, so `npx vitest` alone tests what `npm start` runs. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** vitest global setup. */
export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, "..", "scripts/build.js"), "--sidecar"], {
    stdio: "inherit",
  });
}
