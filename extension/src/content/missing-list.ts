/**
 * Feature: the overlay's panel. Says whose view it is, and lists under "Not on this page" every
 * surface registered for the URL that the page does not show, with the cause, the licenses and
 * their free seats, and the smallest fix: the answer to "why can't Dave see the Contact
 * Management panel?". Items are grouped by relevance (hidden by the page, denied in a system the
 * page shows, denied elsewhere, allowed but not rendered); only the first group starts open.
 */
import { formatSubject } from "../messages.js";
import type { MissingSurface, OverlayStore } from "./overlay-store.js";
import { decisionText, isAnyOf, licenseText, missingText } from "./surface-text.js";

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

function missingItem({ surface, why }: MissingSurface, store: OverlayStore): HTMLLIElement {
  const li = el("li", "");
  li.dataset.missingSurface = surface.surfaceId;
  li.append(el("strong", "", surface.label), document.createTextNode(` (${surface.surfaceId})`));
  const decision = el("div", `decision ${surface.allowed ? "allowed" : "denied"}`, decisionText(surface));
  decision.dataset.reason = surface.allowed ? "allowed" : surface.reason;
  li.append(decision);
  if (surface.licenses.length > 0) {
    const licenses = el("div", "licenses", licenseText(surface));
    licenses.dataset.licenses = "";
    li.append(licenses);
  }
  if (!surface.allowed && surface.missing.length > 0)
    li.append(el("div", "needs", `needs ${isAnyOf(surface) ? "one of " : ""}${missingText(surface)}`));
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
  } else if (surface.fixes[0]) {
    const best = surface.fixes[0];
    const fix = el("div", "fix", `Smallest fix: ${best.text}`);
    fix.dataset.fix = best.kind;
    // Offered only to a principal allowed to make the change: the sidecar is asked first.
    fix.dataset.previewPermission = "pending";
    void store.mayPreview(best.write).then((allowed) => {
      fix.dataset.previewPermission = allowed ? "allowed" : "denied";
      if (!allowed) return;
      const preview = el("button", "link", "Preview change");
      preview.type = "button";
      preview.dataset.preview = "";
      preview.setAttribute("aria-label", `Preview change: ${best.text}`);
      // The preview runs in an extension page: who else would gain what is not for the page to see.
      preview.addEventListener("click", () => store.openPreview(best.write, best.text));
      fix.append(" ", preview);
    });
    li.append(fix);
    const others = surface.fixes.slice(1);
    if (others.length > 0) li.append(el("div", "fix more", `Or: ${others.map((f) => f.text).join("; ")}`));
  } else if (surface.summary) {
    li.append(el("div", "fix", surface.summary));
  }
  return li;
}

/** A group of missing surfaces, by relevance. */
interface Group {
  readonly id: string;
  readonly title: string;
  readonly items: MissingSurface[];
}

/** Groups and orders the missing surfaces: those the page has (hidden) first, then denials near the page. */
export function groupMissing(missing: readonly MissingSurface[], systemsShown: ReadonlySet<string>): Group[] {
  const groups: Group[] = [
    { id: "hidden", title: "Hidden by the page", items: [] },
    { id: "denied-here", title: "Denied, in systems this page shows", items: [] },
    { id: "denied-elsewhere", title: "Denied, other systems", items: [] },
    { id: "allowed", title: "Allowed but not rendered", items: [] },
  ];
  const [hidden, here, elsewhere, allowed] = groups as [Group, Group, Group, Group];
  for (const m of missing) {
    if (m.why === "hidden") hidden.items.push(m);
    else if (m.surface.allowed) allowed.items.push(m);
    else if (systemsShown.has(m.surface.system)) here.items.push(m);
    else elsewhere.items.push(m);
  }
  // Nearest to allowed first: the fewest missing permissions, then by label.
  for (const g of groups)
    g.items.sort(
      (a, b) =>
        a.surface.missing.length - b.surface.missing.length || a.surface.label.localeCompare(b.surface.label),
    );
  return groups.filter((g) => g.items.length > 0);
}

/** Shows the panel in `root` until `signal` aborts. */
export function init(signal: AbortSignal, root: ShadowRoot, store: OverlayStore): void {
  const panel = el("section", "panel");
  panel.setAttribute("aria-label", "rolecall overlay");
  const header = el("header", "");
  const title = el("strong", "");
  const toggle = el("button", "collapse", "–");
  toggle.type = "button";
  const body = el("div", "body");
  body.id = "rolecall-panel-body";
  toggle.setAttribute("aria-controls", body.id);
  const setCollapsed = (collapsed: boolean) => {
    panel.classList.toggle("collapsed", collapsed);
    toggle.textContent = collapsed ? "+" : "–";
    toggle.setAttribute("aria-expanded", String(!collapsed));
    toggle.setAttribute(
      "aria-label",
      collapsed ? "Expand the rolecall panel" : "Collapse the rolecall panel",
    );
    toggle.title = toggle.getAttribute("aria-label") ?? "";
  };
  // A narrow window would be covered by the panel: it starts as its header only.
  setCollapsed(innerWidth < 480);
  toggle.addEventListener("click", () => setCollapsed(!panel.classList.contains("collapsed")), { signal });
  header.append(title, toggle);
  panel.append(header, body);
  root.append(panel);
  // Which groups the person opened or closed survives redraws.
  const openGroups = new Map<string, boolean>();

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
    if (page.unknownUser) {
      const p = el("p", "error", `${page.unknownUser}: check the user this page declares.`);
      p.dataset.error = "";
      p.dataset.unknownUser = "";
      body.append(p);
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
    if (missing.length === 0) {
      body.append(el("p", "muted", "Every surface registered for this page is shown."));
      return;
    }
    const list = el("div", "groups");
    list.dataset.missingList = "";
    const systemsShown = new Set(placed.map((p) => p.surface.system));
    for (const [i, group] of groupMissing(missing, systemsShown).entries()) {
      const details = el("details", "group");
      details.dataset.missingGroup = group.id;
      details.open = openGroups.get(group.id) ?? i === 0;
      details.addEventListener("toggle", () => openGroups.set(group.id, details.open), { signal });
      details.append(el("summary", "", `${group.title} (${group.items.length})`));
      const ul = el("ul", "");
      for (const m of group.items) ul.append(missingItem(m, store));
      details.append(ul);
      list.append(details);
    }
    body.append(list);
  };
  store.subscribe(render, signal);
  render();
}
