/**
 * HTML for the demo contact-center pages. Every value that reaches the markup goes through
 * `escapeHtml`, since `?as=` comes straight from the address bar.
 */
import type { CatalogSurface } from "../../../catalog/catalog.js";
import { pathForUrlPattern } from "./url-pattern.js";

/** Escapes text for HTML content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Where links go and who is signed in, for every page. */
export interface PageContext {
  /** Path prefix of the demo, e.g. `/demo`. */
  readonly basePath: string;
  /** `TENANT/USER` as given (or the default); always escaped before use. */
  readonly subject: string;
  /** Systems for the navigation bar. */
  readonly systems: readonly { readonly id: string; readonly name: string }[];
}

/** A demo link that keeps the signed-in user. */
export function demoHref(ctx: PageContext, path: string): string {
  return `${ctx.basePath}${path}?as=${encodeURIComponent(ctx.subject)}`;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1d2330;background:#eef1f6}
header.top{display:flex;gap:16px;align-items:center;padding:10px 20px;background:#1f3a5f;color:#fff;flex-wrap:wrap}
header.top a{color:#fff;text-decoration:none}
header.top .brand{font-weight:700;font-size:16px}
header.top nav{display:flex;gap:12px;flex-wrap:wrap}
header.top nav a{opacity:.85}
header.top form{margin-left:auto;display:flex;gap:6px;align-items:center}
header.top input{padding:3px 6px;border-radius:4px;border:0;width:140px}
main{padding:20px;display:grid;gap:18px;max-width:1200px}
section.area{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px #0002}
section.area>h2{margin:0 0 26px;font-size:15px;color:#1f3a5f}
.tabs{display:flex;gap:4px 12px;flex-wrap:wrap;border-bottom:2px solid #d6dce6;margin-bottom:10px}
.tab{padding:6px 12px;border-radius:6px 6px 0 0;background:#e3e8f0;color:#1d2330;text-decoration:none}
.toolbar{display:flex;gap:8px;margin:8px 0;flex-wrap:wrap}
button{font:inherit;padding:5px 12px;border-radius:5px;border:1px solid #9fb0c8;background:#f5f8fc;cursor:pointer}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:28px 12px;align-items:start;margin-top:26px}
.surface:has(table){grid-column:1/-1}
.surface{border:1px solid #d6dce6;border-radius:6px;padding:10px 12px;background:#fafbfd}
.surface h3{margin:0 0 4px;font-size:14px}
.where{color:#5a6578;font-size:12px;margin:0 0 6px}
.widget{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.metric{font-size:24px;font-weight:700;color:#1f3a5f}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #e3e8f0}
label{display:block;font-size:12px;color:#5a6578;margin-top:6px}
label input{display:block;width:100%;padding:4px 6px;border:1px solid #c5cfdd;border-radius:4px}
.empty{color:#5a6578;font-style:italic;margin:0}
.notice{background:#fff4e5;border:1px solid #f0c27a;border-radius:8px;padding:14px 16px}
main>h1{margin:0;font-size:20px}
footer{padding:0 20px 20px;color:#5a6578;font-size:12px}
`;

/** A whole page: head with the `rolecall-subject` meta tag, top bar, the given main content. */
export function renderPage(ctx: PageContext, title: string, main: string): string {
  const nav = ctx.systems.map(
    (s) => `<a href="${escapeHtml(demoHref(ctx, `/${s.id}/`))}">${escapeHtml(s.name)}</a>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="rolecall-subject" content="${escapeHtml(ctx.subject)}">
<title>${escapeHtml(title)} · Contact Center demo</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
<a class="brand" href="${escapeHtml(demoHref(ctx, "/"))}">Contact Center demo</a>
<nav>${nav.join("")}</nav>
<form method="get" action=""><span>Signed in as</span><input name="as" value="${escapeHtml(ctx.subject)}" aria-label="Signed-in user (TENANT/USER)"><button type="submit">Switch</button></form>
</header>
<main>
<h1>${escapeHtml(title)}</h1>
${main}
</main>
<footer>Rendered by the rolecall sidecar from its own decisions: an element the signed-in user may not see is not in the page at all.</footer>
</body>
</html>
`;
}

const SAMPLE_INTERACTIONS = [
  ["INT-20931", "Carol Diaz", "Voice", "09:12", "6m 41s"],
  ["INT-20932", "Dave Kim", "Chat", "09:20", "3m 05s"],
  ["INT-20937", "Alice Moreau", "Email", "09:44", "—"],
  ["INT-20940", "Dave Kim", "Voice", "10:02", "11m 17s"],
];

const SAMPLE_LEADS = [
  ["Northwind Traders", "Renewal", "Callback 14:00"],
  ["Contoso Ltd", "New business", "Dialled twice"],
  ["Fabrikam", "Upsell", "Interested"],
];

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

/** Believable content for the surfaces people ask about; other surfaces get a generic body. */
function sampleBody(surface: CatalogSurface): string {
  const local = surface.id.slice(surface.system.length + 1);
  if (surface.id === "cxengage/contact-management-panel") {
    return `<div class="contact-form"><label>Name<input value="Jordan Avery"></label><label>Phone<input value="+1 555 0142"></label><label>Email<input value="jordan.avery@example.com"></label><div class="toolbar"><button type="button">Save contact</button><button type="button">Merge…</button></div></div>`;
  }
  if (/interactions$/.test(local)) {
    return table(["Interaction", "Agent", "Channel", "Started", "Duration"], SAMPLE_INTERACTIONS);
  }
  if (/lead-management/.test(local)) return table(["Account", "Campaign", "Status"], SAMPLE_LEADS);
  if (/wallboard/.test(local) || /live-queues/.test(local)) {
    return `<div class="widget"><span class="metric">12</span>waiting · <span class="metric">3:41</span>longest wait · <span class="metric">94%</span>SLA</div>`;
  }
  return `<p class="empty">Sample content of ${escapeHtml(surface.label)}.</p>`;
}

/** One surface as the element the app would render, tagged with `data-rolecall-surface`. */
export function renderSurface(ctx: PageContext, surface: CatalogSurface, linkToPage: boolean): string {
  const tag = `data-rolecall-surface="${escapeHtml(surface.id)}"`;
  const label = escapeHtml(surface.label);
  switch (surface.kind) {
    case "tab":
      return `<a class="tab" role="tab" ${tag} href="${escapeHtml(demoHref(ctx, pathForUrlPattern(surface.urlPattern)))}">${label}</a>`;
    case "button":
    case "menu-item":
      return `<button type="button" class="action" ${tag}>${label}</button>`;
    case "widget":
      return `<div class="surface widget" ${tag}><span class="metric">${(surface.id.length * 7) % 97}</span><span>${label}</span></div>`;
    default: {
      const open = linkToPage
        ? ` <a href="${escapeHtml(demoHref(ctx, pathForUrlPattern(surface.urlPattern)))}">Open</a>`
        : "";
      return `<div class="surface ${escapeHtml(surface.kind)}" ${tag}><h3>${label}${open}</h3><p class="where">${escapeHtml(surface.location)}</p>${sampleBody(surface)}</div>`;
    }
  }
}

/** A titled area holding surfaces: tabs on top, then actions, then the rest in a grid. */
export function renderArea(
  ctx: PageContext,
  id: string,
  title: string,
  surfaces: readonly CatalogSurface[],
  linkToPages: boolean,
): string {
  const tabs = surfaces.filter((s) => s.kind === "tab");
  const actions = surfaces.filter((s) => s.kind === "button" || s.kind === "menu-item");
  const rest = surfaces.filter((s) => !tabs.includes(s) && !actions.includes(s));
  const parts: string[] = [];
  if (tabs.length > 0)
    parts.push(`<nav class="tabs">${tabs.map((s) => renderSurface(ctx, s, false)).join("")}</nav>`);
  if (actions.length > 0) {
    parts.push(`<div class="toolbar">${actions.map((s) => renderSurface(ctx, s, false)).join("")}</div>`);
  }
  if (rest.length > 0)
    parts.push(`<div class="grid">${rest.map((s) => renderSurface(ctx, s, linkToPages)).join("")}</div>`);
  if (parts.length === 0) parts.push(`<p class="empty">Nothing to show here.</p>`);
  return `<section class="area" id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2>${parts.join("")}</section>`;
}

/** A page's main content for a notice (unknown user, bad address) instead of surfaces. */
export function renderNotice(message: string): string {
  return `<div class="notice" role="status">${escapeHtml(message)}</div>`;
}
