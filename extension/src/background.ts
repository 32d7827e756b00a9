/**
 * The service worker: answers the extension's own scripts through the handler table and toggles
 * the overlay on the keyboard command. Listeners are registered at top level so a restarted
 * worker still receives the event that woke it.
 */
import browser, { type Runtime } from "webextension-polyfill";
import { dispatch, setOverlayEnabled } from "./background/handlers.js";
import { readSettings } from "./background/settings.js";

/** The keyboard command (manifest `commands`) that toggles the overlay. */
export const TOGGLE_OVERLAY_COMMAND = "toggle-overlay";

browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) =>
  dispatch(message, sender),
);

browser.commands.onCommand.addListener(async (command) => {
  if (command !== TOGGLE_OVERLAY_COMMAND) return;
  const { overlayEnabled } = await readSettings();
  await setOverlayEnabled(!overlayEnabled);
});
