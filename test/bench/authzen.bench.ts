/**
 * AuthZEN benchmark (a script, not a vitest test): `npx tsx test/bench/authzen.bench.ts [--calls N]`.
 * Serial latency on one real sidecar (demo database, a service token) of the same questions asked
 * the standard way and rolecall's own way, with the same HTTP client (fetch, keep-alive):
 *
 * 1. `POST /access/v1/evaluation` vs Connect JSON `CheckPermission` (dave, CONTACTS_UPDATE);
 * 2. a 100-item `POST /access/v1/evaluations` vs a 100-item Connect JSON `CheckPermissions`.
 *
 * Calls alternate in blocks of 50 between the two ways, so a busy shared machine slows both
 * alike; the ratios (AuthZEN / Connect) are what to compare. The sidecar is killed by PID at the end.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { startSidecarProcess } from "../support/sidecar-process.js";

const ROOT = join(import.meta.dirname, "..", "..");
const calls = Number(process.argv[process.argv.indexOf("--calls") + 1] || 2000);

const DAVE = { type: "user", id: "dave" };
const RESOURCE = { type: "contact", id: "c-1" };
const names = Array.from({ length: 100 }, (_, i) => (i % 2 ? "CONTACTS_READ" : "CONTACTS_UPDATE"));
const PAIRS = [
  {
    label: "one decision",
    authzen: [
      "/access/v1/evaluation",
      { subject: DAVE, action: { name: "cxengage/CONTACTS_UPDATE" }, resource: RESOURCE },
    ],
    connect: [
      "/rolecall.v1.PolicyService/CheckPermission",
      { tenantId: "demo", userId: "dave", permission: "cxengage/CONTACTS_UPDATE" },
    ],
  },
  {
    label: "100 decisions",
    authzen: [
      "/access/v1/evaluations",
      { subject: DAVE, resource: RESOURCE, evaluations: names.map((name) => ({ action: { name } })) },
    ],
    connect: [
      "/rolecall.v1.PolicyService/CheckPermissions",
      { tenantId: "demo", userId: "dave", items: names.map((n) => ({ permission: `cxengage/${n}` })) },
    ],
  },
] as const;

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;

async function main() {
  const sidecar = await startSidecarProcess();
  try {
    const token = execFileSync(
      process.execPath,
      [
        join(ROOT, "bin/rolecall.js"),
        "token",
        "create",
        "--db",
        sidecar.dbPath,
        "--tenant",
        "demo",
        "--service",
        "bench",
      ],
      { encoding: "utf8" },
    ).split("\n")[0]!;
    const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
    const call = async (path: string, body: string) => {
      const started = performance.now();
      const res = await fetch(`${sidecar.httpUrl}${path}`, { method: "POST", headers, body });
      await res.text();
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
      return performance.now() - started;
    };
    // The token reaches the sidecar with its next poll.
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${sidecar.httpUrl}${PAIRS[0].authzen[0]}`, {
        method: "POST",
        headers,
        body: JSON.stringify(PAIRS[0].authzen[1]),
      });
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const pair of PAIRS) {
      const times = { authzen: [] as number[], connect: [] as number[] };
      const bodies = { authzen: JSON.stringify(pair.authzen[1]), connect: JSON.stringify(pair.connect[1]) };
      for (let done = 0; done < calls; done += 50) {
        for (const way of ["authzen", "connect"] as const) {
          for (let i = 0; i < 50; i++) times[way].push(await call(pair[way][0], bodies[way]));
        }
      }
      const a = times.authzen.sort((x, y) => x - y);
      const c = times.connect.sort((x, y) => x - y);
      const fmt = (s: number[]) =>
        `p50 ${quantile(s, 0.5).toFixed(3)} ms, p99 ${quantile(s, 0.99).toFixed(3)} ms`;
      console.log(
        `${pair.label}: AuthZEN ${fmt(a)}; Connect ${fmt(c)}; ratio p50 ${(quantile(a, 0.5) / quantile(c, 0.5)).toFixed(2)}, p99 ${(quantile(a, 0.99) / quantile(c, 0.99)).toFixed(2)}`,
      );
    }
  } finally {
    await sidecar.stop();
  }
}

await main();
