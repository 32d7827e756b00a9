/**
 * Registering a real contact-center application, the way an admin does it for the browser
 * extension: through AdminService (PutApp / ListApps / DeleteApp) and through the CLI on the
 * store file, then asking ResolveSurfaces what the extension should mark on one of its pages.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const ROOT = join(import.meta.dirname, "..", "..");
const PANEL = "cxengage/contact-management-panel";
const OVERRIDE = "#crm-pane > .contact-editor";
const CONTACT_URL = "https://desk.example.com/app/contacts/42";

/** The registration on the wire (AdminService's App, snake_case as a grpc-js caller writes it). */
const deskApp = (appId = "desk") => ({
  app_id: appId,
  name: "Agent Desk",
  base_url: "https://desk.example.com/app",
  pages: [{ url_pattern: "/contacts*", surface_ids: [PANEL] }],
  selectors: [{ surface_id: PANEL, selector: OVERRIDE }],
  subject: { kind: "selector", selector: "header .agent-login" },
});

interface Resolved {
  app_id: string;
  revision: string;
  surfaces: {
    surface_id: string;
    selector: string;
    allowed: boolean;
    reason: string;
    missing: string[];
    summary: string;
  }[];
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, "bin/rolecall.js"), ...args],
      { timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("registered applications", () => {
  let sidecar: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;
  let dir: string;

  beforeAll(async () => {
    sidecar = await startSidecarProcess();
    clients = grpcClients(sidecar.grpcAddress);
    dir = mkdtempSync(join(tmpdir(), "rolecall-apps-"));
  });
  afterAll(async () => {
    clients?.close();
    await sidecar?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = <T = Record<string, unknown>>(method: string, req: object) =>
    unary<T>(clients.admin, method, req, { token: sidecar.adminToken });
  const resolve = (user: string, url: string, minRevision: string | number) =>
    unary<Resolved>(clients.policy, "ResolveSurfaces", {
      tenant_id: "demo",
      user_id: user,
      url,
      min_revision: String(minRevision),
    });
  const listApps = () =>
    admin<{ apps: { app_id: string }[]; revision: string }>("ListApps", { tenant_id: "demo" });

  describe("through AdminService", () => {
    let putRevision: string;

    it("PutApp returns a revision, and ResolveSurfaces at it finds the panel with the override and dave's denial", async () => {
      const put = await admin<{ revision: string }>("PutApp", { tenant_id: "demo", app: deskApp() });
      putRevision = put.revision;
      expect(Number(putRevision)).toBeGreaterThan(0);

      // min_revision makes this read-your-write: no sleeping for the sync.
      const dave = await resolve("dave", CONTACT_URL, putRevision);
      expect(dave.app_id).toBe("desk");
      expect(Number(dave.revision)).toBeGreaterThanOrEqual(Number(putRevision));
      expect(dave.surfaces.map((s) => s.surface_id)).toEqual([PANEL]);
      expect(dave.surfaces[0]).toMatchObject({
        selector: OVERRIDE,
        allowed: false,
        // A surface is a requirement over permissions (CONTACTS_READ and CONTACTS_UPDATE).
        reason: "REASON_REQUIREMENT_MISSING",
        missing: ["cxengage/CONTACTS_UPDATE"],
      });
      expect(dave.surfaces[0]!.summary).toContain("CONTACTS_UPDATE");

      const carol = await resolve("carol", CONTACT_URL, putRevision);
      expect(carol.surfaces[0]).toMatchObject({ surface_id: PANEL, selector: OVERRIDE, allowed: true });
    });

    it("matches only under the base URL and the page pattern", async () => {
      for (const url of [
        "https://desk.example.com/app/reports", // the app, another page
        "https://desk.example.com/contacts/42", // outside the base path
        "https://other.example.com/app/contacts/42", // another origin
      ]) {
        const res = await resolve("dave", url, putRevision);
        expect(res.surfaces, url).toEqual([]);
      }
      // Query strings and fragments do not hide a match.
      const withQuery = await resolve("dave", `${CONTACT_URL}?tab=notes#top`, putRevision);
      expect(withQuery.surfaces.map((s) => s.surface_id)).toEqual([PANEL]);
    });

    it("ListApps shows the registration as it was given", async () => {
      const { apps } = await listApps();
      expect(apps).toContainEqual(deskApp());
    });

    it.each([
      [
        "a base URL that is not absolute",
        { base_url: "desk.example.com/app" },
        "INVALID_ARGUMENT",
        "app.base_url",
      ],
      [
        "a base URL that is not http(s)",
        { base_url: "ftp://desk.example.com" },
        "INVALID_ARGUMENT",
        "app.base_url",
      ],
      [
        "a page pattern not starting with '/'",
        { pages: [{ url_pattern: "contacts*", surface_ids: [PANEL] }] },
        "INVALID_ARGUMENT",
        "app.pages[0].url_pattern",
      ],
      ["no pages", { pages: [] }, "INVALID_ARGUMENT", "app.pages"],
      [
        "an unknown surface",
        { pages: [{ url_pattern: "/contacts*", surface_ids: ["cxengage/contact-managment-panel"] }] },
        "NOT_FOUND",
        `app.pages[0].surface_ids[0]: unknown surface 'cxengage/contact-managment-panel' (did you mean '${PANEL}'?)`,
      ],
      [
        "a bad CSS selector override",
        { selectors: [{ surface_id: PANEL, selector: "div[data-x" }] },
        "INVALID_ARGUMENT",
        "app.selectors[0].selector",
      ],
      [
        "a selector subject without a selector",
        { subject: { kind: "selector", selector: "" } },
        "INVALID_ARGUMENT",
        "app.subject.selector",
      ],
      [
        "an unknown subject kind",
        { subject: { kind: "cookie", selector: "" } },
        "INVALID_ARGUMENT",
        "app.subject.kind",
      ],
      ["an empty app id", { app_id: "" }, "INVALID_ARGUMENT", "app.app_id"],
    ] as const)("refuses %s, naming the field, writing nothing", async (_what, change, code, named) => {
      const before = await listApps();
      const err = await admin("PutApp", { tenant_id: "demo", app: { ...deskApp("bad"), ...change } }).catch(
        (e: grpc.ServiceError) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(grpc.status[(err as grpc.ServiceError).code]).toBe(code);
      expect((err as grpc.ServiceError).details).toContain(named);
      const after = await listApps();
      expect(after.revision).toBe(before.revision);
      expect(after.apps.map((a) => a.app_id)).not.toContain("bad");
    });

    it("refuses an unknown tenant with NOT_FOUND", async () => {
      await expect(admin("PutApp", { tenant_id: "nope", app: deskApp() })).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
      });
    });

    it("DeleteApp removes it: ListApps no longer shows it and the URL resolves to nothing", async () => {
      const del = await admin<{ revision: string }>("DeleteApp", { tenant_id: "demo", app_id: "desk" });
      expect(Number(del.revision)).toBeGreaterThan(Number(putRevision));
      expect((await listApps()).apps.map((a) => a.app_id)).not.toContain("desk");
      const res = await resolve("dave", CONTACT_URL, del.revision);
      expect(res.surfaces).toEqual([]);
      // Deleting it again names what is missing.
      await expect(admin("DeleteApp", { tenant_id: "demo", app_id: "desk" })).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
      });
    });
  });

  describe("through the CLI on the store file, picked up by the running sidecar", () => {
    // The CLI's file format is rolecall.v1.App in camelCase.
    const cliApp = {
      appId: "desk-cli",
      name: "Agent Desk (CLI)",
      baseUrl: "https://desk.example.com/app",
      pages: [{ urlPattern: "/contacts*", surfaceIds: [PANEL] }],
      selectors: [{ surfaceId: PANEL, selector: OVERRIDE }],
      subject: { kind: "selector", selector: "header .agent-login" },
    };

    it("put-app, apps --json, ResolveSurfaces at the printed revision, delete-app", async () => {
      const file = join(dir, "app.json");
      writeFileSync(file, JSON.stringify(cliApp));
      const put = await cli(["admin", "put-app", "demo", file, "--db", sidecar.dbPath, "--json"]);
      expect(put.stderr).toBe("");
      expect(put.code).toBe(0);
      const { revision } = JSON.parse(put.stdout) as { revision: number };
      expect(revision).toBeGreaterThan(0);

      const listed = await cli(["admin", "apps", "demo", "--db", sidecar.dbPath, "--json"]);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toContainEqual(cliApp);

      const dave = await resolve("dave", CONTACT_URL, revision);
      expect(dave.app_id).toBe("desk-cli");
      expect(dave.surfaces[0]).toMatchObject({ surface_id: PANEL, selector: OVERRIDE, allowed: false });

      const del = await cli(["admin", "delete-app", "demo", "desk-cli", "--db", sidecar.dbPath, "--json"]);
      expect(del.code).toBe(0);
      const after = await resolve(
        "dave",
        CONTACT_URL,
        (JSON.parse(del.stdout) as { revision: number }).revision,
      );
      expect(after.surfaces).toEqual([]);
    });

    it("put-app refuses a bad registration with exit 1 naming the field, and an unreadable file with exit 2", async () => {
      const file = join(dir, "bad.json");
      writeFileSync(
        file,
        JSON.stringify({ ...cliApp, pages: [{ urlPattern: "contacts*", surfaceIds: [PANEL] }] }),
      );
      const bad = await cli(["admin", "put-app", "demo", file, "--db", sidecar.dbPath]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("app.pages[0].url_pattern must start with '/'");

      writeFileSync(file, "{ not json");
      const garbage = await cli(["admin", "put-app", "demo", file, "--db", sidecar.dbPath]);
      expect(garbage.code).toBe(2);
      expect(garbage.stderr).toContain(`cannot read app file '${file}'`);

      const listed = await cli(["admin", "apps", "demo", "--db", sidecar.dbPath, "--json"]);
      expect(JSON.parse(listed.stdout)).toEqual([]);
    });
  });
});
