/**
 * Share links end to end, in Debian's Chromium against a real `drumscribe serve`: the owner makes a
 * read-only link on the result page; a second browser context (none of the owner's cookies) opens it and
 * sees the title, the sheet, the player and the downloads, through /api/v1/shared/ only, with a job list
 * of its own that is empty; the owner revokes the link and the shared page says it no longer works.
 */

import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { JOB_DONE_MS, LAPTOP, PHONE, accessibilityProblems, instrument, shot, endStage, stageTranscribedJob, type JobOut } from "./browser";
import { missingPrerequisite, type Serve } from "./stack";

const missing = missingPrerequisite();
if (missing) console.warn(`SKIPPING the share links' end-to-end tests: ${missing}`);



describe.skipIf(missing !== null)("share links", () => {
  let serve: Serve;
  let browser: Browser;
  let owner: BrowserContext;
  let guest: BrowserContext;
  let page: Page;
  let guestPage: Page;
  let job: JobOut;
  let address = "";
  const guestRequests: string[] = [];
  const cspViolations: string[] = [];

  /** Presses Tab until `target` has the focus (at most `limit` times); false if it never does. */
  async function tabTo(target: Page, selector: string, limit = 60): Promise<boolean> {
    for (let i = 0; i < limit; i++) {
      await target.keyboard.press("Tab");
      if (await target.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return true;
    }
    return false;
  }

  beforeAll(async () => {
    ({ serve, browser, context: owner, job } = await stageTranscribedJob("Share Groove.wav", cspViolations));
    page = await owner.newPage();
    await page.goto(`/job/?id=${job.id}`);
    await page.locator(".sheet__svg svg").first().waitFor({ timeout: 60_000 });
    guest = await browser.newContext({ viewport: LAPTOP, baseURL: serve.base });
    await instrument(guest, cspViolations);
    guest.on("request", (request) => guestRequests.push(new URL(request.url()).pathname));
  }, JOB_DONE_MS + 120_000);

  afterAll(() => endStage({ serve, browser }), 90_000);

  test("the owner makes a link with the keyboard and sees it listed", async () => {
    await expect.poll(() => page.locator(".share .hint", { hasText: "No active links." }).count()).toBe(1);
    await page.locator("h1").focus();
    expect(await tabTo(page, ".share__create")).toBe(true);
    await page.keyboard.press("Enter");
    const input = page.locator("#share-address");
    await input.waitFor();
    address = await input.inputValue();
    expect(address).toMatch(new RegExp(`^${serve.base}/shared/\\?token=[A-Za-z0-9_-]{20,}$`));
    await expect.poll(() => page.locator(".share__item").count()).toBe(1);
    const prefix = await page.locator(".share__item code").textContent();
    expect(address).toContain(`token=${prefix!.replace("…", "")}`);
    expect(await tabTo(page, ".share__item button")).toBe(true);
    expect(await accessibilityProblems(page)).toEqual([]);
    await shot(page, "share-owner-laptop");
  });

  test("a second browser opens it: title, sheet, player, downloads; only the shared API is asked", async () => {
    guestPage = await guest.newPage();
    await guestPage.goto(address);
    await guestPage.locator(".sheet__svg svg").first().waitFor({ timeout: 60_000 });
    expect(await guestPage.locator("h1").textContent()).toBe(job.title ?? "Shared drum sheet");
    expect(await guestPage.locator(".transport__play").count()).toBe(1);
    expect(await guestPage.locator(".share").count()).toBe(0);
    const hrefs = await guestPage.locator(".download").evaluateAll((els) => els.map((el) => el.getAttribute("href") ?? ""));
    expect(hrefs.length).toBeGreaterThanOrEqual(3);
    for (const href of hrefs) expect(href).toMatch(/^\/api\/v1\/shared\/[^/]+\/artifacts\//);
    const pdf = await guest.request.get(hrefs.find((h) => h.endsWith(".pdf"))!);
    expect(pdf.status()).toBe(200);
    expect((await pdf.body()).subarray(0, 4).toString()).toBe("%PDF");
    // The player's tracks stream from the link too.
    await expect.poll(() => guestRequests.some((p) => /^\/api\/v1\/shared\/[^/]+\/artifacts\/drums\.wav$/.test(p))).toBe(true);
    expect(guestRequests.filter((p) => p.startsWith("/api/v1/jobs"))).toEqual([]);
    expect(await accessibilityProblems(guestPage)).toEqual([]);
    await shot(guestPage, "share-guest-laptop");
    // The guest's own job list is empty, and its history page says so.
    const list = (await (await guest.request.get("/api/v1/jobs")).json()) as { jobs: unknown[] };
    expect(list.jobs).toEqual([]);
    const history = await guest.newPage();
    await history.goto("/history/");
    await history.locator(".state--empty").waitFor();
    await history.close();
  });

  test("at phone width the shared page fits and its controls are reachable by keyboard", async () => {
    const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, baseURL: serve.base });
    await instrument(phone, cspViolations);
    const tab = await phone.newPage();
    await tab.goto(address);
    await tab.locator(".sheet__svg svg").first().waitFor({ timeout: 60_000 });
    expect(await tab.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await tab.locator("h1").focus();
    expect(await tabTo(tab, ".download")).toBe(true);
    expect(await tabTo(tab, ".transport__play")).toBe(true);
    expect(await accessibilityProblems(tab)).toEqual([]);
    await shot(tab, "share-guest-phone");
    await phone.close();
  });

  test("revoked, the link is gone at once: the page says so and the files are refused", async () => {
    const pdfHref = await guestPage.locator(".download").evaluateAll((els) =>
      els.map((el) => el.getAttribute("href") ?? "").find((h) => h.endsWith(".pdf")),
    );
    await page.locator(".share__item button").click();
    await expect.poll(() => page.locator(".share__item").count()).toBe(0);
    expect(await page.locator("#share-address").count()).toBe(0);
    await guestPage.reload();
    await guestPage.locator("h1", { hasText: "This link no longer works" }).waitFor();
    expect(await guestPage.locator(".sheet").count()).toBe(0);
    expect((await guest.request.get(pdfHref!)).status()).toBe(404);
    expect(await accessibilityProblems(guestPage)).toEqual([]);
    // A token that never existed reads the same.
    await guestPage.goto("/shared/?token=not-a-real-token-at-all");
    await guestPage.locator("h1", { hasText: "This link no longer works" }).waitFor();
    await shot(guestPage, "share-gone-laptop");
  });

  test("no Content-Security-Policy violation on any page", () => {
    expect(cspViolations).toEqual([]);
  });
});
