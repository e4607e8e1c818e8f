/**
 * The practice player end to end, in Debian's Chromium against a real `drumscribe serve`: one song is
 * transcribed through the API (the e2e song: four bars of 4/4 at 120 BPM from 0.5 s), then its result
 * page is played. What is measured is the page's real audio graph, read through the player's probe
 * (window.__drumscribePractice): the media elements' clock and speed, the clicks it started on the
 * audio context's clock, and the level after each track's volume.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { PracticeProbe } from "../lib/practice/engine";
import {
  JOB_DONE_MS,
  PHONE,
  accessibilityProblems,
  instrument,
  shot,
  shotOf,
  endStage,
  stageTranscribedJob,
  type JobOut,
} from "./browser";
import { missingPrerequisite, type Serve } from "./stack";

const missing = missingPrerequisite();
if (missing) console.warn(`SKIPPING the player's end-to-end tests: ${missing}`);

const TRACK_FILES = ["song.wav", "drums.wav", "band.wav"];

type Practice = { __drumscribePractice: PracticeProbe };
type Hits = { beat_times: number[]; downbeat_times: number[] };

describe.skipIf(missing !== null)("the practice player", () => {
  let serve: Serve;
  let browser: Browser;
  let laptop: BrowserContext;
  let page: Page;
  let job: JobOut;
  let hits: Hits;
  const cspViolations: string[] = [];

  /** Reads the player's probe in `target` (evaluated by the browser's debugger, which the page's CSP leaves alone). */
  function probe<T>(target: Page, read: (p: PracticeProbe) => T): Promise<T> {
    return target.evaluate(`(${read.toString()})(window.__drumscribePractice)`) as Promise<T>;
  }

  /** The highest level a track (or the click) reaches over `ms`, sampled on every animation frame. */
  function loudest(target: Page, track: string, ms: number): Promise<number> {
    return target.evaluate(
      ([name, duration]) =>
        new Promise<number>((done) => {
          const p = (window as unknown as Practice).__drumscribePractice;
          const until = performance.now() + Number(duration);
          let max = 0;
          const look = () => {
            max = Math.max(max, p.level(name as "drums"));
            if (performance.now() < until) requestAnimationFrame(look);
            else done(max);
          };
          look();
        }),
      [track, ms] as const,
    );
  }

  async function currentBar(target: Page): Promise<number> {
    return Number(await target.locator(".bar--current").first().getAttribute("data-bar"));
  }

  /** Centre of bar `index` (0-based) on the sheet, in the viewport. */
  async function barCentre(target: Page, index: number): Promise<{ x: number; y: number }> {
    const bar = target.locator(`.bar[data-bar="${index}"]`);
    await bar.scrollIntoViewIfNeeded();
    const box = (await bar.boundingBox())!;
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  }

  async function pause(target: Page): Promise<void> {
    const play = target.locator(".transport__play");
    if ((await play.getAttribute("data-state")) === "playing") await play.click();
    await target.locator('.transport__play[data-state="paused"]').waitFor();
  }

  async function openResult(target: Page): Promise<void> {
    await target.goto(`/job/?id=${job.id}`);
    await target.locator(".bars .bar").first().waitFor({ timeout: 60_000 });
  }

  beforeAll(async () => {
    ({ serve, browser, context: laptop, job } = await stageTranscribedJob("Practice Groove.wav", cspViolations));
    page = await laptop.newPage();
    const hitsUrl = job.artifacts.find((a) => a.name === "hits.json")!.url;
    hits = (await (await laptop.request.get(hitsUrl)).json()) as Hits;
    await openResult(page);
  }, JOB_DONE_MS + 120_000);

  afterAll(() => endStage({ serve, browser }), 90_000);

  test("it offers the job's tracks, found by name, and the click; no browser player", async () => {
    const present = TRACK_FILES.filter((name) => job.artifacts.some((a) => a.name === name));
    expect(present).toContain("drums.wav");
    const rows = await page.locator(".mixer__row").evaluateAll((els) => els.map((el) => el.getAttribute("data-track")));
    expect(rows).toEqual([...present.map((name) => name.replace(".wav", "")), "click"]);
    const sources = await probe(page, (p) => p.tracks().map((t) => t.src.replace(/^.*\//, "")));
    expect(sources).toEqual(present);
    expect(await page.locator("audio[controls]").count()).toBe(0);
    expect(await page.locator(".transport__bar").textContent()).toBe("Before bar 1");
    // Four bars on the sheet, each one a button.
    expect(await page.locator(".bars .bar").count()).toBe(4);
  });

  test("a click anywhere in a bar, not only on a note, goes to where the bar is heard", async () => {
    await pause(page);
    await page.locator('.bar[data-bar="2"]').scrollIntoViewIfNeeded();
    const bar = (await page.locator('.bar[data-bar="2"]').boundingBox())!;
    // The top edge of the bar's area: above the staff, where no note is drawn.
    await page.mouse.click(bar.x + bar.width * 0.6, bar.y + 3);
    await page.locator('.bar--current[data-bar="2"]').waitFor();
    const at = await probe(page, (p) => p.clock().mediaS);
    expect(at).toBeCloseTo(hits.downbeat_times[2], 2);
    expect(await page.locator(".transport__bar").textContent()).toBe("Bar 3 of 4 · beat 1");
  });

  test("at a changed speed, a loop of two bars keeps the cursor in them, a little faster each pass", async () => {
    await pause(page);
    // Bar 2, then shift-click bar 3: the loop.
    let centre = await barCentre(page, 1);
    await page.mouse.click(centre.x, centre.y);
    centre = await barCentre(page, 2);
    await page.keyboard.down("Shift");
    await page.mouse.click(centre.x, centre.y);
    await page.keyboard.up("Shift");
    expect(await page.locator(".practice__loop").textContent()).toBe("Repeating bars 2–3");
    expect(await page.locator(".bar--loop").evaluateAll((els) => els.map((el) => el.getAttribute("data-bar")))).toEqual(["1", "2"]);
    expect(await page.locator(".transport__loop").getAttribute("aria-pressed")).toBe("true");

    // 135 %, by the speed slider's keyboard (End is 150, then three steps down).
    const slider = page.getByRole("slider", { name: "Speed" });
    await slider.focus();
    await page.keyboard.press("End");
    for (let i = 0; i < 3; i += 1) await page.keyboard.press("ArrowLeft");
    expect(await page.locator(".transport__rate").textContent()).toBe("135%");
    await page.locator(".transport__play").click();
    await page.locator('.transport__play[data-state="playing"]').waitFor();
    const clock = await probe(page, (p) => p.clock());
    expect(clock.rate).toBeCloseTo(1.35);
    expect(clock.preservesPitch).toBe(true);

    // Two bars at 120 BPM take 4 s, 2.96 s at 135 %: watch the cursor for two passes.
    const seen: { bar: number; mediaS: number }[] = [];
    const until = Date.now() + 6500;
    while (Date.now() < until) {
      seen.push({ bar: await currentBar(page), mediaS: await probe(page, (p) => p.clock().mediaS) });
      await page.waitForTimeout(80);
    }
    await pause(page);
    const start = hits.downbeat_times[1];
    const end = hits.downbeat_times[3];
    expect(new Set(seen.map((s) => s.bar))).toEqual(new Set([1, 2]));
    for (const s of seen) {
      expect(s.mediaS).toBeGreaterThanOrEqual(start - 0.02);
      expect(s.mediaS).toBeLessThan(end + 0.1);
    }
    const wraps = seen.filter((s, i) => i > 0 && s.mediaS < seen[i - 1].mediaS - 1);
    expect(wraps.length).toBeGreaterThanOrEqual(1);
    // The bar after the loop is never shown: from bar 3 the cursor goes back to bar 2.
    expect(seen.every((s, i) => i === 0 || !(seen[i - 1].bar === 2 && s.bar === 0))).toBe(true);

    // Each pass 5 % faster, up to 100 %: from 85 % one pass later the speed is 90 %.
    await page.getByLabel("Each pass 5% faster, up to 100%").check();
    await slider.focus();
    for (let i = 0; i < 10; i += 1) await page.keyboard.press("ArrowLeft");
    expect(await page.locator(".transport__rate").textContent()).toBe("85%");
    // One bar: ] on bar 3 after [ on bar 3.
    centre = await barCentre(page, 2);
    await page.mouse.click(centre.x, centre.y);
    await page.keyboard.press("[");
    await page.keyboard.press("]");
    expect(await page.locator(".practice__loop").textContent()).toBe("Repeating bar 3");
    await page.locator(".transport__play").click();
    await page.locator(".transport__rate", { hasText: "90%" }).waitFor({ timeout: 6000 });
    expect(await probe(page, (p) => p.clock().rate)).toBeCloseTo(0.9);
    expect(await page.locator(".practice__loop").textContent()).toMatch(/^Repeating bar 3, pass \d$/);
    await pause(page);
    await page.getByLabel("Each pass 5% faster, up to 100%").uncheck();
    await page.getByRole("button", { name: "Clear loop" }).click();
    expect(await page.locator(".bar--loop").count()).toBe(0);
  }, 60_000);

  test("the count-in clicks one bar at the sheet's tempo, following the speed, and the click keeps time", async () => {
    await pause(page);
    const beat = hits.beat_times[1] - hits.beat_times[0];
    const slider = page.getByRole("slider", { name: "Speed" });
    await slider.focus();
    await page.keyboard.press("Home");
    for (let i = 0; i < 6; i += 1) await page.keyboard.press("ArrowRight");
    expect(await page.locator(".transport__rate").textContent()).toBe("80%");
    await page.getByLabel("Count in one bar before playing").check();
    const centre = await barCentre(page, 0);
    await page.mouse.click(centre.x, centre.y);
    const before = await probe(page, (p) => p.clicks().length);

    // Listen to the click's output while it counts in: four clicks, a beat of the sheet apart at 80 %.
    await page.locator(".transport__play").click();
    const heard = page.evaluate(
      (ms) =>
        new Promise<number[]>((done) => {
          const p = (window as unknown as Practice).__drumscribePractice;
          const onsets: number[] = [];
          let loud = false;
          const until = performance.now() + ms;
          const look = () => {
            const level = p.level("click");
            if (level > 0.05 && !loud) onsets.push(p.clock().contextS);
            loud = level > 0.01;
            if (performance.now() < until) requestAnimationFrame(look);
            else done(onsets);
          };
          look();
        }),
      3000,
    );
    await page.locator(".transport__bar", { hasText: "Count-in" }).waitFor();
    const onsets = await heard;
    await page.locator('.transport__play[data-state="playing"]').waitFor();
    const counted = (await probe(page, (p) => p.clicks())).slice(before).filter((c) => c.countIn);
    expect(counted.map((c) => c.accent)).toEqual([true, false, false, false]);
    for (let k = 1; k < counted.length; k += 1) expect(counted[k].at - counted[k - 1].at).toBeCloseTo(beat / 0.8, 3);
    // Heard as well as scheduled: four onsets in the click's output, about a beat apart (frames are 1/60 s).
    expect(onsets.length).toBe(4);
    for (let k = 1; k < onsets.length; k += 1) expect(Math.abs(onsets[k] - onsets[k - 1] - beat / 0.8)).toBeLessThan(0.05);
    // The music starts on bar 1's downbeat, one beat after the last count.
    expect(await currentBar(page)).toBe(0);
    await pause(page);
    await page.getByLabel("Count in one bar before playing").uncheck();

    // The click during playback: on the beats of hits.json, accented on the downbeats, at 80 %.
    await page.getByRole("switch", { name: "Click" }).check();
    await page.mouse.click(centre.x, centre.y);
    const from = await probe(page, (p) => p.clicks().length);
    await page.locator(".transport__play").click();
    await page.waitForTimeout(2600);
    await pause(page);
    const ticks = (await probe(page, (p) => p.clicks())).slice(from).filter((c) => !c.countIn);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks[0].accent).toBe(true);
    expect(ticks.slice(1, 4).map((c) => c.accent)).toEqual([false, false, false]);
    for (let k = 1; k < ticks.length; k += 1) expect(ticks[k].at - ticks[k - 1].at).toBeCloseTo(beat / 0.8, 1);
    await page.getByRole("switch", { name: "Click" }).uncheck();
  }, 60_000);

  test("the drums switch off and on (with the switch and with M)", async () => {
    await pause(page);
    await slowestToNormal(page);
    const centre = await barCentre(page, 0);
    await page.mouse.click(centre.x, centre.y);
    await page.locator(".transport__play").click();
    expect(await loudest(page, "drums", 1200)).toBeGreaterThan(0.05);
    const drums = page.getByRole("switch", { name: "Drums" });
    await drums.uncheck();
    // The level meter holds 85 ms of sound: let what was heard before the switch leave it.
    await page.waitForTimeout(250);
    expect(await loudest(page, "drums", 1200)).toBeLessThan(0.001);
    // Still playing, in time: switched off is silent, not stopped.
    expect(await probe(page, (p) => p.tracks().every((t) => !t.paused))).toBe(true);
    await page.keyboard.press("m");
    expect(await drums.isChecked()).toBe(true);
    expect(await loudest(page, "drums", 1200)).toBeGreaterThan(0.05);
    await pause(page);
  }, 30_000);

  test("the keyboard plays, moves between bars, loops, changes speed and switches the drums and the click", async () => {
    await pause(page);
    // From bar 1, so that the next bar is on the sheet.
    const start = await barCentre(page, 0);
    await page.mouse.click(start.x, start.y);
    await page.locator('.bar--current[data-bar="0"]').waitFor();
    await page.locator(".shortcuts summary").focus();
    // Tab reaches the sheet's bars (one stop for the whole sheet).
    for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.classList.contains("bar"))); i += 1) {
      await page.keyboard.press("Tab");
    }
    const focused = page.locator(".bar:focus");
    expect(await focused.count()).toBe(1);
    // Visibly focused.
    expect(await focused.evaluate((el) => getComputedStyle(el).outlineStyle)).toBe("solid");
    const first = Number(await focused.getAttribute("data-bar"));
    expect(first).toBe(0);
    await page.keyboard.press("ArrowRight");
    await page.locator(`.bar:focus[data-bar="${first + 1}"]`).waitFor();
    await page.locator(`.bar--current[data-bar="${first + 1}"]`).waitFor();
    await page.keyboard.press("ArrowLeft");
    await page.locator(`.bar--current[data-bar="${first}"]`).waitFor();
    // Enter on another bar goes there.
    await page.locator('.bar[data-bar="3"]').focus();
    await page.keyboard.press("Enter");
    await page.locator('.bar--current[data-bar="3"]').waitFor();
    expect(await probe(page, (p) => p.clock().mediaS)).toBeCloseTo(hits.downbeat_times[3], 2);

    // [ on bar 3, ] on bar 4: the loop; L turns it off and on.
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("[");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("]");
    expect(await page.locator(".practice__loop").textContent()).toBe("Repeating bars 3–4");
    await page.keyboard.press("l");
    expect(await page.locator(".transport__loop").getAttribute("aria-pressed")).toBe("false");
    await page.keyboard.press("L");
    expect(await page.locator(".transport__loop").getAttribute("aria-pressed")).toBe("true");

    // Speed: + and -.
    const rate = Number((await page.locator(".transport__rate").textContent())!.replace("%", ""));
    await page.keyboard.press("+");
    await page.keyboard.press("+");
    await page.keyboard.press("-");
    expect(await page.locator(".transport__rate").textContent()).toBe(`${rate + 5}%`);

    // M and C.
    const drums = page.getByRole("switch", { name: "Drums" });
    const click = page.getByRole("switch", { name: "Click" });
    const drumsOn = await drums.isChecked();
    const clickOn = await click.isChecked();
    await page.keyboard.press("m");
    await page.keyboard.press("c");
    expect(await drums.isChecked()).toBe(!drumsOn);
    expect(await click.isChecked()).toBe(!clickOn);
    await page.keyboard.press("M");
    await page.keyboard.press("C");

    // Space plays and pauses, even with the focus on a bar.
    await page.locator('.bar[data-bar="2"]').focus();
    await page.keyboard.press(" ");
    await page.locator('.transport__play[data-state="playing"]').waitFor();
    await page.waitForTimeout(500);
    await page.keyboard.press(" ");
    await page.locator('.transport__play[data-state="paused"]').waitFor();
    // Space on bar 3 did not also go to bar 3: the music played on from bar 4, where it was.
    expect(await probe(page, (p) => p.clock().mediaS)).toBeGreaterThan(hits.downbeat_times[3] + 0.2);
    expect(await accessibilityProblems(page)).toEqual([]);
  }, 30_000);

  test("with a loop set, at laptop and phone width: screenshots, no axe finding, no CSP violation", async () => {
    await pause(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    expect(await page.locator(".bar--loop").count()).toBeGreaterThan(0);
    await shot(page, "player-loop-laptop");
    await shotOf(page.locator("section.score"), "player-loop-laptop-score");
    expect(await accessibilityProblems(page)).toEqual([]);

    const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, baseURL: serve.base });
    await instrument(phone, cspViolations);
    await phone.addCookies(await laptop.cookies());
    const tab = await phone.newPage();
    await openResult(tab);
    // A tap on bar 2 goes there; the loop buttons take it from there to bar 3.
    let centre = await barCentre(tab, 1);
    await tab.touchscreen.tap(centre.x, centre.y);
    await tab.locator('.bar--current[data-bar="1"]').waitFor();
    await tab.getByRole("button", { name: "From this bar" }).tap();
    centre = await barCentre(tab, 2);
    await tab.touchscreen.tap(centre.x, centre.y);
    await tab.locator('.bar--current[data-bar="2"]').waitFor();
    await tab.getByRole("button", { name: "To this bar" }).tap();
    expect(await tab.locator(".practice__loop").textContent()).toBe("Repeating bars 2–3");
    expect(await tab.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    // Every control of the player, and every bar, at least 44 px each way.
    const small = await tab
      .locator(".transport button, .practice button, .practice label, .practice input[type=range], .practice summary, .bars .bar")
      .evaluateAll((els) =>
        els
          .map((el) => ({ el, r: el.getBoundingClientRect() }))
          .filter(({ r }) => r.height < 44 || r.width < 44)
          .map(({ el, r }) => `${el.className || el.tagName} ${el.textContent?.trim() ?? ""} ${Math.round(r.width)}×${Math.round(r.height)}`),
      );
    expect(small).toEqual([]);
    await tab.evaluate(() => window.scrollTo(0, 0));
    await shot(tab, "player-loop-phone");
    // What a drummer practises with: the sheet under the transport, which stays in view.
    await tab.evaluate(() => {
      const heading = document.getElementById("sheet-title")!.getBoundingClientRect().top;
      const transport = document.querySelector(".score__transport")!.getBoundingClientRect().height;
      window.scrollTo(0, window.scrollY + heading - transport - 16);
    });
    await shot(tab, "player-loop-phone-sheet", false);
    expect(await accessibilityProblems(tab)).toEqual([]);
    await phone.close();
    expect(cspViolations).toEqual([]);
  }, 60_000);
});

/** Back to 100 % from wherever the speed is, by the slider's keyboard. */
async function slowestToNormal(target: Page): Promise<void> {
  const slider = target.getByRole("slider", { name: "Speed" });
  await slider.focus();
  await target.keyboard.press("Home");
  for (let i = 0; i < 10; i += 1) await target.keyboard.press("ArrowRight");
  expect(await target.locator(".transport__rate").textContent()).toBe("100%");
}
