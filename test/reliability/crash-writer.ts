/**
 * A writer to be killed (test/reliability/writer-crash.test.ts), run bundled (test/support/child-script.ts):
 *   crash-writer.ts <store> <tenant> <role> <keys,comma,separated> <stepMs>
 * where <store> is a SQLite file or a PostgreSQL primary's `postgresql://` URL.
 * Forever toggles a block of K permissions on a role: ONE transaction adding (or removing) the K
 * grant rows one statement at a time with a pause after each, then committing the way every
 * admin write does (revision bump, change-log and audit rows; on PostgreSQL the notification).
 * A SIGKILL therefore lands mid-transaction most of the time — on PostgreSQL with the
 * transaction open on the server, which must roll it back when the client's connection drops.
 * Prints `commit <revision> <on|off>` after each commit, synchronously (a pipe write on Linux),
 * so a printed line is in the parent's pipe before any kill.
 *
 * The store's transaction interface rather than PolicyAdmin: this keeps the child light (no
 * catalog to load before each of hundreds of kills) while writing exactly the rows an admin
 * grant/revoke writes, through the same code on both backends.
 */
import { writeSync } from "node:fs";
import { openDatabase } from "../../sidecar/src/store/database.js";
import type { PolicyStore } from "../../sidecar/src/store/policy-store.js";
import { sqliteStore } from "../../sidecar/src/store/sqlite-policy-store.js";

const [location, tenantId, roleId, keyList, stepMsRaw] = process.argv.slice(2);
if (
  location === undefined ||
  tenantId === undefined ||
  roleId === undefined ||
  keyList === undefined ||
  stepMsRaw === undefined
) {
  throw new Error("usage: crash-writer.ts <db path | postgresql:// URL> <tenant> <role> <keys> <stepMs>");
}
const keys = keyList.split(",");
const stepMs = Number(stepMsRaw);
const say = (line: string) => writeSync(1, `${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Loaded only for PostgreSQL: each of the SQLite suite's many children starts without `pg`.
const store: PolicyStore = location.startsWith("postgresql://")
  ? await (await import("../../sidecar/src/store/pg/pg-policy-store.js")).openPgStore(location, {
      maxConnections: 1,
    })
  : sqliteStore(openDatabase(location));

const held = () =>
  store.read(async (tx) => (await tx.grants(tenantId, roleId)).filter((k) => keys.includes(k)).length);

say(`ready ${await store.read(async (tx) => tx.revision())}`);
for (let i = 0; i < 100_000; i++) {
  const on = (await held()) === 0;
  const operation = on ? "GrantPermissions" : "RevokePermissions";
  const revision = await store.write(async (tx) => {
    for (const key of keys) {
      await (on ? tx.addGrants(tenantId, roleId, [key]) : tx.removeGrants(tenantId, roleId, [key]));
      // Holds the transaction open (SQLite: the file's write lock; PostgreSQL: the meta row).
      await sleep(stepMs);
    }
    return tx.commit({
      tenantId,
      operation,
      detail: { operation, keys },
      time: new Date().toISOString(),
      actor: "crash-writer",
      before: null,
      after: { roleId, keys, granted: on },
    });
  });
  say(`commit ${revision} ${on ? "on" : "off"}`);
}
