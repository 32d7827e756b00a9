/**
 * The deployment examples in deploy/ are not built or applied in CI (no container runtime,
 * cluster or systemd here). What can rot is checked instead: every `rolecall serve` flag and
 * environment variable they use must exist in `rolecall serve --help`, and the readiness probe
 * they run must tell a serving sidecar on a unix socket from a missing one.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT, rolecall } from "../support/cli.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const DEPLOY = join(ROOT, "deploy");
const read = (path: string) => readFileSync(join(DEPLOY, path), "utf8");

/** The flags and the variables a file hands to `rolecall serve`. */
interface Uses {
  readonly flags: string[];
  readonly variables: string[];
}

const flagsIn = (text: string) => [...text.matchAll(/(?<![\w-])(--[a-z][a-z-]*)/g)].map((m) => m[1]!);
const ours = (name: string) => /^(ROLECALL|OTEL)_/.test(name);

function containerfileUses(): Uses {
  const text = read("Containerfile");
  const entry = [...text.matchAll(/^(?:ENTRYPOINT|CMD) (.*)$/gm)].map((m) => m[1]!).join(" ");
  const env = text.slice(text.lastIndexOf("\nENV "), text.indexOf("\nVOLUME"));
  return { flags: flagsIn(entry), variables: [...env.matchAll(/\b([A-Z][A-Z0-9_]+)=/g)].map((m) => m[1]!) };
}

function podUses(): Uses {
  const pod = parse(read("kubernetes/pod.yaml")) as {
    spec: { containers: { name: string; args?: string[]; env?: { name: string }[] }[] };
  };
  const sidecar = pod.spec.containers.find((c) => c.name === "rolecall");
  if (!sidecar) throw new Error("pod.yaml has no container named rolecall");
  return {
    flags: (sidecar.args ?? []).filter((a) => a.startsWith("--")).map((a) => a.split("=")[0]!),
    variables: (sidecar.env ?? []).map((e) => e.name),
  };
}

function systemdUses(): Uses {
  const unit = read("systemd/rolecall.service");
  const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "";
  const fromUnit = [...unit.matchAll(/^Environment=([A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  const fromFile = [...read("systemd/rolecall.env.example").matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  return { flags: flagsIn(exec.slice(exec.indexOf(" serve"))), variables: [...fromUnit, ...fromFile] };
}

function runProbe(args: readonly string[]): Promise<number | null> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(DEPLOY, "grpc-health-probe.mjs"), ...args], { timeout: 10_000 }, (err) =>
      resolve(err ? (typeof err.code === "number" ? err.code : null) : 0),
    );
  });
}

describe("deploy/", () => {
  let help = "";
  beforeAll(async () => {
    const result = await rolecall(["serve", "--help"]);
    expect(result.code).toBe(0);
    help = result.stdout;
  });

  const files: [string, () => Uses][] = [
    ["Containerfile", containerfileUses],
    ["kubernetes/pod.yaml", podUses],
    ["systemd/rolecall.service", systemdUses],
  ];
  for (const [file, uses] of files) {
    it(`${file} uses only flags and variables that rolecall serve --help lists`, () => {
      const { flags, variables } = uses();
      const helpFlags = new Set(flagsIn(help));
      const helpVariables = new Set([...help.matchAll(/\[([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
      expect(flags.length + variables.length).toBeGreaterThan(0);
      expect(flags.filter((f) => !helpFlags.has(f))).toEqual([]);
      // The app container's own variables are not rolecall's business; every ROLECALL_/OTEL_ one is.
      expect(variables.filter((v) => ours(v) && !helpVariables.has(v))).toEqual([]);
      expect(variables.filter((v) => !ours(v))).toEqual([]);
    });
  }

  describe("grpc-health-probe.mjs", () => {
    let sidecar: SidecarProcess;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "rolecall-probe-"));
      sidecar = await startSidecarProcess({ args: ["--grpc-addr", `unix:${join(dir, "rolecall.sock")}`] });
    });
    afterAll(async () => {
      await sidecar?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("exits 0 for a serving sidecar on a unix socket, also per service", async () => {
      expect(await runProbe([`unix:${join(dir, "rolecall.sock")}`])).toBe(0);
      expect(await runProbe([`unix:${join(dir, "rolecall.sock")}`, "rolecall.v1.PolicyService"])).toBe(0);
    });

    it("exits 1 when nothing listens or the service is unknown, 2 without an address", async () => {
      expect(await runProbe([`unix:${join(dir, "absent.sock")}`])).toBe(1);
      expect(await runProbe([`unix:${join(dir, "rolecall.sock")}`, "no.such.Service"])).toBe(1);
      expect(await runProbe([])).toBe(2);
    });
  });
});
