/**
 * What a tenant's own system costs (a script, not a vitest test):
 * `npx tsx test/bench/custom-systems.bench.ts`. Prints, as medians of 5 rounds on one snapshot,
 * the warm check of a vendor-only tenant and of a tenant with the example app, and the compile of
 * each tenant (the custom catalog is memoised, so a recompile on each write does not rebuild it).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadCatalog } from "../../catalog/loader.js";
import { compileSnapshot } from "../../sidecar/src/policy/compiler.js";
import { createPolicyEngine } from "../../sidecar/src/policy/policy-engine.js";
import type { RoleRecord, TenantPolicy } from "../../sidecar/src/policy/policy-source.js";

const ROOT = join(import.meta.dirname, "..", "..");
const catalog = loadCatalog(join(ROOT, "catalog", "data"));
const example = readFileSync(join(ROOT, "examples", "systems", "agent-desktop.json"), "utf8");
const CHECKS = 2_000_000;
const ROUNDS = 5;

const role = (id: string, grants: string[]): RoleRecord => ({
  id,
  name: id,
  kind: "custom",
  basedOn: null,
  defaultOf: null,
  grants,
  licenseIds: [],
});
const users = Array.from({ length: 1_000 }, (_, i) => ({
  id: `u${i}`,
  displayName: `u${i}`,
  active: true,
  roleIds: [i % 2 === 0 ? "agents" : "leads"],
}));
const tenant = (id: string, own: boolean): TenantPolicy => ({
  id,
  name: id,
  systems: ["cxengage", ...(own ? ["agent-desktop"] : [])],
  licenseSeats: new Map(),
  roles: [
    role("agents", ["cxengage/CONTACTS_READ", "cxengage/NOTES_READ_SELF"]),
    role("leads", ["cxengage/NOTES_READ_ALL"]),
  ],
  users,
  ...(own ? { customSystems: [{ id: "agent-desktop", document: example }] } : {}),
});
const source = (tenants: TenantPolicy[]) => ({ databaseId: "bench", revision: 1, catalog, tenants });

const engine = createPolicyEngine({
  snapshot: compileSnapshot(source([tenant("plain", false), tenant("own", true)])),
});
let sink = 0;
function nsPerCheck(tenantId: string): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CHECKS; i++) {
    if (engine.check(tenantId, `u${i % 1_000}`, { permission: "cxengage/NOTES_READ_SELF" }).allowed) sink++;
  }
  return Number(process.hrtime.bigint() - started) / CHECKS;
}
function msPerCompile(t: TenantPolicy): number {
  const started = performance.now();
  for (let i = 0; i < 20; i++) compileSnapshot(source([t]));
  return (performance.now() - started) / 20;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const plain: number[] = [];
const own: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  plain.push(nsPerCheck("plain"));
  own.push(nsPerCheck("own"));
}
console.log("| measure | vendor-only tenant | tenant with its own system | ratio |");
console.log("|---|---:|---:|---:|");
const [p, o] = [median(plain), median(own)];
console.log(`| warm check, ns | ${p.toFixed(0)} | ${o.toFixed(0)} | ${(o / p).toFixed(2)} |`);
const [cp, co] = [msPerCompile(tenant("plain", false)), msPerCompile(tenant("own", true))];
console.log(`| compile, 1,000 users, ms | ${cp.toFixed(1)} | ${co.toFixed(1)} | ${(co / cp).toFixed(2)} |`);
if (sink < 0) console.log(sink);
