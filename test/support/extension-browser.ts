/**
 * The extension's browser suites share this: Debian's Chromium (headless) with the real built
 * extension loaded, a real sidecar on the demo database, and the steps a support engineer takes
 * (save the options, open a demo page, open the popup). Everything is stopped by `close()`.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { expect, inject } from "vitest";
import { buildExtension } from "../../extension/build.js";
import { type SidecarProcess, startSidecarProcess } from "./sidecar-process.js";

export const CHROMIUM = "/usr/lib/chromium/chromium";
export const haveChromium = existsSync(CHROMIUM);
const ROOT = join(import.meta.dirname, "..", "..");
const EXTENSION_DIR = join(ROOT, "extension", "dist");
export const RESULTS_DIR = join(ROOT, "test-results");
const SCREENSHOTS_DIR = join(ROOT, "docs", "screenshots");
/** The overlay's host element id. */
export const PANEL = "rolecall-overlay";

/** A browser with the extension, and the sidecar it talks to. */
export interface ExtensionHarness {
  readonly context: BrowserContext;
  readonly httpUrl: string;
  readonly adminToken: string;
  /** The sidecar's database, when the harness started the sidecar. */
  readonly dbPath: string | undefined;
  readonly extensionId: string;
  extensionPage(path: string): string;
  /** Fills and saves the options page, as a person would. */
  saveOptions(sidecarUrl: string, token: string): Promise<void>;
  /** Opens a demo page (`path` under /demo/) and waits until the overlay has its answer. */
  openDemo(subject: string, path?: string): Promise<Page>;
  /** Opens the popup as a page for a subject. */
  openPopup(subject: string, width?: number): Promise<Page>;
  /** Waits for `selector`, failing at once with the page's own error message when it shows one instead. */
  waitForOrError(page: Page, selector: string): Promise<void>;
  /** Calls an AdminService method over Connect JSON with the admin token (an admin's own tools). */
  admin(method: string, body: unknown): Promise<unknown>;
  /**
   * Saves a screenshot under test-results/ and, when `docs` is given and ROLECALL_SCREENSHOTS=1,
   * as docs/screenshots/<docs> (a plain test run leaves the committed pictures alone).
   */
  screenshot(page: Page | Locator, name: string, docs?: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts the sidecar (or uses ROLECALL_TEST_SIDECAR_URL) and Chromium with the built extension. */
export async function startExtensionHarness(): Promise<ExtensionHarness> {
  // Built once by the global setup (test/global-setup.ts); rebuilt here only without it.
  if (!inject("extensionBuilt")) await buildExtension();
  mkdirSync(RESULTS_DIR, { recursive: true });
  let sidecar: SidecarProcess | undefined;
  let httpUrl: string;
  let adminToken: string;
  // ROLECALL_TEST_SIDECAR_URL runs the suite against a sidecar already running (for debugging).
  const existing = process.env.ROLECALL_TEST_SIDECAR_URL;
  if (existing) {
    httpUrl = existing.replace(/\/+$/, "");
    adminToken = process.env.ROLECALL_TEST_ADMIN_TOKEN ?? "rc_test_bootstrap_token";
  } else {
    sidecar = await startSidecarProcess();
    httpUrl = sidecar.httpUrl;
    adminToken = sidecar.adminToken;
  }
  const profile = mkdtempSync(join(tmpdir(), "rolecall-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    args: [
      `--disable-extensions-except=${EXTENSION_DIR}`,
      `--load-extension=${EXTENSION_DIR}`,
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const worker =
    context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker", { timeout: 20_000 }));
  const extensionId = new URL(worker.url()).host;
  const extensionPage = (path: string) => `chrome-extension://${extensionId}/${path}`;

  const harness: ExtensionHarness = {
    context,
    httpUrl,
    adminToken,
    dbPath: sidecar?.dbPath,
    extensionId,
    extensionPage,
    async saveOptions(sidecarUrl, token) {
      const page = await context.newPage();
      await page.goto(extensionPage("options.html"));
      await page.fill("#sidecar-url", sidecarUrl);
      await page.fill("#token", token);
      await page.click("#save");
      // A locator wait, not expect.poll: this also runs in beforeAll, outside any test.
      await page
        .locator("#result")
        .filter({ hasText: /^Saved\.$/ })
        .waitFor({ timeout: 10_000 });
      await page.close();
    },
    async openDemo(subject, path = "") {
      const page = await context.newPage();
      await page.goto(`${httpUrl}/demo/${path}?as=${subject}`);
      await page.locator(`#${PANEL} .panel`).waitFor({ state: "attached" });
      await expect
        .poll(() => page.locator(`#${PANEL} .panel`).textContent(), { timeout: 10_000 })
        .not.toContain("Asking");
      return page;
    },
    async openPopup(subject, width = 460) {
      const popup = await context.newPage();
      await popup.setViewportSize({ width, height: 720 });
      await popup.goto(extensionPage(`popup.html?subject=${subject}`));
      return popup;
    },
    async waitForOrError(page, selector) {
      await page.locator(`${selector}, [data-error]`).first().waitFor({ timeout: 10_000 });
      const error = page.locator("[data-error]");
      if ((await error.count()) > 0 && (await page.locator(selector).count()) === 0) {
        throw new Error(`expected ${selector}, the page says: ${await error.first().textContent()}`);
      }
    },
    async admin(method, body) {
      const res = await fetch(`${httpUrl}/rolecall.v1.AdminService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} answered HTTP ${res.status}: ${text}`);
      return JSON.parse(text) as unknown;
    },
    async screenshot(page, name, docs) {
      const shot = join(RESULTS_DIR, name);
      await page.screenshot({ path: shot });
      if (docs && process.env.ROLECALL_SCREENSHOTS === "1") {
        mkdirSync(SCREENSHOTS_DIR, { recursive: true });
        copyFileSync(shot, join(SCREENSHOTS_DIR, docs));
      }
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      await sidecar?.stop();
    },
  };
  return harness;
}

/** WCAG contrast ratio of two `rgb(…)`/`rgba(…)` colours (alpha ignored). */
export function contrastRatio(a: string, b: string): number {
  const luminance = (css: string) => {
    const [r, g, bl] = (css.match(/[\d.]+/g) ?? ["0", "0", "0"]).slice(0, 3).map(Number) as [
      number,
      number,
      number,
    ];
    const lin = (c: number) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(bl);
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
