/**
 * The extension in a real Chromium (Debian's, headless) against a real sidecar with the demo
 * database: the support engineer's path through the overlay and the popup, and proof that a page
 * script gets neither the token nor anyone's permissions.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PINNED_EXTENSION_ID } from "../../sidecar/src/config.js";
import {
  CHROMIUM,
  type ExtensionHarness,
  haveChromium,
  PANEL,
  startExtensionHarness,
} from "../support/extension-browser.js";

/** The little of a page's globals the probes touch (the root tsconfig has no DOM library). */
interface PageGlobals {
  readonly document: {
    readonly documentElement: { readonly outerHTML: string };
    getElementById(id: string): { readonly shadowRoot: { readonly innerHTML: string } | null } | null;
  };
  postMessage(message: unknown, targetOrigin: string): void;
  readonly chrome?: { readonly runtime?: { readonly sendMessage?: unknown }; readonly storage?: unknown };
}

if (!haveChromium) {
  console.warn(`browser suite skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);
}

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!haveChromium)(`extension in Chromium (needs ${CHROMIUM})`, () => {
  let h: ExtensionHarness;
  let httpUrl: string;
  let adminToken: string;
  let extensionId: string;
  let foreignPages: Server;
  let foreignUrl: string;

  beforeAll(async () => {
    h = await startExtensionHarness();
    ({ httpUrl, adminToken, extensionId } = h);
    // A page that is not the demo, on a host the content script runs on, claiming to be carol.
    foreignPages = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(
        '<!doctype html><html><head><meta name="rolecall-subject" content="demo/carol"><title>not the demo</title></head><body><h1>Some other app</h1><div data-rolecall-surface="cxengage/contact-management-panel">a panel</div></body></html>',
      );
    });
    await new Promise<void>((resolve) => foreignPages.listen(0, "127.0.0.1", resolve));
    foreignUrl = `http://127.0.0.1:${(foreignPages.address() as AddressInfo).port}/`;
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await new Promise<void>((resolve) => (foreignPages ? foreignPages.close(() => resolve()) : resolve()));
  });

  const extensionPage = (path: string) => h.extensionPage(path);
  const saveOptions = (url: string, token: string) => h.saveOptions(url, token);
  const openDemo = (subject: string): Promise<Page> => h.openDemo(subject);
  const waitForOrError = (page: Page, selector: string) => h.waitForOrError(page, selector);
  const newPage = () => h.context.newPage();

  it("loads with the id pinned by the manifest key", () => {
    expect(extensionId).toBe(PINNED_EXTENSION_ID);
  });

  it("saves the sidecar URL and token on the options page and tests the connection", async () => {
    await saveOptions(httpUrl, adminToken);
    const page = await newPage();
    await page.goto(extensionPage("options.html"));
    // The page fills its fields from extension storage once loaded: slow on a busy machine.
    await expect.poll(() => page.inputValue("#sidecar-url"), { timeout: 10_000 }).toBe(httpUrl);
    await page.click("#test");
    await expect
      .poll(() => page.locator("#result").getAttribute("data-result"), { timeout: 10_000 })
      .not.toBe("pending");
    expect(await page.locator("#result").textContent()).toContain(`connected to ${httpUrl}`);
    await page.close();
  });

  it("says clearly in the popup when the sidecar is down or refuses the token", async () => {
    const down = `http://127.0.0.1:${await deadPort()}`;
    await saveOptions(down, adminToken);
    const popup = await newPage();
    await popup.goto(extensionPage("popup.html?subject=demo/dave"));
    const error = popup.locator("[data-error]");
    await error.waitFor();
    expect(await error.textContent()).toContain(`cannot reach the sidecar at ${down}`);

    await saveOptions(httpUrl, "rc_not_a_real_token");
    await popup.reload();
    await popup.locator("[data-error]").waitFor();
    expect(await popup.locator("[data-error]").textContent()).toContain("the sidecar refused the token");
    await popup.close();
    await saveOptions(httpUrl, adminToken);
  });

  it("lists the Contact Management panel under 'Not on this page' for dave, naming CONTACTS_UPDATE", async () => {
    const page = await openDemo("demo/dave");
    // The sidecar rendered the page without the panel: it is really absent.
    expect(
      await page.locator('main [data-rolecall-surface="cxengage/contact-management-panel"]').count(),
    ).toBe(0);
    const overlay = page.locator(`#${PANEL}`);
    expect(await overlay.locator(".panel header").textContent()).toContain("viewing as demo/dave");
    await waitForOrError(page, `#${PANEL} [data-missing-surface="cxengage/contact-management-panel"]`);
    const missing = overlay.locator('[data-missing-surface="cxengage/contact-management-panel"]');
    expect(await missing.textContent()).toContain("CONTACTS_UPDATE");
    // Surfaces dave may see carry badges.
    expect(await overlay.locator('[data-decision="allowed"]').count()).toBeGreaterThan(0);
    await h.screenshot(page, "overlay-dave.png", "overlay.png");
    await page.close();
  });

  it("badges the Contact Management panel as allowed for carol", async () => {
    const page = await openDemo("demo/carol");
    await waitForOrError(page, `#${PANEL} [data-surface="cxengage/contact-management-panel"]`);
    const badge = page.locator(`#${PANEL} [data-surface="cxengage/contact-management-panel"]`);
    expect(await badge.getAttribute("data-decision")).toBe("allowed");
    expect(
      await page
        .locator(`#${PANEL} [data-surface="cxengage/contact-management-panel"][data-decision="allowed"]`)
        .count(),
    ).toBe(1);
    expect(await badge.getAttribute("title")).toContain("Decision: allowed");
    expect(
      await page.locator(`#${PANEL} [data-missing-surface="cxengage/contact-management-panel"]`).count(),
    ).toBe(0);
    await h.screenshot(page, "overlay-carol.png");
    await page.close();
  });

  it("shows dave's effective permissions in the popup, with an explanation on click", async () => {
    const popup = await newPage();
    await popup.setViewportSize({ width: 460, height: 720 });
    await popup.goto(extensionPage("popup.html?subject=demo/dave"));
    await waitForOrError(popup, '[data-permission="cxengage/CONTACTS_UPDATE"]');
    const update = popup.locator('[data-permission="cxengage/CONTACTS_UPDATE"]');
    expect(await popup.locator("#subject").textContent()).toBe("demo/dave");
    expect(await update.getAttribute("data-allowed")).toBe("false");
    expect(
      await popup.locator('[data-permission="cxengage/CONTACTS_READ"]').getAttribute("data-allowed"),
    ).toBe("true");
    expect(await popup.locator("#roles .chip").count()).toBeGreaterThan(0);

    await popup.fill("#filter", "CONTACTS_");
    expect(
      await popup.locator("li[data-permission]:not([hidden]) >> nth=0").getAttribute("data-permission"),
    ).toMatch(/CONTACTS_/);
    await update.click();
    await waitForOrError(popup, '[data-explanation="cxengage/CONTACTS_UPDATE"]:not(.muted)');
    const explanation = popup.locator('[data-explanation="cxengage/CONTACTS_UPDATE"]:not(.muted)');
    expect(await explanation.textContent()).not.toBe("");
    await h.screenshot(popup, "popup-dave.png", "popup.png");
    await popup.close();
  });

  it("switches the overlay off from the popup, leaving no trace, and on again", async () => {
    const page = await openDemo("demo/dave");
    const popup = await newPage();
    await popup.goto(extensionPage("popup.html?subject=demo/dave"));
    const toggle = popup.locator("#overlay-toggle");
    await expect.poll(() => toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await expect.poll(() => page.locator(`#${PANEL}`).count()).toBe(0);
    expect(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.outerHTML),
    ).not.toContain("rolecall-overlay");

    // Off stays off for new pages too.
    const other = await newPage();
    await other.goto(`${httpUrl}/demo/?as=demo/carol`);
    await other.waitForTimeout(500);
    expect(await other.locator(`#${PANEL}`).count()).toBe(0);

    await toggle.check();
    await page.locator(`#${PANEL} [data-missing-surface="cxengage/contact-management-panel"]`).waitFor();
    await Promise.all([page.close(), popup.close(), other.close()]);
  });

  it("gives a page script that is not the demo neither the token nor anyone's permissions", async () => {
    const page = await newPage();
    await page.goto(foreignUrl);
    await page.locator(`#${PANEL} .panel`).waitFor({ state: "attached" });
    await expect
      .poll(() => page.locator(`#${PANEL} .panel`).textContent(), { timeout: 10_000 })
      .not.toContain("Asking");

    // page.evaluate runs in the page's own world, exactly where a page script runs.
    const probe = await page.evaluate(
      async ({ extensionId, httpUrl }) => {
        const w = globalThis as unknown as PageGlobals;
        const out: Record<string, string> = {
          runtime: typeof w.chrome?.runtime?.sendMessage,
          storage: typeof w.chrome?.storage,
        };
        try {
          const send = w.chrome?.runtime?.sendMessage as
            | ((id: string, m: unknown) => Promise<unknown>)
            | undefined;
          out.sendMessage = send
            ? JSON.stringify(await send(extensionId, { type: "getState" }))
            : "unavailable";
        } catch (err) {
          out.sendMessage = `failed: ${String(err)}`;
        }
        // Nothing of ours listens to window messages; this must change nothing.
        w.postMessage({ type: "getState" }, "*");
        try {
          const res = await fetch(`${httpUrl}/rolecall.v1.PolicyService/ListEffectivePermissions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ tenantId: "demo", userId: "carol" }),
          });
          out.fetch = `${res.status} ${await res.text()}`;
        } catch (err) {
          out.fetch = `failed: ${String(err)}`;
        }
        out.overlay = w.document.getElementById("rolecall-overlay")?.shadowRoot?.innerHTML ?? "";
        return out;
      },
      { extensionId, httpUrl },
    );
    expect(probe.runtime).toBe("undefined");
    expect(probe.storage).toBe("undefined");
    expect(probe.sendMessage).toBe("unavailable");
    expect(probe.fetch).toMatch(/^failed/);
    // The overlay holds no decision for this page (no registered app matches it) and never the token.
    expect(probe.overlay).not.toContain(adminToken);
    expect(probe.overlay).not.toContain("data-surface");
    expect(probe.overlay).not.toContain("data-missing-surface");
    expect(probe.overlay).not.toContain("CONTACTS_");
    await page.close();
  });
});
