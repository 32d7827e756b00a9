// Bundles the MV3 extension into extension/dist/: the service worker as an ES module, the
// content script as an IIFE (content scripts cannot be modules), the popup and options pages,
// plus the manifest, HTML and CSS copied as they are.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const STATIC_FILES = ["manifest.json", "popup.html", "options.html", "pages.css"];

/** Builds extension/dist/ from extension/src/; resolves when every file is written. */
export async function buildExtension() {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const common = {
    bundle: true,
    platform: "browser",
    target: "chrome116",
    minify: true,
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
  };
  await Promise.all([
    build({
      ...common,
      entryPoints: {
        background: join(here, "src/background.ts"),
        popup: join(here, "src/popup.ts"),
        options: join(here, "src/options.ts"),
      },
      outdir: dist,
      format: "esm",
    }),
    build({
      ...common,
      entryPoints: { content: join(here, "src/content/main.ts") },
      outdir: dist,
      format: "iife",
    }),
  ]);
  for (const file of STATIC_FILES) copyFileSync(join(here, file), join(dist, file));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildExtension();
