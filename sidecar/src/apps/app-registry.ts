/**
 * Registered applications: which catalog surfaces appear on which URL of a real contact-center
 * app, and how to find each one where the page carries no `data-rolecall-surface` attribute.
 * ResolveSurfaces answers from here; the registry is rebuilt from the store on every sync.
 */

/** How a page reveals its signed-in user. */
export interface SubjectSource {
  /** `meta`: `<meta name="rolecall-subject">`; `selector`: an element's text; `view-as`: only the popup's choice. */
  readonly kind: "meta" | "selector" | "view-as";
  readonly selector?: string;
}

/** A URL pattern of an app and the surfaces on it. */
export interface AppPage {
  /** Path pattern relative to the base URL; `*` matches any run of characters. */
  readonly urlPattern: string;
  readonly surfaceIds: readonly string[];
}

/** One registered application. */
export interface AppRegistration {
  readonly appId: string;
  readonly name: string;
  /** Origin plus optional path prefix, e.g. `https://agent.example.com` or `http://127.0.0.1:8080/demo`. */
  readonly baseUrl: string;
  readonly pages: readonly AppPage[];
  /** Selectors replacing the catalog's for this app. */
  readonly selectors: readonly { readonly surfaceId: string; readonly selector: string }[];
  readonly subject: SubjectSource;
}

/** The surfaces an app shows at a URL. */
export interface AppMatch {
  readonly app: AppRegistration;
  /** Surface ids in registration order, without repeats. */
  readonly surfaceIds: readonly string[];
  /** The app's selector for a surface, if it overrides the catalog's. */
  selectorFor(surfaceId: string): string | undefined;
}

/** Turns a `*` glob into an anchored regular expression (everything else literal). */
export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`);
}

interface CompiledApp {
  readonly app: AppRegistration;
  readonly origin: string;
  readonly prefix: string;
  readonly pages: readonly { readonly test: RegExp; readonly surfaceIds: readonly string[] }[];
  readonly selectors: ReadonlyMap<string, string>;
}

function compile(app: AppRegistration): CompiledApp {
  const base = new URL(app.baseUrl);
  return {
    app,
    origin: base.origin,
    prefix: base.pathname.replace(/\/+$/, ""),
    pages: app.pages.map((p) => ({ test: globToRegExp(p.urlPattern), surfaceIds: p.surfaceIds })),
    selectors: new Map(app.selectors.map((s) => [s.surfaceId, s.selector])),
  };
}

/** Finds the app and surfaces for a tenant's URL. */
export class AppRegistry {
  readonly #byTenant: ReadonlyMap<string, readonly CompiledApp[]>;
  readonly #everyTenant: readonly CompiledApp[];

  /**
   * @param byTenant apps registered per tenant in the store
   * @param everyTenant apps every tenant sees (the sidecar's own demo app)
   */
  constructor(
    byTenant: ReadonlyMap<string, readonly AppRegistration[]>,
    everyTenant: readonly AppRegistration[] = [],
  ) {
    this.#byTenant = new Map([...byTenant].map(([tenant, apps]) => [tenant, apps.map(compile)]));
    this.#everyTenant = everyTenant.map(compile);
  }

  /** The first app (tenant's own first, then shared) whose base URL holds `url`, with the surfaces of every matching page. */
  match(tenantId: string, url: string): AppMatch | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    for (const app of [...(this.#byTenant.get(tenantId) ?? []), ...this.#everyTenant]) {
      if (parsed.origin !== app.origin) continue;
      const path = parsed.pathname;
      if (app.prefix !== "" && path !== app.prefix && !path.startsWith(`${app.prefix}/`)) continue;
      const rest = path.slice(app.prefix.length) || "/";
      const ids = new Set<string>();
      for (const page of app.pages) if (page.test.test(rest)) for (const id of page.surfaceIds) ids.add(id);
      return { app: app.app, surfaceIds: [...ids], selectorFor: (id) => app.selectors.get(id) };
    }
    return undefined;
  }
}
