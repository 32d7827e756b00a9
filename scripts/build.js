#!/usr/bin/env node
// Bundles the sidecar (dist/rolecall.js) and, unless --sidecar is given, the browser extension
// (extension/dist/). esbuild takes well under a second, so `npm start` can rebuild every time.
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sidecarOnly = process.argv.includes("--sidecar");

// Chunk names carry a content hash: drop the last build's so they do not pile up.
rmSync(join(root, "dist", "chunks"), { recursive: true, force: true });
await build({
  // The sync worker is its own entry: a worker thread loads a file, not a function.
  entryPoints: {
    rolecall: join(root, "sidecar/src/cli/main.ts"),
    "store-reader-worker": join(root, "sidecar/src/sync/store-reader-worker.ts"),
    "cold-copy-worker": join(root, "sidecar/src/fleet/cold-copy-worker.ts"),
  },
  outdir: join(root, "dist"),
  bundle: true,
  platform: "node",
  format: "esm",
  // Each command's modules in chunks of their own: `rolecall check` loads no server code.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
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
