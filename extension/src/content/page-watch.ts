/**
 * Feature: keeps the overlay current. DOM changes rescan the page (debounced, since apps mutate
 * in bursts); a changed URL (single-page apps) or the tab becoming visible again asks anew.
 */
import type { OverlayStore } from "./overlay-store.js";

/** How long the DOM must be quiet before a rescan. */
export const RESCAN_DEBOUNCE_MS = 200;

/** Watches the page until `signal` aborts. */
export function init(signal: AbortSignal, store: OverlayStore): void {
  let lastUrl = location.href;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settle = () => {
    timer = undefined;
    if (location.href !== lastUrl) {
      lastUrl = location.href;
      void store.refresh();
    } else {
      store.rescan();
    }
  };
  const observer = new MutationObserver((records) => {
    // Our own host being added or removed is not a change of the page.
    if (
      records.every(
        (r) => r.target === store.host || [...r.addedNodes, ...r.removedNodes].every((n) => n === store.host),
      )
    ) {
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(settle, RESCAN_DEBOUNCE_MS);
  });
  observer.observe(document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["class", "style", "hidden", "data-rolecall-surface"],
  });
  addEventListener("popstate", settle, { signal });
  document.addEventListener(
    "visibilitychange",
    () => {
      if (document.visibilityState === "visible") void store.refresh();
    },
    { signal },
  );
  signal.addEventListener(
    "abort",
    () => {
      observer.disconnect();
      clearTimeout(timer);
    },
    { once: true },
  );
}
