/**
 * The popup: whose view it is (`?subject=` first, then the active tab's page, then the last
 * subject the overlay saw), their roles, licenses and every effective permission grouped by
 * system and category, a filter, an explanation on click, "view as", and the overlay switch.
 * Every sidecar answer comes through the background.
 */
import browser from "webextension-polyfill";
import {
  type EffectiveView,
  type ExplanationView,
  formatSubject,
  type PermissionView,
  parseSubject,
  type Subject,
  type TraceView,
} from "./messages.js";
import { ask } from "./send.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Shows one message (error or notice) above the list, replacing the previous one. */
function showMessage(kind: "error" | "notice", text: string): void {
  const box = el("div", kind, text);
  if (kind === "error") {
    box.dataset.error = "";
    box.setAttribute("role", "alert");
  }
  $("messages").replaceChildren(box);
}

/** The page's subject in the active tab, asked of its content script; null when there is none. */
async function activeTabSubject(): Promise<Subject | undefined> {
  try {
    const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
    if (tab?.id === undefined) return undefined;
    const reply = (await browser.tabs.sendMessage(tab.id, { type: "getSubject" })) as
      | { ok: true; value: { subject: string | null } }
      | undefined;
    return parseSubject(reply?.value.subject);
  } catch {
    return undefined; // no content script there (chrome:// page, another host, the popup opened as a tab)
  }
}

function chips(container: HTMLElement, items: readonly string[], empty: string): void {
  container.replaceChildren(
    ...(items.length > 0 ? items.map((i) => el("span", "chip", i)) : [el("span", "muted", empty)]),
  );
}

function traceList(steps: readonly TraceView[]): HTMLUListElement {
  const ul = el("ul", "trace");
  for (const step of steps) {
    const li = el("li", "trace-step");
    li.append(
      el("span", step.ok ? "ok" : "fail", step.ok ? "✓ " : "✕ "),
      el("strong", undefined, step.label || step.kind),
    );
    if (step.detail) li.append(document.createTextNode(` — ${step.detail}`));
    if (step.children.length > 0) li.append(traceList(step.children));
    ul.append(li);
  }
  return ul;
}

function explanationBox(x: ExplanationView): HTMLElement {
  const box = el("div", "explanation");
  box.dataset.explanation = x.permission;
  box.append(
    el(
      "div",
      "summary",
      x.summary || `${x.allowed ? "allowed" : "denied"}${x.reason ? ` — ${x.reason}` : ""}`,
    ),
  );
  if (x.missing.length > 0) box.append(el("div", "why", `missing: ${x.missing.join(", ")}`));
  if (x.trace.length > 0) box.append(traceList(x.trace));
  return box;
}

let subject: Subject | undefined;

async function toggleExplanation(li: HTMLLIElement, p: PermissionView): Promise<void> {
  const next = li.nextElementSibling;
  if (next instanceof HTMLElement && next.dataset.explanation === p.permission) {
    next.remove();
    return;
  }
  if (!subject) return;
  const pending = el("div", "explanation muted", "Asking the sidecar why…");
  pending.dataset.explanation = p.permission;
  li.after(pending);
  const reply = await ask({ type: "explain", subject, permission: p.permission });
  if (reply.ok) pending.replaceWith(explanationBox(reply.value));
  else {
    pending.textContent = reply.error;
    pending.dataset.error = "";
    pending.className = "explanation error";
  }
}

function permissionItem(p: PermissionView): HTMLLIElement {
  const li = el("li");
  li.dataset.permission = p.permission;
  li.dataset.allowed = String(p.allowed);
  li.dataset.search = `${p.permission} ${p.name} ${p.category} ${p.system}`.toLowerCase();
  li.tabIndex = 0;
  li.setAttribute("role", "button");
  li.title = p.allowed
    ? `allowed${p.grantedByRoleIds.length > 0 ? ` — granted by ${p.grantedByRoleIds.join(", ")}` : ""}`
    : `denied — ${p.reason}${p.missing.length > 0 ? `; missing ${p.missing.join(", ")}` : ""}`;
  li.append(el("span", "mark", p.allowed ? "✓" : "✕"), el("span", "name", p.name));
  if (!p.allowed && p.reason) li.append(el("span", "why", p.reason));
  const localKey = p.permission.slice(p.system.length + 1) || p.permission;
  // Systems whose names are their keys (CxEngage) would show the same word twice.
  if (localKey !== p.name) li.append(el("span", "key", localKey));
  const open = () => void toggleExplanation(li, p);
  li.addEventListener("click", open);
  li.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      open();
    }
  });
  return li;
}

