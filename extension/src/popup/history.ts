/**
 * "History" (the user's access changes, newest first, from ListAccessChanges) and "Export CSV"
 * (the tenant's access review from the sidecar's HTTP listener, saved as a download). A sidecar
 * without either says so in one sentence.
 */
import type { Subject } from "../messages.js";
import { ask } from "../send.js";
import { el, localKey, messageBox } from "./dom.js";

/** Fills `into` with the subject's access changes. */
export async function showHistory(into: HTMLElement, subject: Subject): Promise<void> {
  into.replaceChildren(el("div", "notice muted", "Reading the history…"));
  const reply = await ask({ type: "history", subject });
  if (!reply.ok) {
    into.replaceChildren(messageBox("error", reply.error));
    return;
  }
  const heading = el("h2", undefined, `Access changes of ${subject.userId}, newest first`);
  if (reply.value.length === 0) {
    into.replaceChildren(
      heading,
      el("div", "notice", "No change to this user's access in the history kept."),
    );
    return;
  }
  const ol = el("ol", "history");
  for (const ch of reply.value) {
    const li = el("li");
    li.dataset.historyRevision = ch.revision;
    li.append(
      el("div", "muted", `revision ${ch.revision} · ${ch.time} · ${ch.actor} · ${ch.operation}`),
      el("div", undefined, ch.summary),
    );
    if (ch.gained.length > 0) li.append(el("div", "gained", `gained ${ch.gained.map(localKey).join(", ")}`));
    if (ch.lost.length > 0) li.append(el("div", "lost", `lost ${ch.lost.map(localKey).join(", ")}`));
    ol.append(li);
  }
  into.replaceChildren(heading, ol);
}

/** Downloads the tenant's review CSV, or shows why it cannot. */
export async function exportCsv(into: HTMLElement, tenantId: string): Promise<void> {
  into.replaceChildren(el("div", "notice muted", "Exporting…"));
  const reply = await ask({ type: "reviewCsv", tenantId });
  if (!reply.ok) {
    into.replaceChildren(messageBox("error", reply.error));
    return;
  }
  const url = URL.createObjectURL(new Blob([reply.value.csv], { type: "text/csv" }));
  const a = el("a", undefined, reply.value.filename);
  a.href = url;
  a.download = reply.value.filename;
  const rows = Math.max(0, reply.value.csv.split("\n").filter(Boolean).length - 1);
  const done = el("div", "notice", `Exported ${rows} row(s): `);
  done.dataset.exported = String(rows);
  done.append(a);
  into.replaceChildren(done);
  a.click();
}
