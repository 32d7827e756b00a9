/**
 * Feature: an outline and a badge over every surface shown on the page, green when the page's user
 * is allowed it, red when not (an element the app shows although the user is denied it is a bug
 * worth seeing). Redrawn on scroll and resize; the badge's tooltip explains the decision.
 */
import type { OverlayStore } from "./overlay-store.js";
import { explainSurface } from "./surface-text.js";

/** Draws badges into `root` until `signal` aborts. */
export function init(signal: AbortSignal, root: ShadowRoot, store: OverlayStore): void {
  const layer = document.createElement("div");
  layer.className = "layer";
  root.append(layer);

  const draw = () => {
    // Redraws replace the badges: keep the keyboard focus on the same surface's badge.
    const focused = (root.activeElement as HTMLElement | null)?.dataset?.surface;
    layer.replaceChildren();
    for (const { surface, elements } of store.state.placed) {
      const decision = surface.allowed ? "allowed" : "denied";
      for (const el of elements) {
        const rect = el.getBoundingClientRect();
        if (rect.bottom < 0 || rect.right < 0 || rect.top > innerHeight || rect.left > innerWidth) continue;
        const box = document.createElement("div");
        box.className = `box ${decision}`;
        Object.assign(box.style, {
          left: `${rect.left}px`,
          top: `${rect.top}px`,
          width: `${rect.width}px`,
          height: `${rect.height}px`,
        });
        // A button: reachable with Tab, named for screen readers, and showing its explanation on focus.
        const badge = document.createElement("button");
        badge.type = "button";
        badge.className = "badge";
        badge.dataset.surface = surface.surfaceId;
        badge.dataset.decision = decision;
        badge.textContent = `${surface.allowed ? "✓" : "✕"} ${surface.label}`;
        badge.title = explainSurface(surface);
        badge.setAttribute(
          "aria-label",
          `${surface.label}: ${surface.allowed ? "allowed" : `denied, ${surface.reason}`}. ${badge.title.split("\n").slice(1).join(". ")}`,
        );
        // Above the element when there is room, inside its top edge otherwise.
        Object.assign(badge.style, {
          left: `${Math.max(0, rect.left)}px`,
          top: `${rect.top >= 20 ? rect.top - 19 : Math.max(0, rect.top)}px`,
        });
        layer.append(box, badge);
        if (focused === surface.surfaceId && root.activeElement !== badge)
          badge.focus({ preventScroll: true });
      }
    }
  };

  let frame = 0;
  const schedule = () => {
    if (frame === 0) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        draw();
      });
    }
  };
  // Capture: scrolls of inner containers do not bubble to window.
  addEventListener("scroll", schedule, { capture: true, passive: true, signal });
  addEventListener("resize", schedule, { passive: true, signal });
  signal.addEventListener("abort", () => cancelAnimationFrame(frame), { once: true });
  store.subscribe(draw, signal);
  draw();
}
