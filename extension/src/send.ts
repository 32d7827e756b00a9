/** Typed requests from extension pages and the content script to the background. */
import browser from "webextension-polyfill";
import type { BackgroundApi, BackgroundMethod, BackgroundRequest, Reply } from "./messages.js";

/** Asks the background; never throws: a dead service worker or a bad answer becomes `{ok: false}`. */
export async function ask<M extends BackgroundMethod>(
  request: BackgroundRequest<M>,
): Promise<Reply<BackgroundApi[M]["response"]>> {
  try {
    const reply = (await browser.runtime.sendMessage(request)) as
      | Reply<BackgroundApi[M]["response"]>
      | undefined;
    return reply ?? { ok: false, error: "the extension's background did not answer" };
  } catch (err) {
    return {
      ok: false,
      error: `the extension's background did not answer: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
