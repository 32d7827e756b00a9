/**
 * The access analyzer on a real sidecar (issue 15): CompareUsers and SimulateChanges over
 * Connect, as the extension and an admin's tools call them, and `rolecall compare` / `what-if`.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyService, Reason } from "../../gen/rolecall/v1/policy_pb.js";
import { connectClient } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const ROOT = join(import.meta.dirname, "..", "..");

describe("the access analyzer", () => {
  let sidecar: SidecarProcess;
  let carolToken: string;
  let bobToken: string;

  const cli = (...args: string[]): string =>
    execFileSync(process.execPath, [join(ROOT, "bin/rolecall.js"), ...args, "--db", sidecar.dbPath], {
      encoding: "utf8",
      timeout: 20_000,
    });

  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    const token = (user: string) =>
      (JSON.parse(cli("token", "create", "--tenant", "demo", "--user", user, "--json")) as { token: string })
        .token;
    carolToken = token("carol");
    bobToken = token("bob");
    await new Promise((r) => setTimeout(r, 200)); // the sync watcher reads new tokens
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  it("CompareUsers: how does dave differ from alice?", async () => {
    const client = connectClient(PolicyService, sidecar.httpUrl, { token: carolToken });
    const out = await client.compareUsers({
      tenantId: "demo",
      userId: "dave",
      otherUserId: "alice",
      system: "cxengage",
    });
    expect(out.permissions.map((p) => p.permission)).toEqual(["cxengage/CONTACTS_UPDATE"]);
    expect(out.permissions[0]!.user).toMatchObject({ allowed: false, reason: Reason.NOT_GRANTED });
    expect(out.permissions[0]!.other).toMatchObject({ allowed: true, grantedByRoleIds: ["cxengage.agent"] });
    expect(out.surfaces.map((s) => s.surfaceId)).toEqual(["cxengage/contact-management-panel"]);
    // Reading two users is reading others: dave's own token may not.
    const refused = await connectClient(PolicyService, sidecar.httpUrl, { token: bobToken })
      .compareUsers({ tenantId: "demo", userId: "dave", otherUserId: "alice" })
      .catch((e: unknown) => e);
    expect(ConnectError.from(refused).code).toBe(Code.PermissionDenied);
  });

  it("SimulateChanges: what if we give dave's role CONTACTS_UPDATE? Nothing is committed", async () => {
    const client = connectClient(PolicyService, sidecar.httpUrl, { token: carolToken });
    const before = await client.checkPermission({
      tenantId: "demo",
      userId: "dave",
      permission: "cxengage/CONTACTS_UPDATE",
    });
    const out = await client.simulateChanges({
      tenantId: "demo",
      changes: [
        {
          change: {
            case: "grantPermissions",
            value: { tenantId: "demo", roleId: "custom-agent", permissions: ["cxengage/CONTACTS_UPDATE"] },
          },
        },
      ],
    });
    expect(out.changes).toMatchObject([{ operation: "GrantPermissions", applied: true, usersGaining: 1 }]);
    expect(out.users).toMatchObject([
      {
        userId: "dave",
        permissionsGained: ["cxengage/CONTACTS_UPDATE"],
        surfacesGained: ["cxengage/contact-management-panel"],
      },
    ]);
    expect(out.revision).toBe(before.revision);
    const after = await client.checkPermission({
      tenantId: "demo",
      userId: "dave",
      permission: "cxengage/CONTACTS_UPDATE",
    });
    expect(after).toMatchObject({ allowed: false, revision: before.revision });
    // The same rights as the writes: bob, a supervisor, may not.
    const refused = await connectClient(PolicyService, sidecar.httpUrl, { token: bobToken })
      .simulateChanges({ tenantId: "demo", changes: [] })
      .catch((e: unknown) => e);
    expect(ConnectError.from(refused).code).toBe(Code.PermissionDenied);
  });

  it("rolecall compare and what-if answer the same on the store file", () => {
    const compared = JSON.parse(
      cli("compare", "demo", "dave", "alice", "--system", "cxengage", "--json"),
    ) as {
      permissions: { id: string }[];
    };
    expect(compared.permissions.map((p) => p.id)).toEqual(["cxengage/CONTACTS_UPDATE"]);
    const text = cli("what-if", "demo", "grant", "custom-agent", "cxengage/CONTACTS_UPDATE");
    expect(text).toContain("dave: +cxengage/CONTACTS_UPDATE, +surface cxengage/contact-management-panel");
  });
});
