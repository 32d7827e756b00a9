/**
 * The content script: relays between the page and the background, never to the sidecar. It
 * starts the overlay when the page declares its user and the overlay is on, and answers the
 * popup's "whose page is this?". Page scripts cannot reach it: it listens to the extension only.
 */
import browser, { type Runtime } from "webextension-polyfill";
import type { ContentMessage } from "../messages.js";
import { ask } from "../send.js";
import { init as initOverlay } from "./overlay.js";
import { readPageSubject, readSubjectText } from "./page-subject.js";

let running: AbortController | undefined;

function start(): void {
  if (running) return;
  const subject = readPageSubject();
  if (!subject) return; // a page that declares no user gets no overlay
  running = new AbortController();
  initOverlay(running.signal, subject);
}

function stop(): void {
  running?.abort();
  running = undefined;
}

browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
  // Only our background and popup (never a tab, never another extension) may drive the overlay.
  if (sender.id !== browser.runtime.id || sender.tab) return undefined;
  const m = message as ContentMessage;
  if (m.type === "overlayState") {
    if (m.enabled) start();
    else stop();
    return Promise.resolve({ ok: true, value: { enabled: running !== undefined } });
  }
  if (m.type === "getSubject") return Promise.resolve({ ok: true, value: { subject: readSubjectText() } });
  return undefined;
});

void ask({ type: "getOverlayState" }).then((reply) => {
  if (reply.ok && reply.value.enabled) start();
});
