/**
 * What the demo's agent desktop (`/demo/`) shows: sections of catalog surfaces from the five
 * systems, the way a contact-center agent's start page mixes products. Surfaces are named by id;
 * ids the catalog does not have are skipped, so the desktop follows the catalog as it grows.
 */
import type { Catalog, CatalogSurface } from "../../../catalog/catalog.js";

/** One section of the desktop. */
export interface DesktopSection {
  /** Stable id, used as the section's HTML id. */
  readonly id: string;
  readonly title: string;
  /** Surface ids shown in this section, in order. */
  readonly surfaceIds: readonly string[];
  /** Surfaces of the catalog also shown here: e.g. buttons added later under a page's path. */
  readonly alsoWhere?: (surface: CatalogSurface) => boolean;
}

const isAction = (s: CatalogSurface) => s.kind === "button" || s.kind === "menu-item";

/** The desktop's sections; the Contact Management panel comes first because support asks about it most. */
export const DESKTOP_SECTIONS: readonly DesktopSection[] = Object.freeze([
  {
    id: "agent-desktop",
    title: "Agent desktop",
    surfaceIds: [
      "cxengage/contact-management-panel",
      "cxengage/contact-history-tab",
      "cxengage/welcome-screen-statistics",
      "cxengage/footer-statistics",
    ],
  },
  {
    id: "interactions",
    title: "Interactions",
    surfaceIds: [
      "calabrio-one/interactions",
      "calabrio-one/interactions-export-recordings",
      "calabrio-one/interactions-delete-contact",
      "calabrio-one/interactions-bulk-contact-export",
    ],
    // Export/delete buttons the catalog places on the Interactions page.
    alsoWhere: (s) =>
      s.system === "calabrio-one" && isAction(s) && s.urlPattern.startsWith("/calabrio-one/interactions"),
  },
  {
    id: "wallboard",
    title: "Wallboard",
    surfaceIds: [
      "zoom-contact-center/wallboards",
      "maxcontact/wallboards-manager-page",
      "maxcontact/live-queues-page",
    ],
  },
  {
    id: "lead-management",
    title: "Lead management",
    surfaceIds: [
      "maxcontact/lead-management-page",
      "maxcontact/import-leads-page",
      "maxcontact/callback-manager-page",
    ],
  },
  {
    id: "reports",
    title: "Reports",
    surfaceIds: [
      "iadvize/reports-tab",
      "maxcontact/report-viewer-page",
      "maxcontact/customreports-tab",
      "zoom-contact-center/analytics-tab",
      "zoom-contact-center/reports",
      "calabrio-one/data-explorer-reports",
    ],
  },
  {
    id: "administration",
    title: "Administration",
    surfaceIds: [
      "iadvize/people-tab",
      "iadvize/automation-tab",
      "zoom-contact-center/roles",
      "maxcontact/permissions-page",
      "calabrio-one/application-management-user-configuration-roles",
    ],
  },
]);

/** A section with the catalog's surfaces resolved. */
export interface ResolvedSection {
  readonly section: DesktopSection;
  readonly surfaces: readonly CatalogSurface[];
}

/** The desktop's sections with their surfaces from the catalog (each surface once, empty sections dropped). */
export function desktopSections(catalog: Catalog): ResolvedSection[] {
  const placed = new Set<string>();
  const out: ResolvedSection[] = [];
  for (const section of DESKTOP_SECTIONS) {
    const surfaces: CatalogSurface[] = [];
    const add = (s: CatalogSurface | undefined) => {
      if (s && !placed.has(s.id)) {
        placed.add(s.id);
        surfaces.push(s);
      }
    };
    for (const id of section.surfaceIds) add(catalog.surfaces.get(id));
    if (section.alsoWhere) for (const s of catalog.surfaces.values()) if (section.alsoWhere(s)) add(s);
    if (surfaces.length > 0) out.push({ section, surfaces });
  }
  return out;
}

/** Every surface id the desktop can show, in page order. */
export function desktopSurfaceIds(catalog: Catalog): string[] {
  return desktopSections(catalog).flatMap((r) => r.surfaces.map((s) => s.id));
}
