/**
 * The extension's settings and remembered state in `storage.local`. Only the background and the
 * options page touch storage; the content script asks the background instead.
 */
import browser from "webextension-polyfill";

/** Storage keys, as documented in the extension issue. */
export const STORAGE_KEYS = Object.freeze({
  sidecarUrl: "sidecarUrl",
  token: "token",
  overlayEnabled: "overlayEnabled",
  lastSubject: "lastSubject",
});

/** Defaults: the sidecar's default HTTP address, no token, overlay on. */
export const DEFAULT_SETTINGS = Object.freeze({
  sidecarUrl: "http://127.0.0.1:8080",
  token: "",
  overlayEnabled: true,
});

/** Everything the background needs per call. */
export interface Settings {
  readonly sidecarUrl: string;
  readonly token: string;
  readonly overlayEnabled: boolean;
  readonly lastSubject: string | null;
}

/** Reads the settings, filling defaults (an empty URL means the default). */
export async function readSettings(): Promise<Settings> {
  const stored = await browser.storage.local.get(Object.values(STORAGE_KEYS));
  const url = stored[STORAGE_KEYS.sidecarUrl];
  const token = stored[STORAGE_KEYS.token];
  const enabled = stored[STORAGE_KEYS.overlayEnabled];
  const last = stored[STORAGE_KEYS.lastSubject];
  return {
    sidecarUrl:
      typeof url === "string" && url.trim() !== ""
        ? url.trim().replace(/\/+$/, "")
        : DEFAULT_SETTINGS.sidecarUrl,
    token: typeof token === "string" ? token.trim() : DEFAULT_SETTINGS.token,
    overlayEnabled: typeof enabled === "boolean" ? enabled : DEFAULT_SETTINGS.overlayEnabled,
    lastSubject: typeof last === "string" ? last : null,
  };
}

/** Stores one remembered value. */
export async function remember(
  key: "overlayEnabled" | "lastSubject",
  value: boolean | string,
): Promise<void> {
  await browser.storage.local.set({ [STORAGE_KEYS[key]]: value });
}
