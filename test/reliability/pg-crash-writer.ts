/**
 * A writer on a PostgreSQL primary, to be killed (test/reliability/fleet-faults.test.ts), run
 * bundled (test/support/child-script.ts):
 *   pg-crash-writer.ts <url> <tenant> <role> <keys,comma,separated> <stepMs>
 * Forever toggles a block of K permissions on a role through PolicyAdmin over PgPolicyStore: ONE
 * transaction holding K admin writes (a grant, or a revoke, of one key each — each a savepoint
 * that bumps the revision and writes its change-log and audit rows), with a pause after each.
 * Only the last of its K revisions is ever a committed whole; a SIGKILL lands mid-transaction
 * most of the time, and the server rolls it all back. Prints `commit <revision> <on|off>` after
 * each commit, synchronously (a pipe write), so a printed line is in the parent's pipe before
 * any kill.
 */
import { writeSync } from "node:fs";
import { loadCatalog } from "../../catalog/loader.js";
import { createPolicyAdmin } from "../../sidecar/src/admin/policy-admin.js";
import type { Principal } from "../../sidecar/src/admin/principal.js";
import { openPgStore } from "../../sidecar/src/store/pg/pg-policy-store.js";

const [url, tenantId, roleId, keyList, stepMsRaw] = process.argv.slice(2);
if (
  url === undefined ||
  tenantId === undefined ||
  roleId === undefined ||
  keyList === undefined ||
  stepMsRaw === undefined
) {
  throw new Error("usage: pg-crash-writer.ts <url> <tenant> <role> <keys> <stepMs>");
}
const keys = keyList.split(",");
const stepMs = Number(stepMsRaw);
const BOOTSTRAP: Principal = { kind: "bootstrap" };
const say = (line: string) => writeSync(1, `${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const store = await openPgStore(url, { maxConnections: 1 });
const admin = createPolicyAdmin(store, loadCatalog());
const heldCount = () =>
  store.readSql(
    async (query) =>
      (
        await query<{ n: number }>(
          "SELECT count(*)::int AS n FROM role_grants WHERE tenant_id = $1 AND role_id = $2 AND permission_key = ANY($3)",
          [tenantId, roleId, keys],
        )
      ).rows[0]?.n ?? 0,
  );

say("ready");
for (let i = 0; i < 100_000; i++) {
  const on = (await heldCount()) === 0;
  const revision = await store.write(async () => {
    let last = 0;
    for (const key of keys) {
      const change = { tenantId, roleId, permissions: [key] };
      last = on
        ? (await admin.grantPermissions(BOOTSTRAP, change)).revision
        : (await admin.revokePermissions(BOOTSTRAP, { ...change, cascade: false })).revision;
      await sleep(stepMs);
    }
    return last;
  });
  say(`commit ${revision} ${on ? "on" : "off"}`);
}
