/**
 * The access analyzer in the extension (issue 15), in the real Chromium against a real sidecar:
 * the source of each right, "Compare with…", and "Preview change" (SimulateChanges, read-only).
 * The second block, History and Export CSV, needs the sidecar's ListAccessChanges and review
 * export (the history and review branches): on a sidecar without them it fails by design.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, rolecall } from "../support/cli.js";
import {
  CHROMIUM,
  type ExtensionHarness,
  haveChromium,
  PANEL,
  startExtensionHarness,
} from "../support/extension-browser.js";

const UPDATE = "cxengage/CONTACTS_UPDATE";

describe.skipIf(!haveChromium)(`the access analyzer in the extension (needs ${CHROMIUM})`, () => {
  let h: ExtensionHarness;

  beforeAll(async () => {
    h = await startExtensionHarness();
    await h.saveOptions(h.httpUrl, h.adminToken);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  /** The store's revision, read as an admin's tools would. */
  const revision = async () => ((await h.admin("ListTenants", {})) as { revision: string }).revision;

  describe("sources, Compare with…, Preview change", () => {
    it("shows where each right comes from: role, license, requirement", async () => {
      const popup = await h.openPopup("demo/lena");
      await h.waitForOrError(popup, '[data-permission="calabrio-one/view-contacts"]');
      expect(
        await popup.locator('[data-permission="calabrio-one/view-contacts"] [data-source]').textContent(),
      ).toBe("role Analytics Viewer · license calabrio-one/quality-management");
      await popup.fill("#view-as-input", "demo/ines");
      await popup.click("#view-as button");
      const row = popup.locator('[data-permission="iadvize/access-to-production-report"] [data-source]');
      await row.waitFor();
      expect(await row.textContent()).toBe("role Chat Agent · requires iadvize/access-to-reports");
      // A denied row names no source: nothing grants it.
      expect(await popup.locator('[data-permission="iadvize/access-to-people"] [data-source]').count()).toBe(
        0,
      );
      await popup.close();
    });

    it("compares dave with alice, differences first, with the roles that grant each side", async () => {
      const popup = await h.openPopup("demo/dave");
      await h.waitForOrError(popup, `[data-permission="${UPDATE}"]`);
      await popup.fill("#compare-input", "alice");
      await popup.click("#compare-button");
      await h.waitForOrError(popup, "tr[data-compared]");
      const rows = popup.locator("tr[data-compared]");
      const differences = Number(await popup.locator("[data-differences]").getAttribute("data-differences"));
      expect(differences).toBeGreaterThan(0);
      expect(await popup.locator('table.compare:first-of-type tr[data-differs="true"]').count()).toBe(
        differences,
      );
      expect(await rows.first().getAttribute("data-differs")).toBe("true");
      const update = popup.locator(`tr[data-compared="${UPDATE}"]`);
      expect(await update.locator('[data-side="user"]').textContent()).toBe("✕ not granted");
      expect(await update.locator('[data-side="other"]').textContent()).toBe("✓ via Agent (CxEngage)");
      await h.screenshot(popup, "popup-compare.png", "popup-compare.png");

      await popup.fill("#compare-input", "alcie");
      await popup.click("#compare-button");
      const error = popup.locator("#analysis [data-error]");
      await error.waitFor();
      expect(await error.textContent()).toContain(
        "tenant demo has no user 'alcie' — did you mean demo/alice?",
      );
      await popup.fill("#compare-input", "other/alice");
      await popup.click("#compare-button");
      await expect
        .poll(() => popup.locator("#analysis [data-error]").textContent())
        .toBe("other/alice is in another tenant: compare users of demo only");
      await popup.close();
    });

    it("previews the smallest fix: who else would gain what, committing nothing", async () => {
      // A second holder of dave's role, so that granting to the role reaches someone else.
      await h.admin("CreateUser", { tenantId: "demo", userId: "erin", displayName: "Erin (custom agent)" });
      await h.admin("AssignRoles", { tenantId: "demo", userId: "erin", roleIds: ["custom-agent"] });
      try {
        const popup = await h.openPopup("demo/dave");
        await h.waitForOrError(popup, `[data-permission="${UPDATE}"]`);
        await popup.click(`[data-permission="${UPDATE}"]`);
        const grant = popup.locator(`[data-fixes="${UPDATE}"] li[data-fix="grant"]`);
        await h.waitForOrError(popup, `[data-fixes="${UPDATE}"] li[data-fix="grant"]`);
        expect(await grant.textContent()).toContain(
          "grant CONTACTS_UPDATE to role Custom Agent (2 users hold Custom Agent)",
        );
        // With two holders, assigning dave the stock agent role (nothing else added) ranks first.
        expect(
          await popup.locator(`[data-fixes="${UPDATE}"] li[data-fix]`).first().getAttribute("data-fix"),
        ).toBe("assign");
        const before = await revision();
        await grant.locator("[data-preview]").click();
        const result = grant.locator('[data-preview-result="done"], [data-preview-result="error"]');
        await result.waitFor();
        expect(await result.getAttribute("data-preview-result")).toBe("done");
        expect(await result.textContent()).toContain("dave would gain CONTACTS_UPDATE");
        expect(await result.locator('[data-preview-user="erin"]').textContent()).toContain(
          "gains CONTACTS_UPDATE",
        );
        expect(await result.locator("[data-others-affected]").getAttribute("data-others-affected")).toBe("1");
        await result.scrollIntoViewIfNeeded();
        await h.screenshot(popup, "popup-preview.png", "popup-preview.png");
        // Read-only: the revision did not move and dave is still denied.
        expect(await revision()).toBe(before);
        expect(await popup.locator(`[data-permission="${UPDATE}"]`).getAttribute("data-allowed")).toBe(
          "false",
        );
        await popup.close();
      } finally {
        await h.admin("UnassignRoles", { tenantId: "demo", userId: "erin", roleIds: ["custom-agent"] });
      }
    });

    it("opens the preview from the overlay's smallest fix in an extension page, not in the page", async () => {
      const page = await h.openDemo("demo/dave");
      const button = page.locator(
        `#${PANEL} [data-missing-surface="cxengage/contact-management-panel"] [data-preview]`,
      );
      await button.waitFor();
      const [tab] = await Promise.all([h.context.waitForEvent("page"), button.click()]);
      expect(tab.url()).toContain(`chrome-extension://${h.extensionId}/popup.html`);
      const result = tab.locator('[data-preview-result="done"]');
      await result.waitFor({ timeout: 10_000 });
      expect(await result.textContent()).toContain(
        "Preview of: grant CONTACTS_UPDATE to role Custom Agent (1 user holds Custom Agent)",
      );
      expect(await result.textContent()).toContain("Nobody else would gain or lose anything.");
      // The page itself never holds the simulation.
      expect(await page.locator(`#${PANEL}`).innerHTML()).not.toContain("Nobody else");
      await Promise.all([page.close(), tab.close()]);
    });
  });

  describe("an insider with a small role", () => {
    it("gets no fixes to preview, and a forged preview request is refused by the sidecar", async (ctx) => {
      // A sidecar the suite did not start (ROLECALL_TEST_SIDECAR_URL): no way to mint tokens.
      if (!h.dbPath) return ctx.skip();
      const { token } = json<{ token: string }>(
        await rolecall(["token", "create", "--db", h.dbPath, "--tenant", "demo", "--user", "dave", "--json"]),
      );
      await h.saveOptions(h.httpUrl, token);
      try {
        const popup = await h.openPopup("demo/dave");
        await h.waitForOrError(popup, `[data-permission="${UPDATE}"]`);
        await popup.click(`[data-permission="${UPDATE}"]`);
        const fixes = popup.locator(`[data-fixes="${UPDATE}"]`);
        await fixes.waitFor();
        expect(await fixes.locator("[data-preview]").count()).toBe(0);
        // The popup's own script context, as someone with devtools open would use it.
        const reply = (await popup.evaluate(`chrome.runtime.sendMessage({
          type: "preview",
          subject: { tenantId: "demo", userId: "dave" },
          write: { grantPermissions: { tenantId: "demo", roleId: "custom-agent", permissions: ["${UPDATE}"] } },
        })`)) as { ok: boolean; error?: string };
        expect(reply.ok).toBe(false);
        expect(reply.error).toContain("your token may not make this change");
        await popup.close();
      } finally {
        await h.saveOptions(h.httpUrl, h.adminToken);
      }
    });
  });

  describe("Preview change only for a principal allowed to make the change", () => {
    /** Saves a token of demo/USER in the options, as that person would. */
    const actAs = async (user: string) => {
      const { token } = json<{ token: string }>(
        await rolecall(["token", "create", "--db", h.dbPath!, "--tenant", "demo", "--user", user, "--json"]),
      );
      await h.saveOptions(h.httpUrl, token);
    };
    const SURFACE = `#${PANEL} [data-missing-surface="cxengage/contact-management-panel"]`;

    it("offers it to carol, the tenant's admin, in the overlay and the popup", async (ctx) => {
      // A sidecar the suite did not start (ROLECALL_TEST_SIDECAR_URL): no way to mint tokens.
      if (!h.dbPath) return ctx.skip();
      await actAs("carol");
      try {
        const page = await h.openDemo("demo/dave");
        await page.locator(`${SURFACE} [data-preview-permission="allowed"]`).waitFor();
        expect(await page.locator(`${SURFACE} [data-preview]`).count()).toBe(1);
        const popup = await h.openPopup("demo/dave");
        await h.waitForOrError(popup, `[data-permission="${UPDATE}"]`);
        await popup.click(`[data-permission="${UPDATE}"]`);
        const first = popup.locator(`[data-fixes="${UPDATE}"] li[data-fix]`).first();
        await first.locator("[data-preview]").click();
        await popup.locator('[data-preview-result="done"]').waitFor({ timeout: 10_000 });
        await Promise.all([page.close(), popup.close()]);
      } finally {
        await h.saveOptions(h.httpUrl, h.adminToken);
      }
    });

    it("does not offer it to bob, who may read decisions but not grant in CxEngage, though he sees the fix", async (ctx) => {
      // A sidecar the suite did not start (ROLECALL_TEST_SIDECAR_URL): no way to mint tokens.
      if (!h.dbPath) return ctx.skip();
      // Bob, a supervisor, made a Calabrio ONE role administrator: he may read anyone's decisions
      // (the read-decisions right) and simulate, but not grant CxEngage permissions.
      const { roleId } = (await h.admin("CreateRole", { tenantId: "demo", name: "Roles Reader" })) as {
        roleId: string;
      };
      await h.admin("SetRoleLicenses", {
        tenantId: "demo",
        roleId,
        licenseIds: ["calabrio-one/calabrio-one-access"],
      });
      await h.admin("GrantPermissions", {
        tenantId: "demo",
        roleId,
        permissions: ["calabrio-one/administer-roles"],
      });
      await h.admin("AssignRoles", { tenantId: "demo", userId: "bob", roleIds: [roleId] });
      await actAs("bob");
      try {
        const page = await h.openDemo("demo/dave");
        const fix = page.locator(`${SURFACE} [data-fix]`);
        await h.waitForOrError(page, `${SURFACE} [data-fix]`);
        expect(await fix.textContent()).toContain("Smallest fix: grant CONTACTS_UPDATE to role Custom Agent");
        await page.locator(`${SURFACE} [data-preview-permission="denied"]`).waitFor();
        expect(await page.locator(`${SURFACE} [data-preview]`).count()).toBe(0);
        const popup = await h.openPopup("demo/dave");
        await h.waitForOrError(popup, `[data-permission="${UPDATE}"]`);
        await popup.click(`[data-permission="${UPDATE}"]`);
        const fixes = popup.locator(`[data-fixes="${UPDATE}"]`);
        await fixes.locator('li[data-preview-permission="denied"]').first().waitFor();
        await expect
          .poll(() => fixes.locator('li[data-preview-permission="pending"]').count(), { timeout: 10_000 })
          .toBe(0);
        expect(await fixes.locator("[data-preview]").count()).toBe(0);
        await Promise.all([page.close(), popup.close()]);
      } finally {
        await h.saveOptions(h.httpUrl, h.adminToken);
        await h.admin("UnassignRoles", { tenantId: "demo", userId: "bob", roleIds: [roleId] });
        await h.admin("DeleteRole", { tenantId: "demo", roleId });
      }
    });
  });

  // Needs the history branch (ListAccessChanges) and the review branch (GET …/review?format=csv).
  describe("History and Export CSV", () => {
    it("lists dave's access changes, newest first", async () => {
      const grant = { tenantId: "demo", roleId: "custom-agent", permissions: [UPDATE] };
      await h.admin("GrantPermissions", grant);
      await h.admin("RevokePermissions", grant);
      const popup = await h.openPopup("demo/dave");
      await h.waitForOrError(popup, `[data-permission="${UPDATE}"]`);
      await popup.click("#history-button");
      await h.waitForOrError(popup, "[data-history-revision]");
      const items = popup.locator("[data-history-revision]");
      expect(await items.count()).toBeGreaterThanOrEqual(2);
      const revisions = (
        await items.evaluateAll((els) => els.map((e) => e.getAttribute("data-history-revision")))
      ).map(Number);
      expect(revisions).toEqual([...revisions].sort((a, b) => b - a));
      expect(await items.nth(0).locator(".lost").textContent()).toContain("CONTACTS_UPDATE");
      expect(await items.nth(1).locator(".gained").textContent()).toContain("CONTACTS_UPDATE");
      await h.screenshot(popup, "popup-history.png", "popup-history.png");
      await popup.close();
    });

    it("downloads the tenant's review as CSV, streamed by the browser through a single-use ticket", async () => {
      const popup = await h.openPopup("demo/dave");
      await h.waitForOrError(popup, `[data-permission="${UPDATE}"]`);
      const downloaded = popup.waitForEvent("download", { timeout: 10_000 });
      downloaded.catch(() => undefined); // a sidecar without the export fails below, with its message
      await popup.click("#export-csv");
      await h.waitForOrError(popup, "[data-exported]");
      const download = await downloaded;
      const csv = readFileSync((await download.path())!, "utf8");
      const lines = csv.trim().split("\n");
      expect(lines.length).toBeGreaterThan(1);
      expect(lines.some((l) => l.includes("dave") && /custom-agent|Custom Agent/.test(l))).toBe(true);
      expect(download.suggestedFilename()).toMatch(/\.csv$/);
      expect(await popup.locator("[data-exported]").getAttribute("data-exported")).toBe(
        download.suggestedFilename(),
      );
      // The browser fetched it (no token in the URL); the ticket served that one download.
      const url = download.url();
      expect(url).toMatch(/\/v1\/tenants\/demo\/review\?format=csv&ticket=[\w-]{43}$/);
      expect(url).not.toContain(h.adminToken);
      expect((await fetch(url)).status).toBe(401);
      // The extension's messages carry a URL, never the file.
      const reply = (await popup.evaluate(
        `chrome.runtime.sendMessage({ type: "reviewCsv", tenantId: "demo" })`,
      )) as { ok: boolean; value: Record<string, string> };
      expect(Object.keys(reply.value).sort()).toEqual(["filename", "url"]);
      await popup.close();
    });

    it("gives a principal without the tenant-wide read right no download, in one sentence", async (ctx) => {
      // A sidecar the suite did not start (ROLECALL_TEST_SIDECAR_URL): no way to mint tokens.
      if (!h.dbPath) return ctx.skip();
      const { token } = json<{ token: string }>(
        await rolecall(["token", "create", "--db", h.dbPath, "--tenant", "demo", "--user", "dave", "--json"]),
      );
      await h.saveOptions(h.httpUrl, token);
      try {
        const popup = await h.openPopup("demo/dave");
        await h.waitForOrError(popup, `[data-permission="${UPDATE}"]`);
        await popup.click("#export-csv");
        const error = popup.locator("#analysis [data-error]");
        await error.waitFor();
        expect(await error.textContent()).toContain("may not read the access review of tenant 'demo'");
        expect(await popup.locator("[data-exported]").count()).toBe(0);
        await popup.close();
      } finally {
        await h.saveOptions(h.httpUrl, h.adminToken);
      }
    });
  });
});
