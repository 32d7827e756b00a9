#!/usr/bin/env node
// The `rolecall` command. The bundle is built by `npm install` (prepare) and `npm run build`.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/rolecall.js", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("rolecall: dist/rolecall.js is missing; run `npm run build` first.\n");
  process.exit(1);
}
await import(bundle.href);
