/**
 * The sheet editor end to end, in Debian's Chromium against a real `drumscribe serve`: one song is
 * transcribed through the API (the e2e song: four bars of 4/4 at 120 BPM from 0.5 s); on its result page
 * the owner opens the editor, picks bar 2 and a note in it with the keyboard, makes it a ghost note, undoes
 * and redoes that, and saves. The new version's MIDI differs from the transcription's in that one note's
 * velocity, its PDF only around that note in bar 2; the versions list brings the transcription back. A click on
 * a notehead of the engraved sheet picks that note in the grid (and the grid's pick is marked on the sheet); its
 * drum changed and saved changes that one note's MIDI pitch. A share link's page offers no editor.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { JOB_DONE_MS, LAPTOP, PHONE, accessibilityProblems, instrument, shot, endStage, stageTranscribedJob, type JobOut } from "./browser";
import type { PracticeProbe } from "../lib/practice/engine";
import { barArea, difference, midiNotes, pdfPages, staves } from "./files";
import { SHOTS, missingPrerequisite, type Serve } from "./stack";

const missing = missingPrerequisite();
if (missing) console.warn(`SKIPPING the editor's end-to-end tests: ${missing}`);

type Hit = { time: number; instrument: string; velocity: number; accent?: boolean; ghost?: boolean };
type Cell = { drum: string; step: number; hit: number };

/** The bar edited (0-based): bar 2, away from the clef and the time signature that open the first. */
const EDITED_BAR = 1;
/** The loudest a ghost note plays in the MIDI file (backend/app/pipeline/notation/midi.py). */
const GHOST_VELOCITY = 64;
/** How far a note's MIDI time may be from its hit (the file's ticks round it). */
const MIDI_TIME_S = 0.005;
/** Staff places (from the bottom line) and General MIDI keys of the drums (backend/app/pipeline/notation/kit.py). */
const STAFF_PLACE = { snare: 5, hihat_closed: 9 } as const;
const GM_KEY = { snare: 38, tom_high: 50 } as const;

/** A notehead of the engraved sheet: its note's id, its centre (in the view), its place on the staff. */
type Head = { id: string; x: number; y: number; place: number };

