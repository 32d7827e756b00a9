/**
 * The access review export (issue 15): `rolecall review` on the store file and on a PostgreSQL
 * primary, and `GET /v1/tenants/{tenant}/review` on a real sidecar's HTTP listener, which the
 * extension's "Export CSV" downloads — with the tenant-wide read right, and refused without it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, ROOT, rolecall } from "../support/cli.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";
import { usePostgres } from "../support/use-postgres.js";

interface ReviewJson {
  tenant: string;
  revision: number;
  system: string | null;
  rows: {
    user_id: string;
    active: boolean;
    kind: "role" | "permission";
    systems: string[];
    permission: string;
    role_ids: string[];
    role_names: string[];
    licenses: string[];
  }[];
}

const EXTENSION_ORIGIN = "chrome-extension://ddkjhkkhfknmdkdcgfacbpfaehejddpa";

const postgres = usePostgres();

describe("the access review export", () => {
  let dir: string;
  let sidecar: SidecarProcess;
  let carolToken: string;
  let bobToken: string;

  const token = async (user: string) =>
    json<{ token: string }>(
      await rolecall([
        "token",
        "create",
        "--tenant",
        "demo",
        "--user",
        user,
        "--db",
        sidecar.dbPath,
        "--json",
      ]),
    ).token;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${sidecar.httpUrl}${path}`, { headers });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rolecall-review-"));
    sidecar = await startSidecarProcess({ dbPath: join(dir, "rolecall.db") });
    carolToken = await token("carol");
    bobToken = await token("bob");
    await new Promise((r) => setTimeout(r, 300)); // the sync watcher reads new tokens
  });
  afterAll(async () => {
    await sidecar?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("rolecall review lists each user's roles and allowed permissions with where they come from", async () => {
    const review = json<ReviewJson>(
      await rolecall(["review", "demo", "--format", "json", "--db", sidecar.dbPath]),
    );
    expect(review).toMatchObject({ tenant: "demo", system: null });
    const of = (user: string, kind: "role" | "permission") =>
      review.rows.filter((r) => r.user_id === user && r.kind === kind);
    expect(of("dave", "role").map((r) => r.role_names)).toEqual([["Custom Agent"]]);
    const davePermissions = of("dave", "permission").map((r) => r.permission);
    expect(davePermissions).toContain("cxengage/CONTACTS_READ");
    expect(davePermissions).not.toContain("cxengage/CONTACTS_UPDATE");
    expect(of("alice", "permission").find((r) => r.permission === "cxengage/CONTACTS_UPDATE")).toMatchObject({
      role_ids: ["cxengage.agent"],
      systems: ["cxengage"],
    });
    // Lena's analytics grant is not licensed: not a row; what her license covers is, naming it.
    const lena = of("lena", "permission");
    expect(lena.map((r) => r.permission)).not.toContain("calabrio-one/view-analytics");
    expect(lena.find((r) => r.permission === "calabrio-one/view-contacts")?.licenses).toEqual([
      "calabrio-one/quality-management",
    ]);
    // Users in id order, each user's role rows before their permission rows.
    const users = [...new Set(review.rows.map((r) => r.user_id))];
    expect(users).toEqual([...users].sort());
    expect(users).toEqual(["alice", "bob", "carol", "dave", "ines", "lena", "max", "zoe"]);
  });

  it("CSV by default, --system narrows it, --out writes the file whole", async () => {
    const all = json<ReviewJson>(
      await rolecall(["review", "demo", "--format", "json", "--db", sidecar.dbPath]),
    );
    const csv = await rolecall(["review", "demo", "--db", sidecar.dbPath]);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "tenant,user_id,user_name,active,kind,system,permission,role_ids,role_names,licenses",
    );
    expect(lines).toHaveLength(all.rows.length + 1);
    expect(lines).toContain(
      "demo,alice,Alice Agent,true,permission,cxengage,cxengage/CONTACTS_UPDATE,cxengage.agent,Agent (CxEngage),",
    );

    const narrowed = json<ReviewJson>(
      await rolecall(["review", "demo", "--system", "cxengage", "--format", "json", "--db", sidecar.dbPath]),
    );
    expect(narrowed.system).toBe("cxengage");
    expect(narrowed.rows.every((r) => r.systems.includes("cxengage"))).toBe(true);
    expect(narrowed.rows.filter((r) => r.kind === "role" && r.user_id === "zoe")).toEqual([]);

    const out = join(dir, "review.csv");
    const written = await rolecall(["review", "demo", "--out", out, "--db", sidecar.dbPath]);
    expect(written.code).toBe(0);
    expect(written.stderr).toMatch(
      new RegExp(`^${all.rows.length} row\\(s\\) of tenant 'demo' at revision \\d+`),
    );
    expect(readFileSync(out, "utf8")).toBe(csv.stdout);
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("mistakes are named: unknown tenant, system or format; nothing is written", async () => {
    const out = join(dir, "never.csv");
    const tenant = await rolecall(["review", "acme", "--out", out, "--db", sidecar.dbPath]);
    expect(tenant).toMatchObject({ code: 1, stderr: "rolecall review: unknown tenant 'acme'\n" });
    const system = await rolecall(["review", "demo", "--system", "cxengag", "--db", sidecar.dbPath]);
    expect(system.code).toBe(1);
    expect(system.stderr).toContain("tenant 'demo' does not enable system 'cxengag'; use one of");
    const format = await rolecall(["review", "demo", "--format", "xlsx", "--db", sidecar.dbPath]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("--format must be one of csv, json, not 'xlsx'");
    const nowhere = await rolecall([
      "review",
      "demo",
      "--out",
      join(dir, "absent", "r.csv"),
      "--db",
      sidecar.dbPath,
    ]);
    expect(nowhere).toMatchObject({
      code: 1,
      stderr: `rolecall review: cannot write '${join(dir, "absent", "r.csv")}' (ENOENT)\n`,
    });
    expect(existsSync(out)).toBe(false);
  });

  it("GET /v1/tenants/demo/review downloads the same rows as an attachment named after the revision", async () => {
    const res = await get("/v1/tenants/demo/review?format=csv", {
      authorization: `Bearer ${carolToken}`,
      origin: EXTENSION_ORIGIN,
    });
    expect(res.status).toBe(200);
    const revision = res.headers.get("x-rolecall-revision");
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="rolecall-review-demo-r${revision}.csv"`,
    );
    // The extension reads the file name from a cross-origin answer.
    expect(res.headers.get("access-control-expose-headers")).toContain("content-disposition");
    const cli = await rolecall(["review", "demo", "--db", sidecar.dbPath]);
    expect(await res.text()).toBe(cli.stdout);

    const narrowed = await get("/v1/tenants/demo/review?format=json&system=iadvize", {
      authorization: `Bearer ${carolToken}`,
    });
    const body = (await narrowed.json()) as ReviewJson;
    expect(body.rows.map((r) => `${r.user_id} ${r.kind} ${r.permission || r.role_ids[0]}`)).toEqual(
      json<ReviewJson>(
        await rolecall(["review", "demo", "--system", "iadvize", "--format", "json", "--db", sidecar.dbPath]),
      ).rows.map((r) => `${r.user_id} ${r.kind} ${r.permission || r.role_ids[0]}`),
    );
  });

  it("refuses who may not read every user's decisions: 403 for bob, 401 without a token, nothing of another tenant", async () => {
    const bob = await get("/v1/tenants/demo/review", { authorization: `Bearer ${bobToken}` });
    expect(bob.status).toBe(403);
    expect(await bob.json()).toEqual({
      code: "permission_denied",
      message:
        "demo/bob may not read the access review of tenant 'demo' (every user's permissions): that needs the 'read-decisions' right in tenant 'demo' (an owner, or a permission that gives it)",
    });
    const anonymous = await get("/v1/tenants/demo/review");
    expect(anonymous.status).toBe(401);
    // carol owns demo, not another tenant: the same refusal whether or not that tenant exists.
    const other = await get("/v1/tenants/acme/review", { authorization: `Bearer ${carolToken}` });
    expect(other.status).toBe(403);
    const bad = await get("/v1/tenants/demo/review?format=xlsx", { authorization: `Bearer ${carolToken}` });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toBe(
      "format must be one of csv, json, not 'xlsx'",
    );
    const post = await fetch(`${sidecar.httpUrl}/v1/tenants/demo/review`, {
      method: "POST",
      headers: { authorization: `Bearer ${carolToken}` },
    });
    expect(post.status).toBe(405);
  });

  it("a download ticket serves one download of one export without a token, and asks the same right", async () => {
    const issue = (tenant: string, query: string, headers: Record<string, string>) =>
      fetch(`${sidecar.httpUrl}/v1/tenants/${tenant}/review/tickets?${query}`, { method: "POST", headers });
    const carol = { authorization: `Bearer ${carolToken}`, origin: EXTENSION_ORIGIN };
    const res = await issue("demo", "format=csv", carol);
    expect(res.status).toBe(200);
    const issued = (await res.json()) as { ticket: string; url: string; expiresAt: string; filename: string };
    expect(issued.url).toBe(`/v1/tenants/demo/review?format=csv&ticket=${issued.ticket}`);
    expect(issued.ticket).toMatch(/^[\w-]{43}$/);
    expect(Date.parse(issued.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    // As the browser downloads it: no token, no origin.
    const download = await get(issued.url);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toBe(`attachment; filename="${issued.filename}"`);
    expect(await download.text()).toBe((await rolecall(["review", "demo", "--db", sidecar.dbPath])).stdout);
    // Spent by its first use.
    const again = await get(issued.url);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { message: string }).message).toContain("unknown, used or expired");

    // Bound to its export: another format, system or tenant is refused (and spends it).
    const other = (await (await issue("demo", "format=csv", carol)).json()) as { ticket: string };
    expect((await get(`/v1/tenants/demo/review?format=json&ticket=${other.ticket}`)).status).toBe(403);
    expect((await get(`/v1/tenants/demo/review?format=csv&ticket=${other.ticket}`)).status).toBe(401);
    const scoped = (await (await issue("demo", "format=csv&system=iadvize", carol)).json()) as {
      url: string;
    };
    expect((await get(scoped.url.replace("&system=iadvize", ""))).status).toBe(403);
    // Nothing else takes a ticket in place of a token.
    const third = (await (await issue("demo", "format=csv", carol)).json()) as { ticket: string };
    expect((await get(`/v1/tenants/demo/review?format=csv&ticket=${third.ticket}&x=1`, carol)).status).toBe(
      400,
    );
    expect((await fetch(`${sidecar.httpUrl}/v1/tenants/demo/review/tickets`)).status).toBe(405);

    // Issued only with the tenant-wide read right, and for a tenant and system that exist.
    expect((await issue("demo", "format=csv", { authorization: `Bearer ${bobToken}` })).status).toBe(403);
    expect((await issue("demo", "format=csv", {})).status).toBe(401);
    expect((await issue("acme", "format=csv", carol)).status).toBe(403);
    expect((await issue("demo", "format=csv&system=nope", carol)).status).toBe(400);
    expect((await get("/v1/tenants/demo/review?format=csv&ticket=forged")).status).toBe(401);
  });

  it("--primary exports the PostgreSQL primary's policy, row for row what the file gives; policy tests run there too", async () => {
    const url = await postgres().createDatabase("review");
    const copied = await rolecall(["copy-store", sidecar.dbPath, url]);
    expect(copied.code).toBe(0);
    const fromPrimary = await rolecall(["review", "demo", "--primary", url]);
    expect(fromPrimary.code).toBe(0);
    expect(fromPrimary.stdout).toBe((await rolecall(["review", "demo", "--db", sidecar.dbPath])).stdout);
    const tests = await rolecall(["test", join(ROOT, "examples/policy-tests/demo.yaml"), "--primary", url]);
    expect(tests).toMatchObject({ code: 0, stderr: "" });
    expect(tests.stdout.trimEnd().split("\n").at(-1)).toBe("11 passed, 0 failed");
  });

  it("a name that looks like a spreadsheet formula is exported as text", async () => {
    const formula = '=HYPERLINK("http://evil.example/","Open")';
    const created = await rolecall([
      "admin",
      "create-user",
      "demo",
      "mallory",
      formula,
      "--db",
      sidecar.dbPath,
    ]);
    expect(created.code).toBe(0);
    const assigned = await rolecall([
      "admin",
      "assign",
      "demo",
      "mallory",
      "cxengage.agent",
      "--db",
      sidecar.dbPath,
    ]);
    expect(assigned.code).toBe(0);
    const csv = await rolecall(["review", "demo", "--db", sidecar.dbPath]);
    const rows = csv.stdout.split("\n").filter((l) => l.startsWith("demo,mallory,"));
    expect(rows.length).toBeGreaterThan(1);
    // Quoted, with the leading ' that makes a spreadsheet show the cell as text.
    for (const row of rows)
      expect(row).toMatch(/^demo,mallory,"'=HYPERLINK\(""http:\/\/evil\.example\/"",""Open""\)",true,/);
  });
});
