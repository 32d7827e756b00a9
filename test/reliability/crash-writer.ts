/**
 * A writer to be killed (test/reliability/writer-crash.test.ts), run with `node --import tsx`:
 *   crash-writer.ts <db> <tenant> <role> <keys,comma,separated> <stepMs>
 * Forever toggles a block of K permissions on a role: ONE transaction inserting (or deleting)
 * all K grant rows one statement at a time with a pause after each, then bumping the revision and
 * logging the change the way every admin write does. A SIGKILL therefore lands mid-transaction
 * most of the time. Prints `commit <revision> <on|off>` after each commit, synchronously (a pipe
 * write on Linux), so a printed line is in the parent's pipe before any kill.
 *
 * Raw statements rather than PolicyAdmin: this keeps the child light (no catalog to load before
 * each of hundreds of kills) while writing exactly the rows an admin grant/revoke writes.
 */
import { writeSync } from "node:fs";
import { openDatabase } from "../../sidecar/src/store/database.js";
import { appendChange, bumpRevision, readRevision } from "../../sidecar/src/store/revision.js";

const [path, tenantId, roleId, keyList, stepMsRaw] = process.argv.slice(2);
if (
  path === undefined ||
  tenantId === undefined ||
  roleId === undefined ||
  keyList === undefined ||
  stepMsRaw === undefined
) {
  throw new Error("usage: crash-writer.ts <db> <tenant> <role> <keys> <stepMs>");
}
const keys = keyList.split(",");
const stepMs = Number(stepMsRaw);
const say = (line: string) => writeSync(1, `${line}\n`);
/** Blocks the thread: the point is to hold the transaction open. */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const db = openDatabase(path);
const count = db
  .prepare("SELECT COUNT(*) FROM role_grants WHERE tenant_id = ? AND role_id = ?")
  .pluck() as unknown as { get(t: string, r: string): number };
const insert = db.prepare("INSERT INTO role_grants (tenant_id, role_id, permission_key) VALUES (?, ?, ?)");
const remove = db.prepare(
  "DELETE FROM role_grants WHERE tenant_id = ? AND role_id = ? AND permission_key = ?",
);

const toggle = db.transaction((on: boolean) => {
  for (const key of keys) {
    (on ? insert : remove).run(tenantId, roleId, key);
    pause(stepMs);
  }
  const revision = bumpRevision(db);
  appendChange(db, revision, tenantId, on ? "GrantPermissions" : "RevokePermissions", { keys });
});

say(`ready ${readRevision(db)}`);
for (let i = 0; i < 100_000; i++) {
  const on = count.get(tenantId, roleId) === 0;
  toggle.immediate(on);
  say(`commit ${readRevision(db)} ${on ? "on" : "off"}`);
}
