#!/usr/bin/env node
// Bundles the sidecar (dist/rolecall.js) and, unless --sidecar is given, the browser extension
// (extension/dist/). esbuild takes well under a second, so `npm start` can rebuild every time.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sidecarOnly = process.argv.includes("--sidecar");

await build({
  // The sync worker is its own entry: a worker thread loads a file, not a function.
  entryPoints: {
    rolecall: join(root, "sidecar/src/cli/main.ts"),
    "store-reader-worker": join(root, "sidecar/src/sync/store-reader-worker.ts"),
  },
  outdir: join(root, "dist"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});

const extensionBuild = join(root, "extension/build.js");
if (!sidecarOnly && existsSync(extensionBuild)) {
  const { buildExtension } = await import(extensionBuild);
  await buildExtension();
}
