import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Catalog, CatalogSurface, CatalogSystem } from "../../../catalog/catalog.js";
import type { SurfaceKind } from "../../../catalog/schema.js";
import { demoAppRegistration } from "./demo-registration.js";
import { createDemoRoute } from "./demo-route.js";
import { matchesUrlPattern } from "./url-pattern.js";

function surface(
  system: string,
  id: string,
  kind: SurfaceKind,
  urlPattern: string,
  label = id,
): CatalogSurface {
  const qualified = `${system}/${id}`;
  return {
    id: qualified,
    system,
    label,
    kind,
    location: `Somewhere > ${label}`,
    urlPattern,
    selector: `[data-rolecall-surface="${qualified}"]`,
    requires: `${system}/SOME_PERMISSION`,
  };
}

function system(id: string, name: string, surfaces: CatalogSurface[]): CatalogSystem {
  return {
    id,
    name,
    adminRights: [],
    categories: [],
    licenses: [],
    defaultRoles: [],
    permissions: [],
    surfaces,
  };
}

const systems = [
  system("cxengage", "CxEngage", [
    surface(
      "cxengage",
      "contact-management-panel",
      "panel",
      "/cxengage/agent-desktop*",
      "Contact Management panel",
    ),
    surface(
      "cxengage",
      "footer-statistics",
      "widget",
      "/cxengage/agent-desktop*",
      "Global footer statistics",
    ),
    surface(
      "cxengage",
      "contact-layouts-page",
      "page",
      "/cxengage/config/contact-layouts*",
      "Contact Layouts",
    ),
  ]),
  system("calabrio-one", "Calabrio ONE", [
    surface("calabrio-one", "interactions", "page", "/calabrio-one/interactions", "Interactions"),
    surface("calabrio-one", "interactions-export", "button", "/calabrio-one/interactions/export", "Export"),
  ]),
];
const catalog: Catalog = {
  systems,
  permissions: new Map(),
  licenses: new Map(),
  surfaces: new Map(systems.flatMap((s) => s.surfaces.map((x) => [x.id, x] as const))),
};

// dave may see everything but the Contact Management panel; carol everything; no one else exists.
const calls: { tenant: string; user: string; ids: readonly string[] }[] = [];
function decide(tenant: string, user: string, ids: readonly string[]) {
  calls.push({ tenant, user, ids });
  if (tenant !== "demo" || !["dave", "carol", "alice"].includes(user)) return undefined;
  return new Map(ids.map((id) => [id, !(user === "dave" && id === "cxengage/contact-management-panel")]));
}

