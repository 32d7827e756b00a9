/**
 * The demo contact-center app served by the sidecar at `/demo/`: an agent desktop and one page
 * per catalog path of each system. The sidecar renders each page from its own decisions, so an
 * element the signed-in user may not see is really absent, exactly as in the products support
 * staff get tickets about. `?as=TENANT/USER` picks the user; no token is needed.
 */
import type { ServerResponse } from "node:http";
import type { Catalog, CatalogSurface } from "../../../catalog/catalog.js";
import type { PlainRoute } from "../server/http-server.js";
import { demoHref, escapeHtml, type PageContext, renderArea, renderNotice, renderPage } from "./demo-html.js";
import { desktopSections } from "./desktop-layout.js";
import { matchesUrlPattern, pathForUrlPattern } from "./url-pattern.js";

/** Options of `createDemoRoute`. */
export interface DemoRouteOptions {
  /** The loaded catalog: which surfaces exist and where they appear. */
  readonly catalog: Catalog;
  /**
   * Decides surfaces for a user: allowed or not per surface id, `undefined` when the tenant or
   * user is unknown. A surface missing from the map is treated as denied.
   */
  decide(
    tenantId: string,
    userId: string,
    surfaceIds: readonly string[],
  ): ReadonlyMap<string, boolean> | undefined;
  /** Path prefix the pages are served under. Default `/demo`. */
  readonly basePath?: string;
}

/** Defaults of `DemoRouteOptions`. */
export const DEMO_ROUTE_DEFAULTS = Object.freeze({ basePath: "/demo", subject: "demo/alice" });

/** `TENANT/USER`: one slash, no spaces, bounded, so a typo gets an answer rather than a guess. */
const SUBJECT = /^([A-Za-z0-9._@-]{1,100})\/([A-Za-z0-9._@-]{1,100})$/;

// The pages run no script; styles are inline. The extension's overlay lives in its own shadow root.
const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
} as const;

function send(res: ServerResponse, status: number, html: string, head: boolean): void {
  res.writeHead(status, HEADERS);
  res.end(head ? undefined : html);
}

/** Creates the plain route that serves the demo pages. */
export function createDemoRoute(options: DemoRouteOptions): PlainRoute {
  const basePath = options.basePath ?? DEMO_ROUTE_DEFAULTS.basePath;
  const { catalog } = options;
  const systems = catalog.systems.map((s) => ({ id: s.id, name: s.name }));
  const sections = desktopSections(catalog);

  return (req, res, url) => {
    const path = url.pathname;
    if (path !== basePath && !path.startsWith(`${basePath}/`)) return false;
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      res.end("the demo pages only answer GET\n");
      return true;
    }
    if (path === basePath) {
      res.writeHead(308, { location: `${basePath}/${url.search}` });
      res.end();
      return true;
    }
    const as = url.searchParams.get("as") ?? DEMO_ROUTE_DEFAULTS.subject;
    const ctx: PageContext = { basePath, subject: as, systems };
    const match = SUBJECT.exec(as);
    if (!match) {
      send(
        res,
        400,
        renderPage(
          ctx,
          "Who is signed in?",
          renderNotice(`'?as=${as}' is not TENANT/USER (for example demo/dave).`),
        ),
        head,
      );
      return true;
    }
    const [, tenantId = "", userId = ""] = match;
    const rel = path.slice(basePath.length);

    const page = pageFor(rel);
    if (!page) {
      const notice = renderNotice(`There is no demo page at ${rel}.`);
      send(
        res,
        404,
        renderPage(
          ctx,
          "Page not found",
          `${notice}<p><a href="${escapeHtml(demoHref(ctx, "/"))}">Back to the agent desktop</a></p>`,
        ),
        head,
      );
      return true;
    }
    const decided = options.decide(
      tenantId,
      userId,
      page.surfaces.map((s) => s.id),
    );
    if (!decided) {
      send(
        res,
        200,
        renderPage(ctx, page.title, renderNotice(`There is no user '${userId}' in tenant '${tenantId}'.`)),
        head,
      );
      return true;
    }
    // Fail closed: a surface the decision left out is not rendered.
    const allowed = (s: CatalogSurface) => decided.get(s.id) === true;
    send(res, 200, renderPage(ctx, page.title, page.render(ctx, allowed)), head);
    return true;
  };

  /** The page at a path relative to the base, or undefined when there is none. */
  function pageFor(rel: string): DemoPage | undefined {
    if (rel === "/") {
      return {
        title: "Agent desktop",
        surfaces: sections.flatMap((r) => r.surfaces),
        render: (ctx, allowed) =>
          sections
            .map((r) => renderArea(ctx, r.section.id, r.section.title, r.surfaces.filter(allowed), true))
            .join("\n"),
      };
    }
    const systemId = rel.split("/")[1] ?? "";
    const system = catalog.systems.find((s) => s.id === systemId);
    if (!system) return undefined;
    if (rel === `/${system.id}` || rel === `/${system.id}/`) {
      return {
        title: system.name,
        surfaces: [],
        render: (ctx) => systemIndex(ctx, system.surfaces),
      };
    }
    const surfaces = system.surfaces.filter((s) => matchesUrlPattern(s.urlPattern, rel));
    if (surfaces.length === 0) return undefined;
    const title = surfaces.find((s) => s.kind === "page")?.label ?? `${system.name} ${rel}`;
    return {
      title,
      surfaces,
      render: (ctx, allowed) =>
        renderArea(ctx, "page", `${system.name} · ${rel}`, surfaces.filter(allowed), false),
    };
  }
}

/** A page of the demo: its title, the surfaces it may show, and how to render the allowed ones. */
interface DemoPage {
  readonly title: string;
  readonly surfaces: readonly CatalogSurface[];
  render(ctx: PageContext, allowed: (s: CatalogSurface) => boolean): string;
}

/** A system's landing page: one link per page path of its surfaces (the app's own menu). */
function systemIndex(ctx: PageContext, surfaces: readonly CatalogSurface[]): string {
  const byPath = new Map<string, string[]>();
  for (const s of surfaces) {
    const path = pathForUrlPattern(s.urlPattern);
    byPath.set(path, [...(byPath.get(path) ?? []), s.label]);
  }
  const items = [...byPath]
    // Code-unit order (the same for these ASCII paths): localeCompare loads ~2 MB of ICU collation
    // data into the sidecar's resident memory for this one sort.
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(
      ([path, labels]) =>
        `<li><a href="${escapeHtml(demoHref(ctx, path))}">${escapeHtml(path)}</a> — ${escapeHtml(labels.join(", "))}</li>`,
    );
  return `<section class="area"><h2>Pages</h2><ul>${items.join("")}</ul></section>`;
}
