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
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: true,
  // No comments or layout: V8 keeps each module's source in memory for as long as it runs, and
  // one comment with a non-ASCII character doubles that string's size. Names stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
};
await build({
  ...common,
  entryPoints: { rolecall: join(root, "sidecar/src/cli/main.ts") },
  outdir: join(root, "dist"),
  format: "esm",
  // Each command's modules in chunks of their own: `rolecall check` loads no server code.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
});
// The worker threads load a file, not a function: each is one CommonJS file of its own. A worker
// that loads ES modules brings up its own ESM loader too, ~1.5 MB of resident memory for the
// sidecar's store reader, which lives as long as the sidecar.
await build({
  ...common,
  entryPoints: {
    "store-reader-worker": join(root, "sidecar/src/sync/store-reader-worker.ts"),
    "cold-copy-worker": join(root, "sidecar/src/fleet/cold-copy-worker.ts"),
  },
  outdir: join(root, "dist"),
  outExtension: { ".js": ".cjs" },
  format: "cjs",
});

const extensionBuild = join(root, "extension/build.js");
if (!sidecarOnly && existsSync(extensionBuild)) {
  const { buildExtension } = await import(extensionBuild);
  await buildExtension();
}