describe("demo route", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const route = createDemoRoute({ catalog, decide });
    server = createServer(async (req, res) => {
      const url = new URL(req.url ?? "/", "http://demo");
      if (!(await route(req, res, url))) {
        res.writeHead(418);
        res.end("not the demo");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { redirect: "manual" });
    return { status: res.status, headers: res.headers, html: await res.text() };
  };

  it("renders the agent desktop with the Contact Management panel for a user allowed it", async () => {
    const { status, html, headers } = await get("/demo/?as=demo/carol");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toContain("text/html");
    expect(html).toContain('<meta name="rolecall-subject" content="demo/carol">');
    expect(html).toContain('data-rolecall-surface="cxengage/contact-management-panel"');
    expect(html).toContain('data-rolecall-surface="calabrio-one/interactions"');
    expect(html).toContain('data-rolecall-surface="calabrio-one/interactions-export"');
  });

  it("leaves a denied surface out of the page entirely", async () => {
    const { html } = await get("/demo/?as=demo/dave");
    expect(html).toContain('content="demo/dave"');
    expect(html).not.toContain("cxengage/contact-management-panel");
    expect(html).not.toContain("Contact Management panel");
    expect(html).toContain('data-rolecall-surface="cxengage/footer-statistics"');
  });

  it("signs in demo/alice when no user is given", async () => {
    const { html } = await get("/demo/");
    expect(html).toContain('content="demo/alice"');
    expect(calls.at(-1)).toMatchObject({ tenant: "demo", user: "alice" });
  });

  it("says when the user is unknown, showing no surfaces", async () => {
    const { status, html } = await get("/demo/?as=demo/mallory");
    expect(status).toBe(200);
    expect(html).toContain("There is no user &#39;mallory&#39; in tenant &#39;demo&#39;");
    expect(html).not.toContain("data-rolecall-surface");
  });

  it("escapes ?as= so it cannot inject markup", async () => {
    const evil = encodeURIComponent(`demo/"><script>alert(1)</script>`);
    const { status, html } = await get(`/demo/?as=${evil}`);
    expect(status).toBe(400);
    expect(html).not.toContain("<script>");
    expect(html).toContain("&#60;script&#62;");
    expect(html).not.toContain("data-rolecall-surface");
  });

  it("serves a system's pages from the catalog's URL patterns under /demo", async () => {
    const desk = await get("/demo/cxengage/agent-desktop?as=demo/carol");
    expect(desk.status).toBe(200);
    expect(desk.html).toContain('data-rolecall-surface="cxengage/contact-management-panel"');
    expect(desk.html).toContain('data-rolecall-surface="cxengage/footer-statistics"');
    expect(desk.html).not.toContain('data-rolecall-surface="cxengage/contact-layouts-page"');
    expect(calls.at(-1)?.ids).toEqual(["cxengage/contact-management-panel", "cxengage/footer-statistics"]);

    const landing = await get("/demo/cxengage/?as=demo/carol");
    expect(landing.html).toContain('href="/demo/cxengage/agent-desktop?as=demo%2Fcarol"');
    expect(landing.html).toContain('href="/demo/cxengage/config/contact-layouts?as=demo%2Fcarol"');
  });

  it("answers 404 for paths no surface lives on and leaves other paths to other routes", async () => {
    expect((await get("/demo/cxengage/nowhere?as=demo/carol")).status).toBe(404);
    expect((await get("/demo/no-such-system/x")).status).toBe(404);
    expect((await get("/demonstration")).status).toBe(418);
    expect((await get("/metrics")).status).toBe(418);
  });

  it("redirects /demo to /demo/ keeping the query, and refuses other methods", async () => {
    const res = await get("/demo?as=demo/dave");
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("/demo/?as=demo/dave");
    expect((await fetch(`${base}/demo/`, { method: "POST" })).status).toBe(405);
  });

  it("forbids scripts and framing", async () => {
    const { headers } = await get("/demo/?as=demo/carol");
    expect(headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });
});

describe("demo app registration", () => {
  it("maps the desktop and every catalog pattern to their surfaces under <http>/demo", () => {
    const app = demoAppRegistration(catalog, "http://127.0.0.1:8080");
    expect(app).toMatchObject({
      appId: "demo",
      baseUrl: "http://127.0.0.1:8080/demo",
      subject: { kind: "meta" },
    });
    const desktop = app.pages.find((p) => p.urlPattern === "/");
    expect(desktop?.surfaceIds).toContain("cxengage/contact-management-panel");
    expect(desktop?.surfaceIds).toContain("calabrio-one/interactions-export");
    expect(app.pages).toContainEqual({
      urlPattern: "/cxengage/agent-desktop*",
      surfaceIds: ["cxengage/contact-management-panel", "cxengage/footer-statistics"],
    });
    expect(demoAppRegistration(catalog, "http://127.0.0.1:8080/demo/").baseUrl).toBe(
      "http://127.0.0.1:8080/demo",
    );
  });
});

describe("URL patterns", () => {
  it("match a path exactly or with * as any run of characters", () => {
    expect(matchesUrlPattern("/", "/")).toBe(true);
    expect(matchesUrlPattern("/", "/cxengage/agent-desktop")).toBe(false);
    expect(matchesUrlPattern("/cxengage/agent-desktop*", "/cxengage/agent-desktop")).toBe(true);
    expect(matchesUrlPattern("/cxengage/agent-desktop*", "/cxengage/agent-desktop/x")).toBe(true);
    expect(matchesUrlPattern("/cxengage/agent-desktop*", "/cxengage/agent")).toBe(false);
    expect(matchesUrlPattern("/a/*/c", "/a/b/c")).toBe(true);
    expect(matchesUrlPattern("/a/*/c", "/a/b/d")).toBe(false);
    expect(matchesUrlPattern("/a*a", "/a")).toBe(false);
  });
});
