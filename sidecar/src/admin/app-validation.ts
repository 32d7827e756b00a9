/** Checks an app registration before it is stored: every URL, pattern, surface and selector. */
import { parse as parseSelector } from "css-what";
import type { Catalog } from "../../../catalog/catalog.js";
import { didYouMean } from "../../../catalog/closest-key.js";
import type { AppRegistration } from "../apps/app-registry.js";
import { StoreError } from "../store/store-error.js";
import { checkId, checkName, MAX_TEXT_LENGTH } from "./validate.js";

const SUBJECT_KINDS = ["meta", "selector", "view-as"] as const;

function checkSelector(field: string, selector: unknown): string {
  if (typeof selector !== "string" || selector.trim() === "") {
    throw new StoreError("INVALID_ARGUMENT", `${field} must be a non-empty CSS selector`, { field });
  }
  try {
    parseSelector(selector);
  } catch (err) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `${field} '${selector}' is not a valid CSS selector: ${(err as Error).message}`,
      {
        field,
      },
    );
  }
  return selector;
}

/** Validates a registration for a tenant with the given enabled systems; returns it normalised. */
export function checkAppRegistration(
  catalog: Catalog,
  enabled: readonly string[],
  app: AppRegistration,
): AppRegistration {
  const appId = checkId("app.app_id", app.appId);
  const name = checkName("app.name", app.name);
  let base: URL;
  try {
    base = new URL(app.baseUrl);
  } catch {
    throw new StoreError("INVALID_ARGUMENT", `app.base_url '${app.baseUrl}' is not an absolute URL`, {
      field: "app.base_url",
    });
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new StoreError("INVALID_ARGUMENT", "app.base_url must be http or https", { field: "app.base_url" });
  }
  const checkSurface = (field: string, id: string) => {
    const surface = catalog.surfaces.get(id);
    if (!surface) {
      throw new StoreError(
        "NOT_FOUND",
        `${field}: unknown surface '${id}'${didYouMean(id, catalog.surfaces.keys())}`,
        {
          field,
        },
      );
    }
    if (!enabled.includes(surface.system)) {
      throw new StoreError(
        "FAILED_PRECONDITION",
        `${field}: surface '${id}' belongs to ${surface.system}, which the tenant has not enabled`,
        { field },
      );
    }
  };
  if (app.pages.length === 0) {
    throw new StoreError("INVALID_ARGUMENT", "app.pages must list at least one URL pattern", {
      field: "app.pages",
    });
  }
  const pages = app.pages.map((page, i) => {
    const field = `app.pages[${i}]`;
    if (!page.urlPattern.startsWith("/") || page.urlPattern.length > MAX_TEXT_LENGTH) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `${field}.url_pattern must start with '/' (e.g. '/contacts*')`,
        {
          field: `${field}.url_pattern`,
        },
      );
    }
    for (const [j, id] of page.surfaceIds.entries()) checkSurface(`${field}.surface_ids[${j}]`, id);
    return { urlPattern: page.urlPattern, surfaceIds: [...new Set(page.surfaceIds)] };
  });
  const selectors = app.selectors.map((s, i) => {
    checkSurface(`app.selectors[${i}].surface_id`, s.surfaceId);
    return { surfaceId: s.surfaceId, selector: checkSelector(`app.selectors[${i}].selector`, s.selector) };
  });
  const kind = app.subject.kind;
  if (!SUBJECT_KINDS.includes(kind)) {
    throw new StoreError("INVALID_ARGUMENT", `app.subject.kind must be one of ${SUBJECT_KINDS.join(", ")}`, {
      field: "app.subject.kind",
    });
  }
  const subject =
    kind === "selector"
      ? { kind, selector: checkSelector("app.subject.selector", app.subject.selector) }
      : { kind };
  return { appId, name, baseUrl: base.href.replace(/\/$/, ""), pages, selectors, subject };
}
