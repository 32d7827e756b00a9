/**
 * Feature: keeps the overlay current. DOM changes rescan the page (debounced, since apps mutate
 * in bursts); a changed URL (single-page apps) or the tab becoming visible again asks anew, and so
 * does a policy change (the revision is polled while the page is visible).
 */
import type { OverlayStore } from "./overlay-store.js";

/** How long the DOM must be quiet before a rescan. */
export const RESCAN_DEBOUNCE_MS = 200;

/** How often a visible page asks whether the policy moved (an admin's change shows within this). */
export const POLICY_POLL_MS = 2_000;

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
  // Polling the revision (not holding a WatchPolicy stream) survives the service worker's restarts.
  const poll = setInterval(() => {
    if (document.visibilityState === "visible") void store.followPolicy();
  }, POLICY_POLL_MS);
  signal.addEventListener(
    "abort",
    () => {
      observer.disconnect();
      clearTimeout(timer);
      clearInterval(poll);
    },
    { once: true },
  );
}
