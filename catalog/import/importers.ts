/** The importer of each seed system: which document it reads and how it parses it. */
import type { SYSTEM_IDS, SystemFile } from "../schema.js";
import { calabrioOneImporter } from "./calabrio-one.js";
import { cxengageImporter } from "./cxengage.js";
import { iadvizeImporter } from "./iadvize.js";
import { maxcontactImporter } from "./maxcontact.js";
import { zoomContactCenterImporter } from "./zoom-contact-center.js";

/** Turns one vendor document into a system file (before overrides). */
export interface Importer {
  /** File name inside the seeds folder. */
  readonly seedFile: string;
  readonly parse: (text: string) => SystemFile;
}

/** Importers by system id; each lives in `catalog/import/<system>.ts`. */
export const IMPORTERS: Readonly<Record<(typeof SYSTEM_IDS)[number], Importer>> = {
  "calabrio-one": calabrioOneImporter,
  "zoom-contact-center": zoomContactCenterImporter,
  cxengage: cxengageImporter,
  maxcontact: maxcontactImporter,
  iadvize: iadvizeImporter,
};
