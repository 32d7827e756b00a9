#!/usr/bin/env node
// Fails when gen/ is out of date with proto/: regenerates into a temporary folder with the same
// buf.gen.yaml and compares file by file. Fix with `npm run generate`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = mkdtempSync(join(tmpdir(), "rolecall-gen-"));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

try {
  execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--output", out], {
    cwd: root,
    stdio: "inherit",
  });
  const fresh = new Map(
    files(join(out, "gen")).map((f) => [relative(join(out, "gen"), f), readFileSync(f, "utf8")]),
  );
  const committed = new Map(
    files(join(root, "gen")).map((f) => [relative(join(root, "gen"), f), readFileSync(f, "utf8")]),
  );
  const stale = [...new Set([...fresh.keys(), ...committed.keys()])].filter(
    (f) => fresh.get(f) !== committed.get(f),
  );
  if (stale.length > 0) {
    console.error(
      `gen/ is out of date with proto/ (${stale.join(", ")}); run \`npm run generate\` and commit.`,
    );
    process.exitCode = 1;
  } else {
    console.log(`gen/ is up to date (${fresh.size} files).`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
