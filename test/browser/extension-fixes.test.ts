/**
 * The extension as support staff found it, fixed (issue 15): each complaint from trying it as a
 * new user is replayed in the real Chromium with the real extension and sidecar.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHROMIUM,
  contrastRatio,
  type ExtensionHarness,
  haveChromium,
  PANEL,
  startExtensionHarness,
} from "../support/extension-browser.js";

const PANEL_SURFACE = "cxengage/contact-management-panel";

describe.skipIf(!haveChromium)(`extension fixes for support staff (needs ${CHROMIUM})`, () => {
  let h: ExtensionHarness;

  beforeAll(async () => {
    h = await startExtensionHarness();
    await h.saveOptions(h.httpUrl, h.adminToken);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const visibleRows = (popup: Page) => popup.locator("li[data-permission]:visible");

  it("filters the popup's rows for real: 'denied' hides allowed rows, one key shows one row", async () => {
    const popup = await h.openPopup("demo/dave");
    await h.waitForOrError(popup, '[data-permission="cxengage/CONTACTS_UPDATE"]');
    const all = await visibleRows(popup).count();
    await popup.selectOption("#show", "denied");
    const denied = await visibleRows(popup).count();
    expect(denied).toBeGreaterThan(0);
    expect(denied).toBeLessThan(all);
    expect(await popup.locator('li[data-permission][data-allowed="true"]:visible').count()).toBe(0);
    await popup.selectOption("#show", "all");
    await popup.fill("#filter", "CONTACTS_UPDATE");
    expect(await visibleRows(popup).count()).toBe(1);
    expect(await visibleRows(popup).first().getAttribute("data-permission")).toBe("cxengage/CONTACTS_UPDATE");
    expect(await popup.locator("#counts").textContent()).toBe(`1 of ${all}`);
    await popup.close();
  });

  it("uses one word per reason in overlay and popup, and role names instead of ids", async () => {
    const page = await h.openDemo("demo/dave");
    await h.waitForOrError(page, `#${PANEL} [data-missing-surface="${PANEL_SURFACE}"]`);
    const item = page.locator(`#${PANEL} [data-missing-surface="${PANEL_SURFACE}"]`);
    expect(await item.locator(".decision").textContent()).toBe("denied — not granted");
    expect(await item.textContent()).not.toContain("requirement missing");

    const popup = await h.openPopup("demo/dave");
    await h.waitForOrError(popup, '[data-permission="cxengage/CONTACTS_UPDATE"]');
    expect(await popup.locator('[data-permission="cxengage/CONTACTS_UPDATE"] .why').textContent()).toBe(
      "not granted",
    );
    const roles = await popup.locator("#roles .chip").allTextContents();
    expect(roles).toEqual(["Custom Agent"]);
    await Promise.all([page.close(), popup.close()]);
  });

  it("shows Lena's license problem in the overlay, with the seats free", async () => {
    const page = await h.openDemo("demo/lena", "calabrio-one/analytics-dashboard");
    const selector = `#${PANEL} [data-missing-surface="calabrio-one/analytics-dashboard"]`;
    await h.waitForOrError(page, selector);
    const item = page.locator(selector);
    expect(await item.locator(".decision").getAttribute("data-reason")).toBe("license missing");
    const usage = (await h.admin("GetLicenseUsage", {
      tenantId: "demo",
      licenseId: "calabrio-one/analytics",
    })) as {
      used: number;
      seats: number;
    };
    expect(await item.locator("[data-licenses]").textContent()).toContain(
      `calabrio-one/analytics (${usage.seats - usage.used} of ${usage.seats} seats free)`,
    );
    expect(await item.locator(".needs").textContent()).toMatch(/^needs one of view-analytics, /);
    expect(await item.locator("[data-fix]").textContent()).toMatch(
      /Smallest fix: add license calabrio-one\/\S+ to role Analytics Viewer \(1 user holds it; \d+ seats? free\)/,
    );
    await h.screenshot(page, "overlay-lena-license.png", "overlay-license.png");
    await page.close();
  });

  it("ranks fixes: grant to a role the user holds, or assign a role, by what else each changes", async () => {
    const page = await h.openDemo("demo/dave");
    const fix = page.locator(`#${PANEL} [data-missing-surface="${PANEL_SURFACE}"] [data-fix]`);
    await fix.waitFor();
    expect(await fix.textContent()).toContain(
      "Smallest fix: grant CONTACTS_UPDATE to role Custom Agent (1 user holds Custom Agent)",
    );

    const popup = await h.openPopup("demo/dave");
    await h.waitForOrError(popup, '[data-permission="cxengage/CONTACTS_UPDATE"]');
    await popup.click('[data-permission="cxengage/CONTACTS_UPDATE"]');
    await h.waitForOrError(popup, '[data-fixes="cxengage/CONTACTS_UPDATE"] li[data-fix]');
    const fixes = popup.locator('[data-fixes="cxengage/CONTACTS_UPDATE"] li[data-fix]');
    expect(await fixes.first().getAttribute("data-fix")).toBe("grant");
    expect(await fixes.first().textContent()).toMatch(
      /grant CONTACTS_UPDATE to role Custom Agent \(1 user holds/,
    );
    const texts = await fixes.allTextContents();
    expect(texts.some((t) => /assign role .+ \(adds \d+ other permissions?\)/.test(t))).toBe(true);
    await Promise.all([page.close(), popup.close()]);
  });

  it("offers to reactivate an inactive user instead of granting anything", async () => {
    await h.admin("SetUserActive", { tenantId: "demo", userId: "zoe", active: false });
    try {
      const popup = await h.openPopup("demo/zoe");
      const key = "zoom-contact-center/RptWallboard:Read";
      await h.waitForOrError(popup, `[data-permission="${key}"]`);
      expect(await popup.locator(`[data-permission="${key}"] .why`).textContent()).toBe("user inactive");
      await popup.click(`[data-permission="${key}"]`);
      const fixes = popup.locator(`[data-fixes="${key}"] li[data-fix]`);
      await h.waitForOrError(popup, `[data-fixes="${key}"] li[data-fix]`);
      expect(await fixes.count()).toBe(1);
      expect(await fixes.first().getAttribute("data-fix")).toBe("activate");
      await fixes.first().locator("[data-preview]").click();
      const result = popup.locator('[data-preview-result="done"]');
      await result.waitFor();
      expect(await result.textContent()).toContain("zoe would gain");
      await popup.close();
    } finally {
      await h.admin("SetUserActive", { tenantId: "demo", userId: "zoe", active: true });
    }
  });

  it("redraws an open overlay and popup when the policy changes, without a reload", async () => {
    const page = await h.openDemo("demo/dave");
    const decision = page.locator(`#${PANEL} [data-missing-surface="${PANEL_SURFACE}"] .decision`);
    await decision.waitFor();
    expect(await decision.textContent()).toContain("denied");
    const popup = await h.openPopup("demo/dave");
    const row = popup.locator('[data-permission="cxengage/CONTACTS_UPDATE"]');
    await h.waitForOrError(popup, '[data-permission="cxengage/CONTACTS_UPDATE"]');
    expect(await row.getAttribute("data-allowed")).toBe("false");

    const grant = { tenantId: "demo", roleId: "custom-agent", permissions: ["cxengage/CONTACTS_UPDATE"] };
    await h.admin("GrantPermissions", grant);
    try {
      await expect.poll(() => decision.textContent(), { timeout: 10_000 }).toBe("allowed");
      await expect.poll(() => row.getAttribute("data-allowed"), { timeout: 10_000 }).toBe("true");
    } finally {
      await h.admin("RevokePermissions", grant);
    }
    await expect.poll(() => decision.textContent(), { timeout: 10_000 }).toContain("denied");
    await expect.poll(() => row.getAttribute("data-allowed"), { timeout: 10_000 }).toBe("false");
    await Promise.all([page.close(), popup.close()]);
  });

  it("answers a mistyped user with one message and the nearest user, in the popup and the overlay", async () => {
    const popup = await h.openPopup("demo/davd");
    const error = popup.locator("[data-unknown-user]");
    await error.waitFor();
    expect(await popup.locator("[data-error]").count()).toBe(1);
    expect(await error.textContent()).toContain("tenant demo has no user 'davd' — did you mean demo/dave?");
    expect(await popup.locator("li[data-permission]").count()).toBe(0);
    await popup.click("[data-suggestion]");
    await h.waitForOrError(popup, '[data-permission="cxengage/CONTACTS_UPDATE"]');
    expect(await popup.locator("#subject").textContent()).toBe("demo/dave");

    const page = await h.openDemo("demo/davd");
    const overlayError = page.locator(`#${PANEL} [data-unknown-user]`);
    await overlayError.waitFor();
    expect(await overlayError.textContent()).toContain("tenant demo has no user 'davd'");
    expect(await page.locator(`#${PANEL} [data-missing-surface]`).count()).toBe(0);
    await Promise.all([page.close(), popup.close()]);
  });

  it("explains an allowed permission without red marks for roles that do not grant it", async () => {
    const popup = await h.openPopup("demo/carol");
    const key = "cxengage/CONTACTS_UPDATE";
    await h.waitForOrError(popup, `[data-permission="${key}"]`);
    await popup.click(`[data-permission="${key}"]`);
    const box = popup.locator(`.explanation[data-explanation="${key}"]:not(.muted)`);
    await box.waitFor();
    expect(await box.locator('[data-mark="fail"]').count()).toBe(0);
    const neutral = box.locator('[data-mark="neutral"]');
    expect(await neutral.count()).toBeGreaterThan(0);
    expect(await neutral.first().textContent()).toContain("does not grant");
    expect(await box.locator('[data-mark="ok"]').count()).toBeGreaterThan(0);

    // A denial keeps its red marks: they are the reason.
    await popup.fill("#view-as-input", "demo/dave");
    await popup.click("#view-as button");
    await h.waitForOrError(popup, `[data-permission="${key}"][data-allowed="false"]`);
    await popup.click(`[data-permission="${key}"]`);
    await popup.locator(`.explanation[data-explanation="${key}"] [data-mark="fail"]`).first().waitFor();
    await popup.close();
  });

  it("orders 'Not on this page' by relevance and collapses the other groups", async () => {
    const page = await h.openDemo("demo/dave");
    const groups = page.locator(`#${PANEL} details[data-missing-group]`);
    await groups.first().waitFor();
    const first = groups.first();
    expect(await first.getAttribute("open")).not.toBeNull();
    expect(await first.locator("li[data-missing-surface]").first().getAttribute("data-missing-surface")).toBe(
      PANEL_SURFACE,
    );
    const count = await groups.count();
    expect(count).toBeGreaterThan(1);
    for (let i = 1; i < count; i++) expect(await groups.nth(i).getAttribute("open")).toBeNull();
    const all = await page.locator(`#${PANEL} li[data-missing-surface]`).count();
    const visible = await page.locator(`#${PANEL} li[data-missing-surface]:visible`).count();
    expect(visible).toBeLessThan(all);
    await page.close();
  });

  it("has a visible focus ring, firm input borders, keyboard-reachable named badges and a named collapse button", async () => {
    const popup = await h.openPopup("demo/dave");
    await h.waitForOrError(popup, '[data-permission="cxengage/CONTACTS_UPDATE"]');
    // Keyboard to a permission row and read its ring against the popup's white.
    await popup.focus("#show");
    for (let i = 0; i < 12; i++) {
      if (await popup.evaluate(`document.activeElement?.matches("li[data-permission]") ?? false`)) break;
      await popup.keyboard.press("Tab");
    }
    // Page code as text: the test's tsconfig has no DOM library.
    const ring = (await popup.evaluate(`(() => {
      const s = getComputedStyle(document.activeElement);
      return { tag: document.activeElement.tagName, style: s.outlineStyle, width: s.outlineWidth, color: s.outlineColor };
    })()`)) as { tag: string; style: string; width: string; color: string };
    expect(ring.tag).toBe("LI");
    expect(ring.style).not.toBe("none");
    expect(Number.parseFloat(ring.width)).toBeGreaterThanOrEqual(2);
    expect(contrastRatio(ring.color, "rgb(255, 255, 255)")).toBeGreaterThanOrEqual(3);
    const border = (await popup.evaluate(
      `getComputedStyle(document.getElementById("filter")).borderTopColor`,
    )) as string;
    expect(contrastRatio(border, "rgb(255, 255, 255)")).toBeGreaterThanOrEqual(3);
    await popup.close();

    const page = await h.openDemo("demo/dave");
    await page.locator(`#${PANEL} [data-decision]`).first().waitFor();
    // From the page's last focusable element, Tab enters the overlay's badges.
    await page.evaluate(`(() => {
      const all = document.body.querySelectorAll("a[href], button, input, select, textarea, [tabindex]");
      all[all.length - 1].focus();
    })()`);
    await page.keyboard.press("Tab");
    const focused = (await page.evaluate(`(() => {
      const active = document.getElementById("${PANEL}").shadowRoot.activeElement;
      return { surface: active?.dataset.surface, label: active?.getAttribute("aria-label") ?? "" };
    })()`)) as { surface: string | undefined; label: string };
    expect(focused.surface).toBeTruthy();
    expect(focused.label).toMatch(/: (allowed|denied)/);
    const collapse = page.locator(`#${PANEL} button.collapse`);
    expect(await collapse.getAttribute("aria-label")).toBe("Collapse the rolecall panel");
    expect(await collapse.getAttribute("aria-expanded")).toBe("true");
    await collapse.click();
    expect(await collapse.getAttribute("aria-label")).toBe("Expand the rolecall panel");
    await page.close();
  });

  it("fits a 320 px window: the panel is not clipped and does not cover the page", async () => {
    const page = await h.context.newPage();
    await page.setViewportSize({ width: 320, height: 640 });
    await page.goto(`${h.httpUrl}/demo/?as=demo/dave`);
    const panel = page.locator(`#${PANEL} .panel`);
    await panel.waitFor();
    let box = (await panel.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(320);
    // Collapsed to its header: the page stays readable.
    expect(box.height).toBeLessThan(640 * 0.15);
    await page.click(`#${PANEL} button.collapse`);
    await page.locator(`#${PANEL} [data-missing-list]`).waitFor();
    box = (await panel.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(320);
    expect(box.height).toBeLessThanOrEqual(640 * 0.5);
    await h.screenshot(page, "overlay-320.png", "overlay-narrow.png");
    await page.close();
  });

  it("reads at 200 % zoom (a 640×450 CSS-pixel window) and keeps badges on their elements while scrolling", async () => {
    const page = await h.context.newPage();
    await page.setViewportSize({ width: 640, height: 450 });
    await page.goto(`${h.httpUrl}/demo/?as=demo/dave`);
    const panel = page.locator(`#${PANEL} .panel`);
    await page.locator(`#${PANEL} [data-missing-list]`).waitFor();
    const box = (await panel.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(640);
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(450);
    // Longer than the window allows: the panel scrolls inside itself rather than cutting its list off.
    await page.click(`#${PANEL} details[data-missing-group]:not([open]) > summary`);
    const [scrollHeight, clientHeight] = await panel.evaluate(
      (e: { scrollHeight: number; clientHeight: number }) => [e.scrollHeight, e.clientHeight],
    );
    expect(scrollHeight).toBeGreaterThan(clientHeight);
    await panel.evaluate((e: { scrollTop: number; scrollHeight: number }) => {
      e.scrollTop = e.scrollHeight;
    });
    expect(await page.locator(`#${PANEL} [data-missing-surface]`).last().isVisible()).toBe(true);
    const surface = "cxengage/welcome-screen-statistics";
    const element = page.locator(`main [data-rolecall-surface="${surface}"]`);
    const badge = page.locator(`#${PANEL} [data-surface="${surface}"]`);
    await badge.waitFor();
    const offset = async () => (await badge.boundingBox())!.y - (await element.boundingBox())!.y;
    const before = await offset();
    const top = (await element.boundingBox())!.y;
    await page.mouse.move(100, 100);
    await page.mouse.wheel(0, 80);
    await expect.poll(async () => (await element.boundingBox())!.y).toBeLessThan(top - 40);
    await expect.poll(offset).toBeCloseTo(before, 0);
    await page.close();
  });
});
