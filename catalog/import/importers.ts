/** The importer of each seed system: which document it reads and how it parses it. */
import type { SYSTEM_IDS, SystemFile } from "../schema.js";

/** Turns one vendor document into a system file (before overrides). */
export interface Importer {
  /** File name inside the seeds folder. */
  readonly seedFile: string;
  readonly parse: (text: string) => SystemFile;
}

/**
 * Importers by system id, each in `catalog/import/<system>.ts`, loaded on demand so importing one
 * system never depends on the others.
 */
export const IMPORTERS: Readonly<Record<(typeof SYSTEM_IDS)[number], () => Promise<Importer>>> = {
  "calabrio-one": async () => (await import("./calabrio-one.js")).calabrioOneImporter,
  "zoom-contact-center": async () => (await import("./zoom-contact-center.js")).zoomContactCenterImporter,
  cxengage: async () => (await import("./cxengage.js")).cxengageImporter,
  maxcontact: async () => (await import("./maxcontact.js")).maxcontactImporter,
  iadvize: async () => (await import("./iadvize.js")).iadvizeImporter,
};
