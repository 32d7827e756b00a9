/**
 * How the suites start their TypeScript child processes (crash writers, the fleet's check-load):
 * bundled once per test process with esbuild into `dist/test-children/`, then run by plain
 * `node`. `node --import tsx` costs about a second of start-up per child (0.4 s of CPU) where the
 * bundle starts in a quarter of that, and the crash suites start one child per kill. The bundle
 * is the same code (esbuild is also what tsx transpiles with); packages stay external, resolved
 * from the project's node_modules like the sidecar's own bundle in `dist/`. The folder is two
 * levels below the root, as test/support/ and test/reliability/ are, so a helper's paths relative
 * to `import.meta.dirname` (clients.ts: `../../proto`) still hold; the catalog and the package
 * root are found by walking up.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { buildSync } from "esbuild";

const ROOT = join(import.meta.dirname, "..", "..");
const OUT_DIR = join(ROOT, "dist", "test-children");
const built = new Map<string, string>();

/**
 * The argv (after `node`) that runs the TypeScript file `script`: `[bundle.mjs]`. Built on the
 * first call in this process, so a run never uses a bundle of older sources.
 */
export function childScriptArgs(script: string): string[] {
  let bundle = built.get(script);
  if (bundle === undefined) {
    const result = buildSync({
      entryPoints: [script],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      write: false,
      logLevel: "warning",
    });
    const text = result.outputFiles[0]!.text;
    bundle = join(OUT_DIR, `${basename(script, ".ts")}.mjs`);
    mkdirSync(OUT_DIR, { recursive: true });
    // Written aside and renamed: two test files building it at once never see half a file.
    const partial = `${bundle}.${process.pid}.tmp`;
    writeFileSync(partial, text);
    renameSync(partial, bundle);
    built.set(script, bundle);
  }
  return [bundle];
}