/** Groups by system, then category, both in the order the sidecar listed them. */
function renderPermissions(view: EffectiveView): void {
  const bySystem = new Map<string, Map<string, PermissionView[]>>();
  for (const p of view.permissions) {
    const categories = bySystem.get(p.system) ?? new Map<string, PermissionView[]>();
    bySystem.set(p.system, categories);
    categories.set(p.category, [...(categories.get(p.category) ?? []), p]);
  }
  const main = $("permissions");
  main.replaceChildren();
  for (const [system, categories] of bySystem) {
    const all = [...categories.values()].flat();
    const details = el("details", "system");
    details.open = true;
    details.dataset.system = system;
    details.append(
      el("summary", undefined, `${system} · ${all.filter((p) => p.allowed).length} of ${all.length} allowed`),
    );
    for (const [category, perms] of categories) {
      const section = el("section", "category");
      section.append(el("h3", undefined, category || "uncategorized"));
      const ul = el("ul", "perms");
      ul.append(...perms.map(permissionItem));
      section.append(ul);
      details.append(section);
    }
    main.append(details);
  }
  applyFilter();
}

/** Hides permissions not matching the filter box and the allowed/denied choice, and empty groups. */
function applyFilter(): void {
  const words = $<HTMLInputElement>("filter").value.toLowerCase().split(/\s+/).filter(Boolean);
  const show = $<HTMLSelectElement>("show").value;
  let visible = 0;
  let total = 0;
  for (const li of document.querySelectorAll<HTMLLIElement>("li[data-permission]")) {
    total++;
    const text = li.dataset.search ?? "";
    const ok =
      words.every((w) => text.includes(w)) &&
      (show === "all" || (show === "allowed") === (li.dataset.allowed === "true"));
    li.hidden = !ok;
    const next = li.nextElementSibling;
    if (next instanceof HTMLElement && next.dataset.explanation) next.hidden = !ok;
    if (ok) visible++;
  }
  for (const section of document.querySelectorAll<HTMLElement>("section.category")) {
    section.hidden = section.querySelector("li[data-permission]:not([hidden])") === null;
  }
  for (const details of document.querySelectorAll<HTMLElement>("details.system")) {
    details.hidden = details.querySelector("li[data-permission]:not([hidden])") === null;
  }
  $("counts").textContent = `${visible} of ${total}`;
}

async function load(next: Subject, source: string): Promise<void> {
  subject = next;
  $("subject").textContent = formatSubject(next);
  $("subject").dataset.subject = formatSubject(next);
  $("subject-source").textContent = source;
  $<HTMLInputElement>("view-as-input").value = formatSubject(next);
  $("messages").replaceChildren(el("div", "notice muted", "Asking the sidecar…"));
  const reply = await ask({ type: "listEffective", subject: next });
  if (subject !== next) return; // a newer "view as" won
  if (!reply.ok) {
    showMessage("error", reply.error);
    $("identity").hidden = true;
    $("tools").hidden = true;
    $("permissions").replaceChildren();
    return;
  }
  $("messages").replaceChildren();
  chips($("roles"), reply.value.roleIds, "no roles");
  chips($("licenses"), reply.value.licenseIds, "no licenses");
  $("identity").hidden = false;
  $("tools").hidden = false;
  $("revision").textContent = `revision ${reply.value.revision}`;
  if (reply.value.permissions.length === 0)
    showMessage("notice", `${formatSubject(next)} has no permissions listed.`);
  renderPermissions(reply.value);
}

async function main(): Promise<void> {
  $("filter").addEventListener("input", applyFilter);
  $("show").addEventListener("change", applyFilter);
  $("view-as").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $<HTMLInputElement>("view-as-input").value;
    const next = parseSubject(text);
    if (next) void load(next, "(view as)");
    else showMessage("error", `'${text}' is not TENANT/USER (for example demo/dave)`);
  });

  const toggle = $<HTMLInputElement>("overlay-toggle");
  toggle.addEventListener("change", async () => {
    const reply = await ask({ type: "setOverlayEnabled", enabled: toggle.checked });
    if (!reply.ok) showMessage("error", reply.error);
  });

  const state = await ask({ type: "getState" });
  if (state.ok) toggle.checked = state.value.overlayEnabled;

  const fromQuery = parseSubject(new URLSearchParams(location.search).get("subject"));
  if (fromQuery) return load(fromQuery, "(from the address)");
  const fromTab = await activeTabSubject();
  if (fromTab) return load(fromTab, "(this page's user)");
  const last = state.ok ? parseSubject(state.value.lastSubject) : undefined;
  if (last) return load(last, "(last page seen)");
  $("subject").textContent = "nobody yet";
  showMessage("notice", "Open a page that declares its user, or type TENANT/USER under View as.");
  if (!state.ok) showMessage("error", state.error);
}

void main();
