/**
 * A writer for the two-process test, run as a child process (`node --import tsx`): alternately
 * grants and revokes every plain MaxContact permission of one role, one admin write each.
 * Usage: writer-process.ts <db path> <tenant id> <role id> <writes>
 */
import { createPolicyAdmin } from "../../../sidecar/src/admin/policy-admin.js";
import { openDatabase } from "../../../sidecar/src/store/database.js";
import { sqliteStore } from "../../../sidecar/src/store/sqlite-policy-store.js";
import { PLAIN_PERMISSION_COUNT, testCatalog } from "./test-catalog.js";

const [path, tenantId, roleId, writes] = process.argv.slice(2);
if (path === undefined || tenantId === undefined || roleId === undefined || writes === undefined) {
  throw new Error("usage: writer-process.ts <db path> <tenant id> <role id> <writes>");
}
const catalog = testCatalog();
const db = openDatabase(path);
const admin = createPolicyAdmin(sqliteStore(db), catalog);
const permissions = Array.from({ length: PLAIN_PERMISSION_COUNT }, (_, i) => `maxcontact/campaign-${i}`);
for (let k = 1; k <= Number(writes); k++) {
  if (k % 2 === 1) await admin.grantPermissions({ kind: "bootstrap" }, { tenantId, roleId, permissions });
  else await admin.revokePermissions({ kind: "bootstrap" }, { tenantId, roleId, permissions });
}
db.close();
