/**
 * Feature: the overlay's panel. Says whose view it is, and lists under "Not on this page" every
 * surface registered for the URL that the page does not show, with what is missing and the fix:
 * the answer to "why can't Dave see the Contact Management panel?".
 */
import { formatSubject } from "../messages.js";
import type { MissingSurface, OverlayStore } from "./overlay-store.js";
import { decisionText, missingText } from "./surface-text.js";

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function missingItem({ surface, why }: MissingSurface): HTMLLIElement {
  const li = el("li", "");
  li.dataset.missingSurface = surface.surfaceId;
  li.append(el("strong", "", surface.label), document.createTextNode(` (${surface.surfaceId})`));
  const decision = el("div", `decision ${surface.allowed ? "allowed" : "denied"}`, decisionText(surface));
  li.append(decision);
  if (!surface.allowed && surface.missing.length > 0)
    li.append(el("div", "needs", `needs ${missingText(surface)}`));
  else if (surface.requirement) li.append(el("div", "needs", `requires ${surface.requirement}`));
  if (surface.allowed) {
    li.append(
      el(
        "div",
        "fix",
        why === "hidden"
          ? "Allowed, but the page hides it (display:none or zero size)."
          : "Allowed, but nothing on the page matches it: check the app or the registered selector.",
      ),
    );
  } else if (surface.summary) {
    li.append(el("div", "fix", surface.summary));
  }
  return li;
}

/** Shows the panel in `root` until `signal` aborts. */
export function init(signal: AbortSignal, root: ShadowRoot, store: OverlayStore): void {
  const panel = el("section", "panel");
  panel.setAttribute("aria-label", "rolecall overlay");
  const header = el("header", "");
  const title = el("strong", "");
  const toggle = el("button", "", "–");
  toggle.type = "button";
  toggle.title = "Collapse or expand";
  toggle.addEventListener("click", () => panel.classList.toggle("collapsed"), { signal });
  header.append(title, toggle);
  const body = el("div", "body");
  panel.append(header, body);
  root.append(panel);

  const render = () => {
    const { subject, page, error, placed, missing } = store.state;
    title.textContent = `rolecall · viewing as ${formatSubject(subject)}`;
    title.dataset.subject = formatSubject(subject);
    body.replaceChildren();
    if (error) {
      const p = el("p", "error", error);
      p.dataset.error = "";
      body.append(p);
    }
    if (!page) {
      if (!error) body.append(el("p", "muted", "Asking the sidecar…"));
      return;
    }
    if (page.appId === "") {
      body.append(
        el(
          "p",
          "muted",
          "No rolecall app is registered for this page's address, so there is nothing to show.",
        ),
      );
      return;
    }
    const denied = placed.filter((p) => !p.surface.allowed).length;
    body.append(
      el(
        "p",
        "muted",
        `${placed.length} shown${denied > 0 ? ` (${denied} although denied)` : ""} · ${missing.length} not on this page · revision ${page.revision}`,
      ),
    );
    body.append(el("h3", "", `Not on this page (${missing.length})`));
    const list = el("ul", "");
    list.dataset.missingList = "";
    for (const m of missing) list.append(missingItem(m));
    if (missing.length === 0)
      body.append(el("p", "muted", "Every surface registered for this page is shown."));
    body.append(list);
  };
  store.subscribe(render, signal);
  render();
}
