/**
 * History on a real sidecar (issue 15): "when did lena lose analytics?" — an admin fixes the
 * Analytics Viewer role's licenses, another undoes it; ListAccessChanges (Connect) and
 * `rolecall history` name both revisions, and CheckPermission / ExplainPermission /
 * ListEffectivePermissions / CompareUsers with at_revision or at_time answer as the store stood
 * then. Reading a user's history is reading their decisions: a supervisor may not read lena's.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyService, Reason } from "../../gen/rolecall/v1/policy_pb.js";
import { type CliResult, json, rolecall } from "../support/cli.js";
import { connectClient } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const ANALYTICS = "calabrio-one/view-analytics";
const LICENSED = [
  "calabrio-one/analytics",
  "calabrio-one/calabrio-one-access",
  "calabrio-one/quality-management",
];

/** The error a call failed with, or undefined when it succeeded. */
const error = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );

describe("history: when did lena lose analytics?", () => {
  let sidecar: SidecarProcess;
  let carol: ReturnType<typeof connectClient<typeof PolicyService>>;
  let tokenOf: (user: string) => Promise<string>;
  let fixed: number;
  let undone: number;
  let betweenTime: string;

  const cli = (...args: string[]): Promise<CliResult> => rolecall([...args, "--db", sidecar.dbPath]);

  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    tokenOf = async (user: string) => {
      const token = json<{ token: string }>(
        await cli("token", "create", "--tenant", "demo", "--user", user, "--json"),
      ).token;
      // A new token reaches the running sidecar with its next poll of the store: wait for it.
      const probe = connectClient(PolicyService, sidecar.httpUrl, { token });
      for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
        const e = await error(
          probe.checkPermission({ tenantId: "demo", userId: user, permission: ANALYTICS }),
        );
        if (e?.code !== Code.Unauthenticated) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return token;
    };
    carol = connectClient(PolicyService, sidecar.httpUrl, { token: await tokenOf("carol") });
    fixed = json<{ revision: number }>(
      await cli("admin", "set-role-licenses", "demo", "analytics-viewer", ...LICENSED, "--json"),
    ).revision;
    await new Promise((r) => setTimeout(r, 50));
    betweenTime = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    undone = json<{ revision: number }>(
      await cli(
        "admin",
        "set-role-licenses",
        "demo",
        "analytics-viewer",
        "calabrio-one/quality-management",
        "--json",
      ),
    ).revision;
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  it("ListAccessChanges names the revision that took it away, and the one that gave it", async () => {
    const out = await carol.listAccessChanges({
      tenantId: "demo",
      userId: "lena",
      permission: ANALYTICS,
      minRevision: BigInt(undone),
    });
    expect(out.changes.map((c) => [Number(c.revision), c.permissionsGained, c.permissionsLost])).toEqual([
      [undone, [], [ANALYTICS]],
      [fixed, [ANALYTICS], []],
    ]);
    expect(out.changes[0]).toMatchObject({ actor: "bootstrap", operation: "SetRoleLicenses" });
    expect(out.changes[0]!.summary).toContain("role 'Analytics Viewer' licenses set to");
    expect(out.nextPageToken).toBe("");
    // Paged: one at a time, newest first.
    const first = await carol.listAccessChanges({ tenantId: "demo", userId: "lena", pageSize: 1 });
    expect(Number(first.changes[0]!.revision)).toBe(undone);
    const second = await carol.listAccessChanges({
      tenantId: "demo",
      userId: "lena",
      pageSize: 1,
      pageToken: first.nextPageToken,
    });
    expect(Number(second.changes[0]!.revision)).toBe(fixed);
  });

  it("decides at a past revision or time, and says which revision it decided on", async () => {
    const at = await carol.checkPermission({
      tenantId: "demo",
      userId: "lena",
      permission: ANALYTICS,
      atRevision: BigInt(fixed),
    });
    expect(at).toMatchObject({ allowed: true, revision: BigInt(fixed) });
    const now = await carol.checkPermission({
      tenantId: "demo",
      userId: "lena",
      permission: ANALYTICS,
      minRevision: BigInt(undone),
    });
    expect(now).toMatchObject({ allowed: false, reason: Reason.LICENSE_MISSING, revision: BigInt(undone) });
    const byTime = await carol.checkPermission({
      tenantId: "demo",
      userId: "lena",
      permission: ANALYTICS,
      atTime: betweenTime,
    });
    expect(byTime).toMatchObject({ allowed: true, revision: BigInt(fixed) });
    const explained = await carol.explainPermission({
      tenantId: "demo",
      userId: "lena",
      permission: ANALYTICS,
      atRevision: BigInt(fixed - 1),
    });
    expect(explained).toMatchObject({ allowed: false, revision: BigInt(fixed - 1) });
    const listed = await carol.listEffectivePermissions({
      tenantId: "demo",
      userId: "lena",
      atRevision: BigInt(fixed),
    });
    expect(listed.revision).toBe(BigInt(fixed));
    expect(listed.permissions.find((p) => p.permission === ANALYTICS)?.allowed).toBe(true);
    const compared = await carol.compareUsers({
      tenantId: "demo",
      userId: "lena",
      otherUserId: "carol",
      atRevision: BigInt(fixed),
    });
    expect(compared.revision).toBe(BigInt(fixed));
  });

  it("refuses what it cannot answer with a clear error", async () => {
    const future = await error(
      carol.checkPermission({
        tenantId: "demo",
        userId: "lena",
        permission: ANALYTICS,
        atRevision: 1_000_000n,
      }),
    );
    expect(future).toMatchObject({ code: Code.InvalidArgument });
    expect(future?.rawMessage).toMatch(/at_revision 1000000 is not a revision of this store/);
    const before = await error(
      carol.checkPermission({ tenantId: "demo", userId: "lena", permission: ANALYTICS, atRevision: 1n }),
    );
    expect(before?.code).toBe(Code.NotFound);
    expect(before?.rawMessage).toBe("tenant 'demo' did not exist at revision 1");
    const badTime = await error(
      carol.checkPermission({
        tenantId: "demo",
        userId: "lena",
        permission: ANALYTICS,
        atTime: "last tuesday",
      }),
    );
    expect(badTime?.code).toBe(Code.InvalidArgument);
    // A supervisor reads his own history, not lena's.
    const bob = connectClient(PolicyService, sidecar.httpUrl, { token: await tokenOf("bob") });
    expect((await error(bob.listAccessChanges({ tenantId: "demo", userId: "lena" })))?.code).toBe(
      Code.PermissionDenied,
    );
    expect(
      (
        await error(
          bob.checkPermission({
            tenantId: "demo",
            userId: "lena",
            permission: ANALYTICS,
            atRevision: BigInt(fixed),
          }),
        )
      )?.code,
    ).toBe(Code.PermissionDenied);
    const own = await bob.listAccessChanges({ tenantId: "demo", userId: "bob" });
    expect(own.changes.length).toBeGreaterThan(0);
  });

  it("rolecall history and check --at answer the same from the store file", async () => {
    const text = await cli("history", "demo", "lena", "--permission", ANALYTICS);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`r${undone}`);
    expect(text.stdout).toContain(`- ${ANALYTICS}`);
    const listed = json<{ changes: { revision: number }[] }>(await cli("history", "demo", "lena", "--json"));
    expect(listed.changes.slice(0, 2).map((c) => c.revision)).toEqual([undone, fixed]);
    const then = await cli("check", "demo", "lena", ANALYTICS, "--at", String(fixed));
    expect(then).toMatchObject({ code: 0, stdout: `ALLOWED (GRANTED) at revision ${fixed}\n` });
    const byTime = await cli("check", "demo", "lena", ANALYTICS, "--at", betweenTime);
    expect(byTime.stdout).toBe(`ALLOWED (GRANTED) at revision ${fixed}\n`);
    const bad = await cli("check", "demo", "lena", ANALYTICS, "--at", "yesterday");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("at_time 'yesterday' is not a time; write it as RFC 3339");
    const typo = await cli("history", "demo", "lenna");
    expect(typo.stderr).toContain("unknown user 'lenna' in tenant 'demo' (did you mean 'lena'?)");
  });
});