describe.skipIf(missing !== null)("the sheet editor", () => {
  let serve: Serve;
  let browser: Browser;
  let laptop: BrowserContext;
  let page: Page;
  let job: JobOut;
  let hits: Hit[];
  let beatTimes: number[];
  let downbeatTimes: number[];
  let target: Cell;
  const cspViolations: string[] = [];

  async function bytes(context: BrowserContext, path: string): Promise<Uint8Array> {
    const answer = await context.request.get(path);
    expect(answer.status(), path).toBe(200);
    return new Uint8Array(await answer.body());
  }

  async function currentRevision(): Promise<number> {
    return ((await (await laptop.request.get(`/api/v1/jobs/${job.id}`)).json()) as { current_revision: number }).current_revision;
  }

  function cell(target: Page, c: Pick<Cell, "drum" | "step">) {
    return target.locator(`.beats td[data-drum="${c.drum}"][data-step="${c.step}"]`);
  }

  /** Reads the player's probe (window.__drumscribePractice) in `target`. */
  function probe<T>(target: Page, read: (p: PracticeProbe) => T): Promise<T> {
    return target.evaluate(`(${read.toString()})(window.__drumscribePractice)`) as Promise<T>;
  }

  async function focused(target: Page): Promise<{ drum: string; step: number } | null> {
    return target.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el?.dataset.drum ? { drum: el.dataset.drum, step: Number(el.dataset.step) } : null;
    });
  }

  /** Scrolls the editor to the top of the view, just below the player's transport (which stays in view). */
  async function editorInView(target: Page): Promise<void> {
    await target.evaluate(() => {
      const editor = document.querySelector("#sheet-editor")!.getBoundingClientRect();
      const transport = document.querySelector(".score__transport")?.getBoundingClientRect().height ?? 0;
      window.scrollTo({ top: window.scrollY + editor.top - transport - 12, behavior: "instant" });
    });
  }

  beforeAll(async () => {
    ({ serve, browser, context: laptop, job } = await stageTranscribedJob("Editor Groove.wav", cspViolations));
    const doc = (await (await laptop.request.get(`/api/v1/jobs/${job.id}/artifacts/hits.json`)).json()) as {
      hits: Hit[];
      beat_times: number[];
      downbeat_times: number[];
    };
    hits = doc.hits;
    beatTimes = doc.beat_times;
    downbeatTimes = doc.downbeat_times;
    page = await laptop.newPage();
    await page.goto(`/job/?id=${job.id}`);
    await page.locator(".bars .bar").first().waitFor({ timeout: 60_000 });
  }, JOB_DONE_MS + 120_000);

  afterAll(() => endStage({ serve, browser }), 90_000);

  test("with the keyboard: open the editor, pick bar 2 and a note in it, ghost it, undo and redo", async () => {
    await page.getByRole("button", { name: "Edit the sheet" }).focus();
    await page.keyboard.press("Enter");
    await page.locator("#sheet-editor .editor").waitFor();
    expect(await page.getByRole("button", { name: "Close the editor" }).getAttribute("aria-expanded")).toBe("true");

    // Enter on bar 2 opens it in the editor, and its grid takes the focus.
    await page.locator(`.bar[data-bar="${EDITED_BAR}"]`).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("grid", { name: `Bar ${EDITED_BAR + 1}` }).waitFor();
    const start = await focused(page);
    expect(start).not.toBeNull();

    // The note to edit: a plain one, loud enough to be heard softer as a ghost note, a hi-hat if there is one
    // (the song's hits are all loud: an accent would not change their MIDI velocity).
    const notes = await page.locator(".beats td.beats__cell--note").evaluateAll((els) =>
      els.map((el) => ({ drum: el.getAttribute("data-drum")!, step: Number(el.getAttribute("data-step")), hit: Number(el.getAttribute("data-hit")) })),
    );
    const plain = notes.filter((n) => !hits[n.hit].accent && !hits[n.hit].ghost && hits[n.hit].velocity > GHOST_VELOCITY);
    expect(plain.length).toBeGreaterThan(0);
    target = plain.find((n) => n.drum === "hihat_closed") ?? plain[0];

    // The arrows walk there: up and down between drums, left and right between 16ths.
    const rows = await page.locator(".beats tbody tr td:first-of-type").evaluateAll((els) => els.map((el) => el.getAttribute("data-drum")!));
    const rowDelta = rows.indexOf(target.drum) - rows.indexOf(start!.drum);
    const stepDelta = target.step - start!.step;
    for (let i = 0; i < Math.abs(rowDelta); i++) await page.keyboard.press(rowDelta > 0 ? "ArrowDown" : "ArrowUp");
    for (let i = 0; i < Math.abs(stepDelta); i++) await page.keyboard.press(stepDelta > 0 ? "ArrowRight" : "ArrowLeft");
    expect(await focused(page)).toEqual({ drum: target.drum, step: target.step });
    expect(await cell(page, target).getAttribute("aria-selected")).toBe("true");
    // The arrows moved in the grid, not the player from bar to bar.
    expect(await page.locator(".bar--current").first().getAttribute("data-bar")).toBe(String(EDITED_BAR));

    await page.keyboard.press("g");
    await expect.poll(() => cell(page, target).getAttribute("class")).toContain("beats__cell--ghost");
    expect(await page.getByRole("button", { name: "Ghost note" }).getAttribute("aria-pressed")).toBe("true");
    expect(await page.getByRole("button", { name: "Accent" }).getAttribute("aria-pressed")).toBe("false");

    await page.keyboard.press("Control+z");
    await expect.poll(() => cell(page, target).getAttribute("class")).not.toContain("beats__cell--ghost");
    await page.keyboard.press("Control+Shift+z");
    await expect.poll(() => cell(page, target).getAttribute("class")).toContain("beats__cell--ghost");
    await page.keyboard.press("Control+z");
    await page.keyboard.press("Control+y");
    await expect.poll(() => cell(page, target).getAttribute("class")).toContain("beats__cell--ghost");
    expect(await page.locator(".editor__count").textContent()).toBe("1 unsaved change to notes");

    await cell(page, target).focus();
    await editorInView(page);
    await shot(page, "editor-laptop", false);
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  test("a note added on an empty step, and deleted, leaves nothing to save but the ghost note", async () => {
    const empty = { drum: "crash", step: 1 };
    await cell(page, empty).click();
    await page.getByRole("button", { name: "Add a crash note" }).click();
    await expect.poll(() => cell(page, empty).getAttribute("class")).toContain("beats__cell--note");
    await cell(page, empty).focus();
    await page.keyboard.press("Delete");
    await expect.poll(() => cell(page, empty).getAttribute("class")).not.toContain("beats__cell--note");
    expect(await page.locator(".editor__count").textContent()).toBe("3 unsaved changes to notes");
    await cell(page, target).click();
  });

  test("saved: a new version, shown on the page; its MIDI and PDF differ from the transcription's at that note only", async () => {
    await page.getByLabel("What changed (optional)").fill("Ghost hi-hat in bar 2");
    await page.getByRole("button", { name: "Save as a new version" }).click();
    await page.locator("#sheet-editor .message--success").filter({ hasText: "Saved as version 1." }).waitFor({ timeout: 120_000 });
    expect(await currentRevision()).toBe(1);
    // The focus is on the news, not lost with the editor that was shown for version 0.
    expect(await page.evaluate(() => document.activeElement?.classList.contains("message--success"))).toBe(true);
    // The page now shows version 1: its downloads, the versions list, and the editor on its notes.
    expect(await page.locator('.downloads a[href$="/drums.mid"]').getAttribute("href")).toBe(`/api/v1/jobs/${job.id}/revisions/1/artifacts/drums.mid`);
    await page.locator('.versions li[data-revision="1"] .versions__current').waitFor();
    expect(await page.locator('.versions li[data-revision="1"]').textContent()).toContain("“Ghost hi-hat in bar 2”");
    await expect.poll(() => cell(page, target).getAttribute("class"), { timeout: 30_000 }).toContain("beats__cell--ghost");
    expect(await page.locator(".editor__count").textContent()).toBe("No changes to notes yet");

    // MIDI: the same notes, one of them softer: the ghost note, at its time.
    const before = midiNotes(await bytes(laptop, `/api/v1/jobs/${job.id}/revisions/0/artifacts/drums.mid`));
    const after = midiNotes(await bytes(laptop, `/api/v1/jobs/${job.id}/revisions/1/artifacts/drums.mid`));
    expect(after.length).toBe(before.length);
    const changed = before.map((n, i) => i).filter((i) => JSON.stringify(before[i]) !== JSON.stringify(after[i]));
    expect(changed.length).toBe(1);
    const [was, now] = [before[changed[0]], after[changed[0]]];
    expect({ ...now, velocity: was.velocity }).toEqual(was);
    expect(now.velocity).toBeLessThanOrEqual(GHOST_VELOCITY);
    expect(now.velocity).toBeLessThan(was.velocity);
    expect(Math.abs(now.seconds - hits[target.hit].time)).toBeLessThan(MIDI_TIME_S);

    // PDF: at 50 dpi, the pixels differ, and only within bar 2 of its staff (from the barline before it to
    // its own, and at most two staff heights above or below the staff: the ghost note's parentheses are
    // drawn around its notehead).
    const pdfBefore = await bytes(laptop, `/api/v1/jobs/${job.id}/revisions/0/artifacts/sheet_music.pdf`);
    const pdfAfter = await bytes(laptop, `/api/v1/jobs/${job.id}/revisions/1/artifacts/sheet_music.pdf`);
    writeFileSync(join(SHOTS, "editor-rev0.pdf"), pdfBefore);
    writeFileSync(join(SHOTS, "editor-rev1.pdf"), pdfAfter);
    const pagesBefore = pdfPages(pdfBefore, 50);
    const pagesAfter = pdfPages(pdfAfter, 50);
    expect(pagesAfter.length).toBe(pagesBefore.length);
    const diffs = pagesBefore.map((p, i) => difference(p, pagesAfter[i]));
    const differing = diffs.map((d, i) => (d.count ? i : -1)).filter((i) => i >= 0);
    expect(differing).toEqual([0]);
    const box = diffs[0].box!;
    const found = staves(pagesBefore[0]);
    const bar = barArea(found, EDITED_BAR);
    console.log(`PDF: ${diffs[0].count} pixels differ in ${JSON.stringify(box)}; bar ${EDITED_BAR + 1} is ${JSON.stringify(bar)}; staves ${JSON.stringify(found)}`);
    expect(bar).not.toBeNull();
    const height = bar!.bottom - bar!.top;
    expect(box.left).toBeGreaterThanOrEqual(bar!.left);
    expect(box.right).toBeLessThanOrEqual(bar!.right);
    expect(box.top).toBeGreaterThanOrEqual(bar!.top - 2 * height);
    expect(box.bottom).toBeLessThanOrEqual(bar!.bottom + 2 * height);
  });

  test("the versions list brings the transcription back, and offers each version's files", async () => {
    const original = page.locator('.versions li[data-revision="0"]');
    expect(await original.getByRole("link", { name: "MIDI of transcription" }).getAttribute("href")).toBe(
      `/api/v1/jobs/${job.id}/revisions/0/artifacts/drums.mid`,
    );
    await original.getByRole("button", { name: "Show this version" }).click();
    await original.locator(".versions__current").waitFor();
    expect(await currentRevision()).toBe(0);
    await expect.poll(() => page.locator('.downloads a[href$="/drums.mid"]').getAttribute("href")).toBe(`/api/v1/jobs/${job.id}/artifacts/drums.mid`);
    await expect.poll(() => cell(page, target).getAttribute("class"), { timeout: 30_000 }).not.toContain("beats__cell--ghost");
    expect(await page.locator('.versions li[data-revision="1"]').getByRole("button", { name: "Show this version" }).count()).toBe(1);
  });

  test("on a phone: a tap opens a bar and picks a note; screenshots; no axe finding", async () => {
    const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, baseURL: serve.base });
    await instrument(phone, cspViolations);
    await phone.addCookies(await laptop.cookies());
    const tab = await phone.newPage();
    await tab.goto(`/job/?id=${job.id}`);
    await tab.locator(".bars .bar").first().waitFor({ timeout: 60_000 });
    await tab.getByRole("button", { name: "Edit the sheet" }).tap();
    const bar = tab.locator(`.bar[data-bar="${EDITED_BAR}"]`);
    await bar.scrollIntoViewIfNeeded();
    const box = (await bar.boundingBox())!;
    await tab.touchscreen.tap(box.x + box.width / 2, box.y + box.height / 2);
    await tab.getByRole("grid", { name: `Bar ${EDITED_BAR + 1}` }).waitFor();
    await cell(tab, target).scrollIntoViewIfNeeded();
    await cell(tab, target).tap();
    expect(await cell(tab, target).getAttribute("aria-selected")).toBe("true");
    await tab.getByRole("button", { name: "Accent" }).waitFor();
    await editorInView(tab);
    await shot(tab, "editor-phone", false);
    expect(await accessibilityProblems(tab)).toEqual([]);
    // Nothing on the page is wider than the phone, but the grid, which scrolls in its own box.
    const overflow = await tab.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const grid = await tab.locator(".editor__scroll").evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(grid).toBeGreaterThan(0);
    await phone.close();
  });

  test("a share link's page offers no editor and no versions", async () => {
    const made = await laptop.request.post(`/api/v1/jobs/${job.id}/shares`);
    expect(made.status()).toBe(201);
    const { url } = (await made.json()) as { url: string };
    const guest = await browser.newContext({ viewport: LAPTOP, baseURL: serve.base });
    await instrument(guest, cspViolations);
    const tab = await guest.newPage();
    await tab.goto(url);
    await tab.locator(".bars .bar").first().waitFor({ timeout: 60_000 });
    expect(await tab.getByRole("button", { name: "Edit the sheet" }).count()).toBe(0);
    expect(await tab.locator("#sheet-editor, .versions, .beats").count()).toBe(0);
    await guest.close();
  });

  test("unsaved edits are kept unless the owner agrees to show another version", async () => {
    await cell(page, target).click();
    await page.getByRole("button", { name: "Ghost note" }).click();
    expect(await page.locator(".editor__count").textContent()).toBe("1 unsaved change to notes");
    const asked: string[] = [];
    page.once("dialog", (dialog) => {
      asked.push(dialog.message());
      void dialog.dismiss();
    });
    await page.locator('.versions li[data-revision="1"]').getByRole("button", { name: "Show this version" }).click();
    await expect.poll(() => asked).toEqual(["Show version 1 and discard your unsaved edits?"]);
    expect(await currentRevision()).toBe(0);
    expect(await page.locator(".editor__count").textContent()).toBe("1 unsaved change to notes");
    await page.getByRole("button", { name: "Undo" }).click();
    expect(await page.locator(".editor__count").textContent()).toBe("No changes to notes yet");
  });

  /**
   * Bar 2's hits of `drum` in time order, in a hits.json (the transcription's unless given): each one's index
   * in it and the 16th of the bar it is nearest, the bar being `beats` beats of `perBeat` 16ths.
   */
  function barHits(
    drum: string,
    doc: { hits: Hit[]; beat_times: number[]; downbeat_times: number[] } = { hits, beat_times: beatTimes, downbeat_times: downbeatTimes },
    { beats, perBeat } = { beats: 4, perBeat: 4 },
  ): { index: number; time: number; step: number }[] {
    const beatsAt = doc.beat_times;
    const first = beatsAt.findIndex((t) => Math.abs(t - doc.downbeat_times[EDITED_BAR]) < 1e-3);
    const beatOf = (time: number) => {
      const k = Math.max(0, beatsAt.findLastIndex((t) => t <= time));
      return k + (time - beatsAt[k]) / (beatsAt[k + 1] - beatsAt[k]);
    };
    return doc.hits
      .map((hit, index) => ({ index, time: hit.time, drum: hit.instrument, step: Math.round((beatOf(hit.time) - first) * perBeat) }))
      .filter((h) => h.drum === drum && h.step >= 0 && h.step < beats * perBeat)
      .sort((a, b) => a.time - b.time)
      .map(({ index, time, step }) => ({ index, time, step }));
  }

  /** The noteheads of bar `bar` on the engraved sheet, scrolled into view, each placed on its staff by its lines. */
  async function noteheads(bar: number): Promise<Head[]> {
    await page.locator(`.bar[data-bar="${bar}"]`).scrollIntoViewIfNeeded();
    return page.evaluate((index) => {
      const measure = document.querySelectorAll(".sheet__svg g.measure")[index];
      const lines = Array.from(measure.querySelectorAll(":scope > g.staff > path"), (line) => {
        const r = line.getBoundingClientRect();
        return (r.top + r.bottom) / 2;
      }).sort((a, b) => a - b);
      const bottom = lines[lines.length - 1];
      const halfSpace = (bottom - lines[0]) / (lines.length - 1) / 2;
      return Array.from(measure.querySelectorAll("g.note"), (note) => {
        const r = note.querySelector(".notehead")!.getBoundingClientRect();
        const y = (r.top + r.bottom) / 2;
        return { id: note.id, x: (r.left + r.right) / 2, y, place: Math.round((bottom - y) / halfSpace) };
      });
    }, bar);
  }

  test("on the sheet: a click on a notehead picks its note in the grid, the grid's pick is marked on the sheet", async () => {
    // The page shows the transcription again, in 4/4: bar 2 has its snare on beats 2 and 4, the hi-hat on every 8th.
    // The page shows the transcription again, in 4/4. Bar 2's hits of a drum, in time order, are its noteheads on
    // that drum's staff place from left to right (the transcription's, not the groove's as played).
    const onSheet = (heads: Head[], drum: keyof typeof STAFF_PLACE) => heads.filter((h) => h.place === STAFF_PLACE[drum]).sort((a, b) => a.x - b.x);
    const heads = await noteheads(EDITED_BAR);
    const snares = onSheet(heads, "snare");
    const hihats = onSheet(heads, "hihat_closed");
    const snareHits = barHits("snare");
    const hihatHits = barHits("hihat_closed");
    expect(snares.length).toBe(snareHits.length);
    expect(hihats.length).toBe(hihatHits.length);
    expect(snareHits.length).toBeGreaterThan(1);
    expect(hihatHits.length).toBeGreaterThan(0);

    // The first snare: the grid picks the snare's cell on its 16th, which holds that very hit.
    await page.mouse.click(snares[0].x, snares[0].y);
    const first = { drum: "snare", step: snareHits[0].step };
    await expect.poll(() => cell(page, first).getAttribute("aria-selected")).toBe("true");
    expect(await page.locator('.beats td[aria-selected="true"]').count()).toBe(1);
    expect(Number(await cell(page, first).getAttribute("data-hit"))).toBe(snareHits[0].index);
    expect(await page.locator(".editor__picked").textContent()).toMatch(/^Snare on beat \d/);
    // The clicked note, and it alone, is marked on the sheet: a colour and a ring; the player went to its bar.
    await expect.poll(() => page.locator(".sheet g.note.is-picked").evaluateAll((els) => els.map((el) => el.id))).toEqual([snares[0].id]);
    expect(await page.locator(".sheet__picked").count()).toBe(1);
    expect(await page.locator(".bar--current").first().getAttribute("data-bar")).toBe(String(EDITED_BAR));
    await shot(page, "editor-note-picked", false);

    // A cell picked in the grid is marked on the sheet: the bar's first hi-hat.
    await cell(page, { drum: "hihat_closed", step: hihatHits[0].step }).click();
    await expect.poll(() => page.locator(".sheet g.note.is-picked").evaluateAll((els) => els.map((el) => el.id))).toEqual([hihats[0].id]);
    // An empty cell marks nothing.
    const empty = Array.from({ length: 16 }, (_, step) => step).find((step) => !barHits("crash").some((h) => h.step === step))!;
    await cell(page, { drum: "crash", step: empty }).click();
    await expect.poll(() => page.locator(".sheet .is-picked, .sheet__picked").count()).toBe(0);

    // The last snare, picked on the sheet and made a high tom.
    const last = snareHits[snareHits.length - 1];
    const lastHead = onSheet(await noteheads(EDITED_BAR), "snare").pop()!;
    await page.mouse.click(lastHead.x, lastHead.y);
    const picked = { drum: "snare", step: last.step };
    await expect.poll(() => cell(page, picked).getAttribute("aria-selected")).toBe("true");
    const changed = Number(await cell(page, picked).getAttribute("data-hit"));
    expect(changed).toBe(last.index);
    await page.getByRole("combobox", { name: /^Drum\b/ }).selectOption("tom_high");
    await expect.poll(() => cell(page, { drum: "tom_high", step: last.step }).getAttribute("class")).toContain("beats__cell--note");
    expect(await cell(page, picked).getAttribute("class")).not.toContain("beats__cell--note");
    // Until saved, the sheet still engraves a snare there: that note stays marked, and the caption says so.
    await expect.poll(() => page.locator(".sheet g.note.is-picked").evaluateAll((els) => els.map((el) => el.id))).toEqual([lastHead.id]);
    expect(await page.locator(".sheet__picked").count()).toBe(1);
    expect(await page.locator(".editor__picked").textContent()).toMatch(/^High tom on beat \d.*\(Snare on the sheet until saved\)$/);

    await page.getByLabel("What changed (optional)").fill("Last snare of bar 2 on the high tom");
    await page.getByRole("button", { name: "Save as a new version" }).click();
    await page.locator("#sheet-editor .message--success").filter({ hasText: "Saved as version 2." }).waitFor({ timeout: 120_000 });
    expect(await currentRevision()).toBe(2);

    // MIDI: the same notes but one, that snare, now a high tom at the same time and loudness.
    const before = midiNotes(await bytes(laptop, `/api/v1/jobs/${job.id}/revisions/0/artifacts/drums.mid`));
    const after = midiNotes(await bytes(laptop, `/api/v1/jobs/${job.id}/revisions/2/artifacts/drums.mid`));
    expect(after.length).toBe(before.length);
    const key = (n: { tick: number; pitch: number; velocity: number }) => `${n.tick}:${n.pitch}:${n.velocity}`;
    const gone = before.filter((n) => !after.some((m) => key(m) === key(n)));
    const added = after.filter((n) => !before.some((m) => key(m) === key(n)));
    expect(gone.length).toBe(1);
    expect(added.length).toBe(1);
    expect(gone[0].pitch).toBe(GM_KEY.snare);
    expect(added[0].pitch).toBe(GM_KEY.tom_high);
    expect(added[0].tick).toBe(gone[0].tick);
    expect(added[0].velocity).toBe(gone[0].velocity);
    expect(Math.abs(gone[0].seconds - hits[changed].time)).toBeLessThan(MIDI_TIME_S);
  });

  test("the whole piece: in 3/4 with bar 1 a beat later, saved as version 3", async () => {
    await page.getByLabel("Time signature").selectOption("3/4");
    await page.getByRole("button", { name: "1 beat later" }).click();
    expect(await page.locator(".editor__downbeat output").textContent()).toBe(`${beatTimes[1].toFixed(2)} s (1 beat later)`);
    await page.getByRole("button", { name: "Save as a new version" }).click();
    await page.locator("#sheet-editor .message--success").filter({ hasText: "Saved as version 3." }).waitFor({ timeout: 120_000 });
    expect(await currentRevision()).toBe(3);
    const saved = (await (await laptop.request.get(`/api/v1/jobs/${job.id}/revisions/3`)).json()) as {
      fixed_time_signature: string;
      time_signature: string;
      first_downbeat_s: number;
    };
    expect(saved.fixed_time_signature).toBe("3/4");
    expect(saved.time_signature).toBe("3/4");
    expect(saved.first_downbeat_s).toBeCloseTo(beatTimes[1], 3);
    await expect.poll(() => page.locator(".fact", { hasText: "Time signature" }).locator("dd").textContent()).toBe("3/4");
    // The bar picked is shown again on the new sheet: three beats of four 16ths.
    await expect.poll(() => page.locator(".beats thead th").count(), { timeout: 30_000 }).toBe(1 + 3 * 4);
  });

  test("a compound metre: 6/8 saved as version 4; its grid has two beats of six 16ths; a note on its sheet picks its cell", async () => {
    await page.getByLabel("Time signature").selectOption("6/8");
    await page.getByRole("button", { name: "Save as a new version" }).click();
    await page.locator("#sheet-editor .message--success").filter({ hasText: "Saved as version 4." }).waitFor({ timeout: 120_000 });
    const saved = (await (await laptop.request.get(`/api/v1/jobs/${job.id}/revisions/4`)).json()) as { fixed_time_signature: string; time_signature: string };
    expect([saved.fixed_time_signature, saved.time_signature]).toEqual(["6/8", "6/8"]);
    await expect.poll(() => page.locator(".fact", { hasText: "Time signature" }).locator("dd").textContent()).toBe("6/8");
    // The same beats, each a dotted quarter now: two to a bar, six 16ths each, the 8ths counted 1 to 6.
    await expect.poll(() => page.locator(".beats thead th").count(), { timeout: 30_000 }).toBe(1 + 2 * 6);
    expect(await page.locator(".beats thead th").allTextContents()).toEqual(["Drum", "1", "&", "2", "&", "3", "&", "4", "&", "5", "&", "6", "&"]);

    // A snare of bar 2 on the 6/8 sheet picks its cell, which holds that hit of version 4.
    const doc = (await (await laptop.request.get(`/api/v1/jobs/${job.id}/revisions/4/artifacts/hits.json`)).json()) as {
      hits: Hit[];
      beat_times: number[];
      downbeat_times: number[];
    };
    const snareHits = barHits("snare", doc, { beats: 2, perBeat: 6 });
    const snares = (await noteheads(EDITED_BAR)).filter((h) => h.place === STAFF_PLACE.snare).sort((a, b) => a.x - b.x);
    expect(snares.length).toBe(snareHits.length);
    expect(snares.length).toBeGreaterThan(0);
    await page.mouse.click(snares[0].x, snares[0].y);
    const first = { drum: "snare", step: snareHits[0].step };
    await expect.poll(() => cell(page, first).getAttribute("aria-selected")).toBe("true");
    expect(Number(await cell(page, first).getAttribute("data-hit"))).toBe(snareHits[0].index);
    await expect.poll(() => page.locator(".sheet g.note.is-picked").evaluateAll((els) => els.map((el) => el.id))).toEqual([snares[0].id]);

    // The player counts the metre's beats, the dotted quarters of beat_times: two a bar in the count-in,
    // the click (accented on each downbeat) and the read-out.
    await page.getByLabel("Count in one bar before playing").check();
    await page.getByRole("switch", { name: "Click" }).check();
    const before = await probe(page, (p) => p.clicks().length);
    await page.locator(".transport__play").click();
    await page.locator(".transport__bar", { hasText: /^Bar / }).waitFor();
    const shown = new Set<string>();
    for (const until = Date.now() + 2500; Date.now() < until; ) {
      shown.add((await page.locator(".transport__bar").textContent()) ?? "");
      await page.waitForTimeout(40);
    }
    await page.locator(".transport__play").click();
    await page.locator('.transport__play[data-state="paused"]').waitFor();
    const beats = new Set([...shown].flatMap((t) => /· beat (\d+)$/.exec(t)?.[1] ?? []));
    expect([...beats].sort()).toEqual(["1", "2"]);
    const clicks = (await probe(page, (p) => p.clicks())).slice(before);
    const counted = clicks.filter((c) => c.countIn);
    expect(counted.map((c) => c.accent)).toEqual([true, false]);
    const beatS = doc.beat_times[1] - doc.beat_times[0];
    expect(counted[1].at - counted[0].at).toBeCloseTo(beatS, 2);
    const ticks = clicks.filter((c) => !c.countIn);
    expect(ticks.slice(0, 4).map((c) => c.accent)).toEqual([true, false, true, false]);
    await page.getByRole("switch", { name: "Click" }).uncheck();
    await page.getByLabel("Count in one bar before playing").uncheck();
  }, 180_000);

  test("cut time: 2/2 saved as version 5; two half-note beats of eight 16ths a bar, the 8ths counted 1 e & a", async () => {
    await page.getByLabel("Time signature").selectOption("2/2");
    await page.getByRole("button", { name: "Save as a new version" }).click();
    await page.locator("#sheet-editor .message--success").filter({ hasText: "Saved as version 5." }).waitFor({ timeout: 120_000 });
    const saved = (await (await laptop.request.get(`/api/v1/jobs/${job.id}/revisions/5`)).json()) as { fixed_time_signature: string; time_signature: string };
    expect([saved.fixed_time_signature, saved.time_signature]).toEqual(["2/2", "2/2"]);
    await expect.poll(() => page.locator(".fact", { hasText: "Time signature" }).locator("dd").textContent()).toBe("2/2");
    await expect.poll(() => page.locator(".beats thead th").count(), { timeout: 30_000 }).toBe(1 + 2 * 8);
    expect(await page.locator(".beats thead th").allTextContents()).toEqual(
      ["Drum", "1", "·", "e", "·", "&", "·", "a", "·", "2", "·", "e", "·", "&", "·", "a", "·"],
    );
    // The tempo mark counts halves, and the bars are twice as long as a 4/4 bar's beats: two beats a bar.
    const sheet = await (await laptop.request.get(`/api/v1/jobs/${job.id}/revisions/5/artifacts/sheet_music.musicxml`)).text();
    expect(sheet).toContain("<beat-unit>half</beat-unit>");
    const doc = (await (await laptop.request.get(`/api/v1/jobs/${job.id}/revisions/5/artifacts/hits.json`)).json()) as {
      beat_times: number[];
      downbeat_times: number[];
    };
    expect(doc.downbeat_times[1]).toBeCloseTo(doc.beat_times[2], 3);
  }, 180_000);

  test("no Content-Security-Policy violation on any page", () => {
    expect(cspViolations).toEqual([]);
  });
});
