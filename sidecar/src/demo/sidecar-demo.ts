/**
 * The demo inside a running sidecar: its pages on the HTTP listener and its app registration,
 * which ResolveSurfaces serves to every tenant beside the apps registered in the store.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { type AppRegistration, AppRegistry } from "../apps/app-registry.js";
import type { PolicyEngine } from "../policy/policy-engine.js";
import type { PlainRoute } from "../server/http-server.js";
import { demoAppRegistration } from "./demo-registration.js";
import { createDemoRoute } from "./demo-route.js";

/** Options of `createSidecarDemo`. */
export interface SidecarDemoOptions {
  readonly catalog: Catalog;
  /** Decides the demo pages' surfaces. */
  readonly engine: Pick<PolicyEngine, "resolveSurfaces">;
  /** The only tenant the pages render: they need no token. */
  readonly tenantId: string;
  /** Whether the demo is on (`--no-demo` turns it off): off, no pages and no registration. */
  readonly enabled: boolean;
  /** The apps registered in the store, per tenant, as last read by the sync. */
  readonly storeApps: () => ReadonlyMap<string, readonly AppRegistration[]>;
}

/** The demo's parts of a sidecar. */
export interface SidecarDemo {
  /** Routes for the HTTP listener: the demo pages when the demo is on, none otherwise. */
  readonly routes: readonly PlainRoute[];
  /** The registry PolicyService reads: the store's apps and the demo's, rebuilt when the store's change. */
  readonly apps: () => AppRegistry;
  /** Registers the demo app at the bound HTTP listener's URL (the registration needs it). */
  listening(httpUrl: string): void;
}

/** `http://127.0.0.1:8080` → the same URL under localhost and [::1] too; other hosts unchanged. */
function loopbackAliases(url: string): string[] {
  const parsed = new URL(url);
  const loopback = ["127.0.0.1", "localhost", "[::1]"];
  if (!loopback.includes(parsed.hostname)) return [url];
  return loopback.map((host) => `${parsed.protocol}//${host}:${parsed.port}`);
}

/** Creates the demo's route and registration for one sidecar. */
export function createSidecarDemo(options: SidecarDemoOptions): SidecarDemo {
  const { catalog, engine, tenantId } = options;
  // The demo pages need no token, so they render the demo tenant only, and only when it is on.
  const route = createDemoRoute({
    catalog,
    decide: (tenant, userId, surfaceIds) => {
      if (tenant !== tenantId) return undefined;
      try {
        const decisions = engine.resolveSurfaces(tenant, userId, surfaceIds);
        if (decisions.some((d) => d.reason === "USER_UNKNOWN")) return undefined;
        return new Map(decisions.map((d) => [d.surface, d.allowed]));
      } catch {
        return undefined;
      }
    },
  });

  // The demo app's registration needs the HTTP URL, known only once the listener is bound.
  let registrations: AppRegistration[] = [];
  let apps: { source: unknown; registry: AppRegistry } | undefined;
  return {
    routes: options.enabled ? [route] : [],
    apps: () => {
      const source = options.storeApps();
      if (apps?.source !== source) {
        apps = { source, registry: new AppRegistry(source, registrations) };
      }
      return apps.registry;
    },
    listening: (httpUrl) => {
      // The demo answers under every loopback name a browser may use for it.
      registrations = options.enabled
        ? loopbackAliases(httpUrl).map((url) => ({ ...demoAppRegistration(catalog, url), selectors: [] }))
        : [];
    },
  };
}
