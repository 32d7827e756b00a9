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
  // The browser streams the file to disk (the sidecar answers it as an attachment): this page
  // never holds it, whatever the tenant's size. The link serves once, within a minute.
  const a = el("a", undefined, reply.value.filename);
  a.href = reply.value.url;
  const done = el("div", "notice", "Downloading the review (see your downloads): ");
  done.dataset.exported = reply.value.filename;
  done.append(a);
  into.replaceChildren(done);
  a.click();
  // Spent by that download: no link to click twice.
  a.removeAttribute("href");
}
