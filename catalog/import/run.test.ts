import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SYSTEM_IDS } from "../schema.js";
import { checkSeeds, DEFAULT_SEEDS_DIR, type ImportRunOptions, runImport } from "./run.js";

const dataDir = new URL("../data/", import.meta.url);
// The vendors' documents are not in the repository: the check against them runs only where they are.
const seedsPresent = await checkSeeds(DEFAULT_SEEDS_DIR, SYSTEM_IDS).then(
  () => true,
  () => false,
);

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "rolecall-import-"));
  temps.push(dir);
  return dir;
}

/** Runs the command line with output captured and system files written to a fresh folder. */
async function run(argv: readonly string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const written = tempDir();
  const options: ImportRunOptions = {
    dataDir: written,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  };
  const code = await runImport(argv, options);
  return { code, out: out.join("\n"), err: err.join("\n"), written: readdirSync(written) };
}

describe("import-catalog command line", () => {
  it("explains --seeds and its default on --help", async () => {
    const { code, out, written } = await run(["--help"]);
    expect(code).toBe(0);
    expect(out).toMatch(/--seeds DIR/);
    expect(out).toMatch(/default \.\.\/shared\/seeds/);
    expect(written).toEqual([]);
  });

  it("rejects an unknown system or option as misuse", async () => {
    const system = await run(["calabrio"]);
    expect(system.code).toBe(2);
    expect(system.err).toMatch(/unknown system 'calabrio'; expected one of calabrio-one,/);
    const option = await run(["--seed", "x"]);
    expect(option.code).toBe(2);
    expect(option.err).toMatch(/--seed/);
  });

  it("names a missing seeds folder and writes nothing", async () => {
    const missing = join(tempDir(), "no-such-folder");
    const { code, err, written } = await run(["--seeds", missing]);
    expect(code).toBe(1);
    expect(err).toContain(`seeds folder not found: ${missing}`);
    expect(err).toContain("--seeds DIR");
    expect(written).toEqual([]);
  });

  it("names every seed document missing from the folder and writes nothing", async () => {
    const seeds = tempDir();
    const { code, err, written } = await run(["--seeds", seeds, "cxengage", "iadvize"]);
    expect(code).toBe(1);
    expect(err).toContain(`seed documents not found in ${seeds}`);
    expect(err).toContain(`cxengage: ${join(seeds, "cxengage-skylight-permissions.txt")}`);
    expect(err).toContain(`iadvize: ${join(seeds, "iadvize-custom-roles.txt")}`);
    expect(written).toEqual([]);
  });

  it.skipIf(!seedsPresent)(
    "reproduces every committed catalog/data file from the seeds, byte for byte",
    async () => {
      const dir = tempDir();
      const code = await runImport(["--seeds", DEFAULT_SEEDS_DIR], { dataDir: dir, out: () => {} });
      expect(code).toBe(0);
      for (const system of SYSTEM_IDS) {
        const committed = readFileSync(new URL(`${system}.json`, dataDir), "utf8");
        expect(readFileSync(join(dir, `${system}.json`), "utf8"), system).toBe(committed);
      }
    },
  );
});
