/** The popup's small DOM helpers. */

/** The element with this id. */
export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** A new element with a class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A box with an error (marked `data-error`, announced) or a notice. */
export function messageBox(kind: "error" | "notice", text: string): HTMLDivElement {
  const box = el("div", kind, text);
  if (kind === "error") {
    box.dataset.error = "";
    box.setAttribute("role", "alert");
  }
  return box;
}

/** Shows one message (error or notice) above the list, replacing the previous one. */
export function showMessage(kind: "error" | "notice", text: string): HTMLDivElement {
  const box = messageBox(kind, text);
  $("messages").replaceChildren(box);
  return box;
}

/** A permission key without its system: `cxengage/CONTACTS_UPDATE` → `CONTACTS_UPDATE`. */
export const localKey = (key: string) => key.slice(key.indexOf("/") + 1);
