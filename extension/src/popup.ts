/**
 * The popup: whose view it is (`?subject=` first, then the active tab's page, then the last
 * subject the overlay saw), their roles, licenses and every effective permission grouped by
 * system and category with the source of each right, a filter, an explanation with ranked fixes
 * on click, "view as", "Compare with…", "History", "Export CSV", and the overlay switch. It
 * redraws when the policy moves. Every sidecar answer comes through the background.
 */
import browser from "webextension-polyfill";
import {
  type EffectiveView,
  formatSubject,
  type PermissionView,
  parseSubject,
  type Subject,
} from "./messages.js";
import { showComparison } from "./popup/compare.js";
import { $, el, messageBox, showMessage } from "./popup/dom.js";
import { explanationBox } from "./popup/explanation.js";
import { exportCsv, showHistory } from "./popup/history.js";
import { parseWrite, previewBox } from "./popup/preview.js";
import { ask } from "./send.js";

/** How often the open popup asks whether the policy moved. */
const POLICY_POLL_MS = 2_000;

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

function chips(
  container: HTMLElement,
  items: readonly { text: string; title: string }[],
  empty: string,
): void {
  container.replaceChildren(
    ...(items.length > 0
      ? items.map((i) => {
          const chip = el("span", "chip", i.text);
          chip.title = i.title;
          return chip;
        })
      : [el("span", "muted", empty)]),
  );
}

let subject: Subject | undefined;
let shownRevision: string | undefined;

async function toggleExplanation(li: HTMLLIElement, p: PermissionView): Promise<void> {
  const next = li.nextElementSibling;
  if (next instanceof HTMLElement && next.dataset.explanation === p.permission) {
    next.remove();
    li.setAttribute("aria-expanded", "false");
    return;
  }
  if (!subject) return;
  const pending = el("div", "explanation muted", "Asking the sidecar why…");
  pending.dataset.explanation = p.permission;
  li.after(pending);
  li.setAttribute("aria-expanded", "true");
  const asked = subject;
  const reply = await ask({ type: "explain", subject: asked, permission: p.permission });
  if (reply.ok) pending.replaceWith(await explanationBox(asked, reply.value));
  else {
    pending.textContent = reply.error;
    pending.dataset.error = "";
    pending.className = "explanation error";
  }
}

/** Where a right comes from: roles, licenses, requirement. */
function sourceText(p: PermissionView): string {
  const parts = [
    p.grantedBy.length > 0 ? `role ${p.grantedBy.map((r) => r.name).join(", ")}` : "",
    p.licensedBy.length > 0 ? `license ${p.licensedBy.join(", ")}` : "",
    p.requirement ? `requires ${p.requirement}` : "",
  ];
  return parts.filter(Boolean).join(" · ");
}

