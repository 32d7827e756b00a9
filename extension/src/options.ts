/** The options page: the sidecar URL and token, saved to `storage.local`, and a connection test. */
import browser from "webextension-polyfill";
import { ask } from "./send.js";

const DEFAULT_URL = "http://127.0.0.1:8080";

const urlInput = document.getElementById("sidecar-url") as HTMLInputElement;
const tokenInput = document.getElementById("token") as HTMLInputElement;
const result = document.getElementById("result") as HTMLParagraphElement;

function say(kind: "ok" | "error" | "pending", text: string): void {
  result.dataset.result = kind;
  result.textContent = text;
}

/** A sidecar URL must be http(s) with no path, query or fragment beyond a trailing slash. */
function checkUrl(text: string): string | undefined {
  try {
    const url = new URL(text.trim());
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    if (url.search || url.hash || url.pathname !== "/") return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

async function load(): Promise<void> {
  const stored = await browser.storage.local.get(["sidecarUrl", "token"]);
  urlInput.value = typeof stored.sidecarUrl === "string" ? stored.sidecarUrl : DEFAULT_URL;
  tokenInput.value = typeof stored.token === "string" ? stored.token : "";
}

document.getElementById("settings")?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const url = checkUrl(urlInput.value);
  if (!url) return say("error", `'${urlInput.value}' is not a sidecar URL like ${DEFAULT_URL}`);
  await browser.storage.local.set({ sidecarUrl: url, token: tokenInput.value.trim() });
  urlInput.value = url;
  say("ok", "Saved.");
});

document.getElementById("test")?.addEventListener("click", async () => {
  const url = checkUrl(urlInput.value);
  if (!url) return say("error", `'${urlInput.value}' is not a sidecar URL like ${DEFAULT_URL}`);
  say("pending", `Testing ${url}…`);
  const reply = await ask({ type: "testConnection", sidecarUrl: url, token: tokenInput.value });
  if (reply.ok) say("ok", reply.value.message);
  else say("error", reply.error);
});

void load();
