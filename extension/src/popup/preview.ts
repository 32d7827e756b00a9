/**
 * "Preview change": runs SimulateChanges for one proposed write and shows who else would gain or
 * lose what, and the seats after it. Read-only: nothing is committed, and the popup offers no
 * way to apply it (that stays in the admin's own tools).
 */
import type { PreviewView, ProposedWrite, Subject } from "../messages.js";
import { ask } from "../send.js";
import { el, localKey, messageBox } from "./dom.js";

function describeWrite(write: ProposedWrite): string {
  if ("grantPermissions" in write)
    return `grant ${write.grantPermissions.permissions.map(localKey).join(", ")} to role ${write.grantPermissions.roleId}`;
  if ("assignRoles" in write)
    return `assign role ${write.assignRoles.roleIds.join(", ")} to ${write.assignRoles.userId}`;
  if ("setUserActive" in write) return `reactivate ${write.setUserActive.userId}`;
  return `set the licenses of role ${write.setRoleLicenses.roleId} to ${write.setRoleLicenses.licenseIds.join(", ")}`;
}

function render(
  box: HTMLElement,
  subject: Subject,
  write: ProposedWrite,
  text: string,
  p: PreviewView,
): void {
  box.replaceChildren(
    el("div", "summary", `Preview of: ${text || describeWrite(write)}`),
    el("div", "muted", `Simulated at revision ${p.revision}; nothing was changed.`),
  );
  for (const c of p.changes.filter((c) => !c.applied)) {
    const refusal = messageBox("error", `${c.operation} would be refused: ${c.refusal}`);
    refusal.dataset.refusal = "";
    box.append(refusal);
  }
  const others = p.users.filter((u) => u.userId !== subject.userId);
  const self = p.users.find((u) => u.userId === subject.userId);
  if (self)
    box.append(
      el(
        "div",
        "",
        `${subject.userId} would gain ${self.permissionsGained.map(localKey).join(", ") || "nothing"}`,
      ),
    );
  const heading = el(
    "div",
    "caption",
    others.length === 0
      ? "Nobody else would gain or lose anything."
      : `${others.length} other user(s) affected:`,
  );
  heading.dataset.othersAffected = String(others.length);
  box.append(heading);
  const ul = el("ul", "preview-users");
  for (const u of others) {
    const li = el("li");
    li.dataset.previewUser = u.userId;
    const parts = [
      u.permissionsGained.length > 0 ? `gains ${u.permissionsGained.map(localKey).join(", ")}` : "",
      u.permissionsLost.length > 0 ? `loses ${u.permissionsLost.map(localKey).join(", ")}` : "",
      u.surfacesGained.length > 0 ? `sees ${u.surfacesGained.length} more surface(s)` : "",
    ].filter(Boolean);
    li.append(el("strong", undefined, u.userId), document.createTextNode(` ${parts.join("; ")}`));
    ul.append(li);
  }
  box.append(ul);
  for (const s of p.seats)
    box.append(
      el("div", "muted", `license ${s.licenseId}: ${s.used} of ${s.seats} seats used after the change`),
    );
}

/** A box that fills itself with the preview of `write`, titled `text` (the fix as the list shows it). */
export function previewBox(subject: Subject, write: ProposedWrite, text = ""): HTMLElement {
  const box = el("div", "preview muted", "Simulating the change…");
  box.dataset.previewResult = "pending";
  box.setAttribute("aria-live", "polite");
  void ask({ type: "preview", subject, write }).then((reply) => {
    box.className = "preview";
    if (reply.ok) {
      render(box, subject, write, text, reply.value);
      box.dataset.previewResult = "done";
    } else {
      box.replaceChildren(messageBox("error", reply.error));
      box.dataset.previewResult = "error";
    }
  });
  return box;
}

/** A write from the popup's `?preview=` (set by the overlay's "Preview change"), or undefined. */
export function parseWrite(text: string | null): ProposedWrite | undefined {
  if (!text) return undefined;
  try {
    const w = JSON.parse(text) as Record<string, unknown>;
    const keys = Object.keys(w);
    if (
      keys.length === 1 &&
      ["grantPermissions", "assignRoles", "setRoleLicenses", "setUserActive"].includes(keys[0]!)
    )
      return w as unknown as ProposedWrite;
  } catch {
    // not JSON: no preview
  }
  return undefined;
}