function permissionItem(p: PermissionView): HTMLLIElement {
  const li = el("li");
  li.dataset.permission = p.permission;
  li.dataset.allowed = String(p.allowed);
  li.dataset.search = `${p.permission} ${p.name} ${p.category} ${p.system}`.toLowerCase();
  li.tabIndex = 0;
  li.setAttribute("role", "button");
  li.setAttribute("aria-expanded", "false");
  const source = sourceText(p);
  li.title = p.allowed
    ? `allowed${source ? ` — ${source}` : ""}`
    : `denied — ${p.reason}${p.missing.length > 0 ? `; missing ${p.missing.join(", ")}` : ""}`;
  li.append(el("span", "mark", p.allowed ? "✓" : "✕"), el("span", "name", p.name));
  if (!p.allowed && p.reason) li.append(el("span", "why", p.reason));
  const localKey = p.permission.slice(p.system.length + 1) || p.permission;
  // Systems whose names are their keys (CxEngage) would show the same word twice.
  if (localKey !== p.name) li.append(el("span", "key", localKey));
  if (p.allowed && source) {
    const s = el("span", "source", source);
    s.dataset.source = "";
    li.append(s);
  }
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

function clearSubjectViews(): void {
  $("identity").hidden = true;
  $("tools").hidden = true;
  $("analyzer").hidden = true;
  $("permissions").replaceChildren();
}

/** One message for a user the tenant lacks, with the nearest user to view instead. */
function showUnknownUser(tenantId: string, unknown: NonNullable<EffectiveView["unknownUser"]>): void {
  const box = showMessage("error", unknown.message);
  box.dataset.unknownUser = "";
  if (unknown.suggestion) {
    const suggested = { tenantId, userId: unknown.suggestion };
    const button = el("button", "small", `View as ${formatSubject(suggested)}`);
    button.type = "button";
    button.dataset.suggestion = formatSubject(suggested);
    button.addEventListener("click", () => void load(suggested, "(suggested)"));
    box.append(" ", button);
  }
}

/** Loads `next`'s view; `quiet` keeps the current view on screen while asking (a policy redraw). */
async function load(next: Subject, source: string, quiet = false): Promise<void> {
  subject = next;
  $("subject").textContent = formatSubject(next);
  $("subject").dataset.subject = formatSubject(next);
  $("subject-source").textContent = source;
  $<HTMLInputElement>("view-as-input").value = formatSubject(next);
  if (!quiet) $("messages").replaceChildren(el("div", "notice muted", "Asking the sidecar…"));
  const reply = await ask({ type: "listEffective", subject: next });
  if (subject !== next) return; // a newer "view as" won
  if (!reply.ok) {
    showMessage("error", reply.error);
    clearSubjectViews();
    return;
  }
  shownRevision = reply.value.revision;
  $("revision").textContent = `revision ${reply.value.revision}`;
  $("revision").dataset.revision = reply.value.revision;
  if (reply.value.unknownUser) {
    clearSubjectViews();
    showUnknownUser(next.tenantId, reply.value.unknownUser);
    return;
  }
  $("messages").replaceChildren();
  chips(
    $("roles"),
    reply.value.roles.map((r) => ({ text: r.name, title: r.id })),
    "no roles",
  );
  chips(
    $("licenses"),
    reply.value.licenseIds.map((l) => ({ text: l, title: l })),
    "no licenses",
  );
  $("identity").hidden = false;
  $("tools").hidden = false;
  $("analyzer").hidden = false;
  if (reply.value.permissions.length === 0)
    showMessage("notice", `${formatSubject(next)} has no permissions listed.`);
  // Open explanations stay open across a policy redraw (not across another user's view).
  const open = quiet
    ? [...document.querySelectorAll<HTMLElement>("[data-explanation]")].map((e) => e.dataset.explanation)
    : [];
  renderPermissions(reply.value);
  for (const key of open) {
    const li = document.querySelector<HTMLLIElement>(`li[data-permission="${CSS.escape(key ?? "")}"]`);
    const p = reply.value.permissions.find((x) => x.permission === key);
    if (li && p) void toggleExplanation(li, p);
  }
}

/** Redraws when the sidecar's revision moved past the one shown. */
function followPolicy(): void {
  setInterval(async () => {
    if (!subject || shownRevision === undefined || document.visibilityState !== "visible") return;
    const reply = await ask({ type: "policyRevision", tenantId: subject.tenantId });
    if (reply.ok && reply.value.revision !== shownRevision)
      await load(subject, $("subject-source").textContent ?? "", true);
  }, POLICY_POLL_MS);
}

function wireAnalyzer(): void {
  $("compare-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!subject) return;
    const typed = $<HTMLInputElement>("compare-input").value.trim();
    const slash = typed.indexOf("/");
    // TENANT/USER is accepted for the subject's own tenant: users compare within one tenant.
    if (slash >= 0 && typed.slice(0, slash) !== subject.tenantId) {
      $("analysis").replaceChildren(
        messageBox("error", `${typed} is in another tenant: compare users of ${subject.tenantId} only`),
      );
      return;
    }
    const other = typed.slice(slash + 1);
    if (other === "") {
      $("analysis").replaceChildren(messageBox("error", "Type the id of the user to compare with."));
      return;
    }
    void showComparison($("analysis"), subject, other);
  });
  $("history-button").addEventListener("click", () => subject && void showHistory($("analysis"), subject));
  $("export-csv").addEventListener("click", () => subject && void exportCsv($("analysis"), subject.tenantId));
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
  wireAnalyzer();

  const toggle = $<HTMLInputElement>("overlay-toggle");
  toggle.addEventListener("change", async () => {
    const reply = await ask({ type: "setOverlayEnabled", enabled: toggle.checked });
    if (!reply.ok) showMessage("error", reply.error);
  });

  const state = await ask({ type: "getState" });
  if (state.ok) toggle.checked = state.value.overlayEnabled;
  followPolicy();

  const params = new URLSearchParams(location.search);
  const fromQuery = parseSubject(params.get("subject"));
  if (fromQuery) {
    // The overlay's "Preview change" opens the popup as a tab with the fix to preview.
    const write = parseWrite(params.get("preview"));
    if (write) $("analysis").replaceChildren(previewBox(fromQuery, write, params.get("fix") ?? ""));
    return load(fromQuery, "(from the address)");
  }
  const fromTab = await activeTabSubject();
  if (fromTab) return load(fromTab, "(this page's user)");
  const last = state.ok ? parseSubject(state.value.lastSubject) : undefined;
  if (last) return load(last, "(last page seen)");
  $("subject").textContent = "nobody yet";
  showMessage("notice", "Open a page that declares its user, or type TENANT/USER under View as.");
  if (!state.ok) showMessage("error", state.error);
}

void main();
