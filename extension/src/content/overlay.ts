/**
 * The overlay: one shadow-root host, a store of the page's surfaces, and the features drawing
 * from it. Aborting the signal removes the host and every listener: no trace on the page.
 */
import type { Subject } from "../messages.js";
import { init as initMissingList } from "./missing-list.js";
import { createOverlayHost } from "./overlay-host.js";
import { createOverlayStore } from "./overlay-store.js";
import { init as initPageWatch } from "./page-watch.js";
import { init as initSurfaceBadges } from "./surface-badges.js";

/** Shows the overlay for the page's subject until `signal` aborts. */
export function init(signal: AbortSignal, subject: Subject): void {
  const { host, root } = createOverlayHost(signal);
  const store = createOverlayStore(subject, host, signal);
  initSurfaceBadges(signal, root, store);
  initMissingList(signal, root, store);
  initPageWatch(signal, store);
  void store.refresh();
}
