/**
 * The demo app's registration, like any customer app's: URL patterns relative to its base URL
 * and the surfaces on each, so ResolveSurfaces answers for `<http address>/demo/...` pages.
 */
import type { Catalog } from "../../../catalog/catalog.js";
import { desktopSurfaceIds } from "./desktop-layout.js";

/** The registration record of an app the extension overlays (mirrors `rolecall.v1.App`). */
export interface DemoAppRegistration {
  readonly appId: "demo";
  readonly name: string;
  /** e.g. `http://127.0.0.1:8080/demo`; page patterns are relative to it. */
  readonly baseUrl: string;
  /** Path patterns (`*` = any run of characters, matched against the path without query) and their surfaces. */
  readonly pages: readonly { readonly urlPattern: string; readonly surfaceIds: readonly string[] }[];
  /** The demo pages declare their user in `<meta name="rolecall-subject">`. */
  readonly subject: { readonly kind: "meta" };
}

/**
 * The demo's registration. `baseUrl` is the sidecar's HTTP URL (`http://127.0.0.1:8080`);
 * `basePath` (default `/demo`) is appended unless `baseUrl` already ends with it.
 */
export function demoAppRegistration(
  catalog: Catalog,
  baseUrl: string,
  basePath = "/demo",
): DemoAppRegistration {
  const trimmed = baseUrl.replace(/\/+$/, "");
  const base = trimmed.endsWith(basePath) ? trimmed : `${trimmed}${basePath}`;
  const byPattern = new Map<string, string[]>();
  for (const surface of catalog.surfaces.values()) {
    byPattern.set(surface.urlPattern, [...(byPattern.get(surface.urlPattern) ?? []), surface.id]);
  }
  return {
    appId: "demo",
    name: "Contact Center demo",
    baseUrl: base,
    pages: [
      { urlPattern: "/", surfaceIds: desktopSurfaceIds(catalog) },
      ...[...byPattern]
        // Code-unit order (the same for these ASCII paths): localeCompare loads ~2 MB of ICU collation
        // data into the sidecar's resident memory for this one sort.
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([urlPattern, surfaceIds]) => ({ urlPattern, surfaceIds })),
    ],
    subject: { kind: "meta" },
  };
}
