/**
 * A permission's explanation under its row: the one-line summary, the trace, and for a denial
 * the ranked fixes, each with "Preview change". In the explanation of an *allowed* permission a
 * role that does not grant it is a neutral fact, not a failure: it gets no red mark.
 */
import type { ExplanationView, FixView, Subject, TraceView } from "../messages.js";
import { ask } from "../send.js";
import { el, messageBox } from "./dom.js";
import { previewBox } from "./preview.js";

function traceList(steps: readonly TraceView[], allowed: boolean): HTMLUListElement {
  const ul = el("ul", "trace");
  for (const step of steps) {
    const li = el("li", "trace-step");
    const kind = step.ok ? "ok" : allowed ? "neutral" : "fail";
    li.dataset.mark = kind;
    li.append(
      el("span", kind, step.ok ? "✓ " : allowed ? "· " : "✕ "),
      el("strong", undefined, step.label || step.kind),
    );
    if (step.detail) li.append(document.createTextNode(` — ${step.detail}`));
    if (step.children.length > 0) li.append(traceList(step.children, allowed));
    ul.append(li);
  }
  return ul;
}

function fixItem(subject: Subject, fix: FixView, rank: number): HTMLLIElement {
  const li = el("li");
  li.dataset.fix = fix.kind;
  li.append(el("span", undefined, `${rank === 0 ? "Smallest fix: " : ""}${fix.text} `));
  // "Preview change" only for a principal allowed to make the change: the sidecar is asked first.
  li.dataset.previewPermission = "pending";
  void ask({ type: "mayPreview", subject, write: fix.write }).then((reply) => {
    const allowed = reply.ok && reply.value.allowed;
    li.dataset.previewPermission = allowed ? "allowed" : "denied";
    if (!allowed) return;
    const button = el("button", "small", "Preview change");
    button.type = "button";
    button.dataset.preview = "";
    button.setAttribute("aria-label", `Preview change: ${fix.text}`);
    button.addEventListener("click", () => {
      li.querySelector(".preview")?.remove();
      li.append(previewBox(subject, fix.write, fix.text));
    });
    li.querySelector(":scope > span")!.after(button);
  });
  return li;
}

async function fixesSection(subject: Subject, permission: string): Promise<HTMLElement> {
  const section = el("div", "fixes");
  section.dataset.fixes = permission;
  const reply = await ask({ type: "fixes", subject, permission });
  if (!reply.ok) {
    section.append(messageBox("error", reply.error));
    return section;
  }
  if (reply.value.length === 0) {
    section.append(
      el("div", "muted", "No fix found from the tenant's roles (or the token may not list them)."),
    );
    return section;
  }
  section.append(el("div", "caption", "Fixes, fewest side effects first"));
  const ol = el("ol", "fix-list");
  for (const [i, fix] of reply.value.entries()) ol.append(fixItem(subject, fix, i));
  section.append(ol);
  return section;
}

/** The explanation box, with fixes for a denial. */
export async function explanationBox(subject: Subject, x: ExplanationView): Promise<HTMLElement> {
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
  if (x.trace.length > 0) box.append(traceList(x.trace, x.allowed));
  if (!x.allowed) box.append(await fixesSection(subject, x.permission));
  return box;
}
