/**
 * The web UI end to end: Debian's Chromium (playwright-core, no downloaded browser) against a real
 * `drumscribe serve` that serves this build's static export. Screenshots of every page, at laptop and
 * phone widths, go to /tmp/ui-shots/ (UI_SHOTS_DIR).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { PracticeProbe } from "../lib/practice/engine";
import { LAPTOP, PHONE, accessibilityProblems, instrument, shot } from "./browser";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  E2E_LIMITS,
  SHOTS,
  missingPrerequisite,
  renderSong,
  startFrontendServer,
  startServe,
  type Serve,
} from "./stack";

const missing = missingPrerequisite();
if (missing) console.warn(`SKIPPING the end-to-end tests: ${missing}`);

const JOB_DONE_MS = 150_000;

type Practice = { __drumscribePractice: PracticeProbe };

describe.skipIf(missing !== null)("DrumScribe in a browser", () => {
  let serve: Serve;
  let browser: Browser;
  let laptop: BrowserContext;
  let page: Page;
  let song: string;
  let songJobUrl = "";
  const cspViolations: string[] = [];

  /** A phone-sized tab that is the same browser for the API (it carries the laptop tab's cookie). */
  async function phonePage(): Promise<Page> {
    const phone = await browser.newContext({
      viewport: PHONE,
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      baseURL: serve.base,
    });
    await instrument(phone, cspViolations);
    await phone.addCookies(await laptop.cookies());
    return phone.newPage();
  }

  async function upload(target: Page, file: string | { name: string; mimeType: string; buffer: Buffer }) {
    await target.getByLabel("Choose an audio file").setInputFiles(file);
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    serve = await startServe();
    song = join(serve.dataDir, "Rock Groove.wav");
    renderSong(song);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    laptop = await browser.newContext({ viewport: LAPTOP, baseURL: serve.base, acceptDownloads: true });
    await instrument(laptop, cspViolations);
    page = await laptop.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    const code = await serve?.stop();
    if (code !== 0 && code !== undefined) console.warn(`drumscribe serve exited with ${code}; log: ${serve.log}`);
  }, 90_000);

  test("home offers a file drop and a link field, with labels", async () => {
    await page.goto("/");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toContain("drum sheet music");
    expect(await page.getByLabel("Choose an audio file").count()).toBe(1);
    expect(await page.getByLabel("YouTube or audio link").count()).toBe(1);
    // The deployment's own limits (E2E_LIMITS), not the defaults built into the page.
    await page.getByText("up to 50 MB and 10 minutes.").waitFor();
    await shot(page, "home-laptop");
    expect(await accessibilityProblems(page)).toEqual([]);
    const phone = await phonePage();
    await phone.goto("/");
    await shot(phone, "home-phone");
    // Nothing wider than the phone's screen.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await phone.context().close();
  });

  test("a text file is refused before it is uploaded", async () => {
    await page.goto("/");
    await upload(page, { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a song\n") });
    const alert = page.locator(".new-job").getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toContain("“notes.txt” is not an audio file");
    await shot(page, "home-refused-laptop");
    expect(await accessibilityProblems(page)).toEqual([]);

    // The same check for a file dropped on the drop zone.
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File(["\x89PNG"], "cover.png", { type: "image/png" }));
      const zone = document.querySelector(".dropzone") as HTMLElement;
      for (const type of ["dragenter", "dragover", "drop"]) {
        zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
      }
    });
    await page.locator(".new-job").getByRole("alert").filter({ hasText: "“cover.png” is not an audio file" }).waitFor();
  });

  test("a song longer than the limit is refused before it is uploaded, in minutes", async () => {
    // A WAV of 601 silent seconds (8 kHz, 8-bit: 4.8 MB, far under the size limit), one past the limit.
    const seconds = E2E_LIMITS.max_duration_seconds + 1;
    const rate = 8000;
    const header = Buffer.alloc(44);
    header.write("RIFF", 0);
    header.writeUInt32LE(36 + seconds * rate, 4);
    header.write("WAVEfmt ", 8);
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20); // PCM
    header.writeUInt16LE(1, 22); // mono
    header.writeUInt32LE(rate, 24);
    header.writeUInt32LE(rate, 28); // bytes a second
    header.writeUInt16LE(1, 32); // bytes a frame
    header.writeUInt16LE(8, 34); // bits a sample
    header.write("data", 36);
    header.writeUInt32LE(seconds * rate, 40);
    const wav = Buffer.concat([header, Buffer.alloc(seconds * rate, 128)]);
    const uploads: string[] = [];
    const count = (request: { method(): string; url(): string }) => {
      if (request.method() === "POST" && new URL(request.url()).pathname === "/api/v1/jobs") uploads.push(request.url());
    };
    page.on("request", count);
    await page.goto("/");
    await upload(page, { name: "Long Take.wav", mimeType: "audio/wav", buffer: wav });
    const alert = page.locator(".new-job").getByRole("alert");
    await alert.waitFor({ timeout: 30_000 });
    expect((await alert.textContent())?.trim()).toBe(
      "“Long Take.wav” lasts 10 min 1 s; songs can be up to 10 minutes long. Upload the part you want to play, cut to that length.",
    );
    page.off("request", count);
    expect(uploads).toEqual([]);
  });

  test("a text file named like a song is refused by the API, whose message is shown verbatim", async () => {
    const body = Buffer.from("hello, this is not a song\n");
    const direct = await laptop.request.post("/api/v1/jobs", {
      multipart: { file: { name: "notes.mp3", mimeType: "audio/mpeg", buffer: body } },
    });
    expect([415, 422]).toContain(direct.status());
    const { detail } = (await direct.json()) as { detail: string };
    await page.goto("/");
    await upload(page, { name: "notes.mp3", mimeType: "audio/mpeg", buffer: body });
    const alert = page.locator(".new-job").getByRole("alert");
    await alert.waitFor({ timeout: 30_000 });
    expect((await alert.textContent())?.trim()).toBe(detail);
    await shot(page, "home-server-refused-laptop");
  });

  test("an uploaded song goes through the four steps to a sheet, a player and downloads", async () => {
    await page.goto("/");
    // A slow line (256 KB/s up), so that the upload's progress shows.
    const cdp = await laptop.newCDPSession(page);
    const line = (uploadThroughput: number) =>
      cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput });
    await line(256 * 1024);
    await upload(page, song);
    await page.waitForFunction(() => Number(document.querySelector(".upload progress")?.getAttribute("value")) > 0, null, {
      timeout: 20_000,
    });
    expect(await page.locator(".upload").textContent()).toMatch(/Uploading Rock Groove\.wav.*\d+% · [\d.]+ KB of 797 KB/);
    await shot(page, "home-uploading-laptop");
    await page.waitForURL(/\/job\/\?id=/, { timeout: 60_000 });
    await line(-1);
    songJobUrl = page.url();
    await page.locator("ol.steps").waitFor();
    expect(await page.locator("ol.steps > li").allTextContents()).toEqual([
      expect.stringContaining("Reading audio"),
      expect.stringContaining("Separating drums"),
      expect.stringContaining("Detecting hits"),
      expect.stringContaining("Writing the sheet"),
    ]);
    expect(await page.locator(".elapsed").textContent()).toMatch(/^\d+:\d\d$/);
    await shot(page, "job-progress-laptop");
    expect(await accessibilityProblems(page)).toEqual([]);
    const phoneWhileRunning = await phonePage();
    await phoneWhileRunning.goto(songJobUrl);
    await phoneWhileRunning.locator("ol.steps").waitFor();
    await shot(phoneWhileRunning, "job-progress-phone");
    await phoneWhileRunning.context().close();
    // Catch it mid-way as well, while a later step runs.
    await page
      .locator(".step--done")
      .first()
      .waitFor({ timeout: JOB_DONE_MS })
      .then(() => shot(page, "job-progress-later-laptop"))
      .catch(() => undefined);

    await page.locator(".sheet svg").first().waitFor({ timeout: JOB_DONE_MS });
    const facts = await page.locator(".facts").textContent();
    expect(facts).toContain("120 BPM");
    expect(facts).toContain("4/4");
    for (const label of ["PDF", "MusicXML", "MIDI", "drums.wav"]) {
      expect(await page.locator(".download__label", { hasText: label }).count()).toBe(1);
    }
    // The practice player plays the separated drums (with the song and the band where the job has them).
    const sources = await page.evaluate(() => (window as unknown as Practice).__drumscribePractice.tracks().map((t) => t.src));
    expect(sources).toContainEqual(expect.stringMatching(/\/artifacts\/drums\.wav$/));

    // Pointing anywhere in a bar (here at one of its notes) goes to where that bar is heard: the song
    // starts 0.5 s into the audio at 120 bpm (hits.json's beat_times), so bar 2 from 2.5 s to 4.5 s.
    await page.locator(".bars .bar").first().waitFor();
    const noteInBar2 = page.locator(".sheet g.measure").nth(1).locator("g.note").first();
    await noteInBar2.scrollIntoViewIfNeeded();
    const note = await noteInBar2.boundingBox();
    await page.mouse.click(note!.x + note!.width / 2, note!.y + note!.height / 2);
    await page.waitForFunction(() => Math.abs((window as unknown as Practice).__drumscribePractice.clock().mediaS - 2.5) < 0.03);
    // The cursor: the bar and the notes heard there light up.
    await page.locator('.bar--current[data-bar="1"]').waitFor({ timeout: 10_000 });
    await page.locator(".sheet .is-playing").first().waitFor({ timeout: 10_000 });
    await shot(page, "result-laptop");
    expect(await accessibilityProblems(page)).toEqual([]);

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator("a.download", { hasText: "PDF" }).click(),
    ]);
    const pdf = readFileSync(await download.path());
    expect(pdf.subarray(0, 4).toString("latin1")).toBe("%PDF");
    expect(download.suggestedFilename()).toMatch(/sheet_music\.pdf$/);

    const phone = await phonePage();
    await phone.goto(songJobUrl);
    await phone.locator(".sheet svg").first().waitFor({ timeout: 60_000 });
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await shot(phone, "result-phone");
    expect(await accessibilityProblems(phone)).toEqual([]);
    await phone.context().close();
    // The engraved sheet (verovio's WebAssembly), the player and the downloads within the pages' policy.
    expect(cspViolations).toEqual([]);
  }, JOB_DONE_MS + 60_000);

  test("a job that fails names the stage and the reason, and offers a retry", async () => {
    await page.goto("/");
    // Nothing listens on port 9 of this machine: the ingest stage fails to fetch the link.
    await page.getByLabel("YouTube or audio link").fill("http://127.0.0.1:9/song.mp3");
    await page.getByRole("button", { name: "Transcribe link" }).click();
    await page.waitForURL(/\/job\/\?id=/, { timeout: 30_000 });
    const firstUrl = page.url();
    const failure = page.locator(".failure");
    await failure.waitFor({ timeout: 60_000 });
    expect(await failure.locator("h2").textContent()).toBe("Failed at “Reading audio”");
    // A musician's words: what happened and what to do, no server detail.
    const message = (await failure.locator(".failure__message").textContent()) ?? "";
    expect(message).toContain("couldn't reach that link");
    expect(message).not.toMatch(/\/(tmp|home|usr|data)\/|[A-Z_]{4,}=|Errno|Traceback/);
    expect(await page.locator(".step--failed").count()).toBe(1);
    await shot(page, "job-failed-laptop");
    expect(await accessibilityProblems(page)).toEqual([]);
    const phone = await phonePage();
    await phone.goto(firstUrl);
    await phone.locator(".failure").waitFor({ timeout: 30_000 });
    await shot(phone, "job-failed-phone");
    await phone.context().close();

    await page.getByRole("button", { name: "Try again" }).click();
    await page.waitForURL((url) => url.toString() !== firstUrl && url.searchParams.has("id"), { timeout: 30_000 });
    await page.locator(".failure").waitFor({ timeout: 60_000 });
  }, 180_000);

  test("history lists this browser's jobs newest first, with their status, and deletes", async () => {
    await page.goto("/history/");
    const items = page.locator(".history__item");
    await items.first().waitFor();
    const names = await page.locator(".history__name").allTextContents();
    // Newest first: the retried link, the link, then the song.
    expect(names).toEqual(["song", "song", "Rock Groove"].map((n) => expect.stringContaining(n)));
    expect(await items.first().locator(".badge").textContent()).toBe("Failed");
    expect(await items.last().locator(".badge").textContent()).toBe("Done");
    await shot(page, "history-laptop");
    expect(await accessibilityProblems(page)).toEqual([]);
    const phone = await phonePage();
    await phone.goto("/history/");
    await phone.locator(".history__item").first().waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await shot(phone, "history-phone");
    await phone.context().close();

    page.once("dialog", (dialog) => void dialog.accept());
    await items.first().getByRole("button", { name: /^Delete/ }).click();
    await page.waitForFunction(() => document.querySelectorAll(".history__item").length === 2);
    expect((await page.locator('[role="status"]').allTextContents()).join(" ")).toContain("Deleted");

    // Keyboard: the first job's link is reachable by Tab and opens its page.
    await page.goto("/history/");
    await items.first().waitFor();
    await page.locator(".history__name").first().focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/job\/\?id=/);
  });

  test("another browser has an empty history", async () => {
    const other = await browser.newContext({ viewport: LAPTOP, baseURL: serve.base });
    const fresh = await other.newPage();
    await fresh.goto("/history/");
    await fresh.getByText("No transcriptions yet").waitFor();
    await shot(fresh, "history-empty-laptop");
    await fresh.goto(songJobUrl);
    await fresh.getByRole("heading", { name: "Job not found" }).waitFor();
    await shot(fresh, "job-not-found-laptop");
    await other.close();
  });

  test("pages are found with or without their trailing slash, and unknown ones get the 404 page", async () => {
    for (const [path, heading] of [
      ["/history", "History"],
      ["/job", "No job to show"],
    ]) {
      const answer = await page.goto(path);
      expect(answer?.ok()).toBe(true);
      expect(new URL(page.url()).pathname).toBe(`${path}/`);
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
    }
    const missingPage = await page.goto("/no-such-page/");
    expect(missingPage?.status()).toBe(404);
    await page.getByRole("heading", { name: "Page not found" }).waitFor();
  });

  test("the compose frontend service (server.mjs) serves the pages and passes /api to the API", async () => {
    const frontend = await startFrontendServer(serve.base);
    try {
      // The compose health check, verbatim but for the port.
      execFileSync(process.execPath, [
        "-e",
        `fetch('${frontend.base}/').then(r => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))`,
      ]);
      const other = await browser.newContext({ viewport: LAPTOP, baseURL: frontend.base });
      await instrument(other, cspViolations);
      await other.addCookies((await laptop.cookies()).map((c) => ({ ...c })));
      const tab = await other.newPage();
      const history = await tab.goto("/history");
      expect(new URL(tab.url()).pathname).toBe("/history/");
      const headers = (await history?.allHeaders()) ?? {};
      expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(headers["x-frame-options"]).toBe("DENY");
      await tab.locator(".history__item").first().waitFor();
      await tab.goto(songJobUrl.replace(serve.base, frontend.base));
      await tab.locator(".sheet svg").first().waitFor({ timeout: 60_000 });
      const range = await other.request.get(
        (await tab.locator("a.download", { hasText: "drums.wav" }).getAttribute("href")) as string,
        { headers: { Range: "bytes=0-3" } },
      );
      expect(range.status()).toBe(206);
      expect((await range.body()).toString("latin1")).toBe("RIFF");
      expect(cspViolations).toEqual([]);
      await other.close();
    } finally {
      await frontend.stop();
    }
  }, 90_000);

  test("the API's docs show its operations, from the API's own files only", async () => {
    const tab = await laptop.newPage();
    const origins = new Set<string>();
    tab.on("request", (request) => {
      if (request.url().startsWith("http")) origins.add(new URL(request.url()).origin);
    });
    const docs = await tab.goto("/docs");
    expect((await docs?.allHeaders())?.["content-security-policy"]).toContain("script-src 'self' 'sha256-");
    await tab.locator(".opblock").first().waitFor({ timeout: 30_000 });
    expect(await tab.locator(".opblock").count()).toBeGreaterThanOrEqual(6);
    expect([...origins]).toEqual([serve.base]);
    expect(cspViolations).toEqual([]);
    await tab.close();
  });
});
