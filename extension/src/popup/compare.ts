/**
 * "Compare with…": the subject beside another user of the tenant, differences first (the
 * sidecar's CompareUsers), each side's decision in the same words as the list, with the roles
 * that grant it.
 */
import type { ComparedRow, ComparisonView, Subject } from "../messages.js";
import { ask } from "../send.js";
import { el, messageBox } from "./dom.js";

function side(s: ComparedRow["user"]): string {
  if (!s.allowed) return `✕ ${s.reason || "denied"}`;
  return s.grantedBy.length > 0 ? `✓ via ${s.grantedBy.map((r) => r.name).join(", ")}` : "✓ allowed";
}

function table(
  view: ComparisonView,
  rows: readonly ComparedRow[],
  kind: "permission" | "surface",
): HTMLTableElement {
  const t = el("table", "compare");
  const head = el("tr");
  for (const h of [kind === "permission" ? "Permission" : "Surface", view.subject.userId, view.otherUserId]) {
    const th = el("th", undefined, h);
    th.scope = "col";
    head.append(th);
  }
  t.append(head);
  for (const r of rows) {
    const tr = el("tr");
    tr.dataset.compared = r.id;
    tr.dataset.differs = String(r.differs);
    const name = el("th", undefined, r.name);
    name.scope = "row";
    name.title = r.id;
    const user = el("td", r.user.allowed ? "yes" : "no", side(r.user));
    user.dataset.side = "user";
    const other = el("td", r.other.allowed ? "yes" : "no", side(r.other));
    other.dataset.side = "other";
    tr.append(name, user, other);
    t.append(tr);
  }
  return t;
}

/** Fills `into` with the comparison of `subject` and `otherUserId`. */
export async function showComparison(
  into: HTMLElement,
  subject: Subject,
  otherUserId: string,
): Promise<void> {
  into.replaceChildren(el("div", "notice muted", `Comparing ${subject.userId} with ${otherUserId}…`));
  const reply = await ask({ type: "compare", subject, otherUserId });
  if (!reply.ok) {
    into.replaceChildren(messageBox("error", reply.error));
    return;
  }
  const v = reply.value;
  const heading = el("h2", undefined, `${v.subject.userId} compared with ${v.otherUserId}`);
  const counts = el(
    "div",
    "muted",
    `${v.permissionDifferences} permission(s) and ${v.surfaceDifferences} surface(s) differ · revision ${v.revision}`,
  );
  counts.dataset.differences = String(v.permissionDifferences);
  into.replaceChildren(heading, counts);
  if (v.permissions.length === 0 && v.surfaces.length === 0) {
    into.append(el("div", "notice", "No differences: both users may do the same things."));
    return;
  }
  if (v.permissions.length > 0) into.append(table(v, v.permissions, "permission"));
  if (v.surfaces.length > 0) into.append(table(v, v.surfaces, "surface"));
}
