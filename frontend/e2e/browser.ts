/**
 * What the end-to-end specs share in the browser: axe-core and the report of Content-Security-Policy
 * violations in every page, the accessibility check, the screen sizes, screenshots, and a finished job
 * made through the API.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join } from "node:path";

import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";

import { CHROMIUM, CHROMIUM_ARGS, SHOTS, renderSong, startServe, type Serve } from "./stack";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * What every test context runs in its pages before their own scripts: axe-core (an init script, as the
 * pages' Content-Security-Policy refuses an injected <script>), and a report of each CSP violation.
 */
export async function instrument(context: BrowserContext, violations: string[]): Promise<void> {
  await context.addInitScript({ content: AXE });
  await context.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.effectiveDirective} refused ${e.blockedURI || "inline code"}`),
    ),
  );
  context.on("console", (message) => {
    const text = message.text();
    if (text.startsWith("CSP violation") || text.includes("Content Security Policy")) violations.push(text);
  });
}

/** axe-core's serious and critical findings (WCAG 2.1 A and AA: labels, contrast, names, landmarks…). */
export async function accessibilityProblems(target: Page): Promise<string[]> {
  return target.evaluate(async () => {
    type Result = { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
    const axe = (window as unknown as { axe: { run: (c: Document, o: object) => Promise<Result> } }).axe;
    const result = await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  });
}

/** A screenshot of the whole page (or only of what is in view) in SHOTS (/tmp/ui-shots/ or UI_SHOTS_DIR). */
export async function shot(target: Page, name: string, fullPage = true): Promise<void> {
  await target.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** A screenshot of one part of a page (for the README), in SHOTS. */
export async function shotOf(part: Locator, name: string): Promise<void> {
  await part.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** How long a spec waits for its song's job to finish. */
export const JOB_DONE_MS = 150_000;

/** The parts of the API's JobOut the specs read. */
export type JobOut = { id: string; status: string; title: string | null; artifacts: { name: string; url: string }[] };

/** Upload the WAV at `song` as `context`'s browser would, and wait for its job to complete. */
export async function transcribedJob(context: BrowserContext, song: string): Promise<JobOut> {
  const created = await context.request.post("/api/v1/jobs", {
    multipart: { file: { name: basename(song), mimeType: "audio/wav", buffer: readFileSync(song) } },
  });
  if (created.status() !== 202) throw new Error(`POST /api/v1/jobs answered ${created.status()}: ${await created.text()}`);
  const id = ((await created.json()) as JobOut).id;
  const deadline = Date.now() + JOB_DONE_MS;
  for (;;) {
    const job = (await (await context.request.get(`/api/v1/jobs/${id}`)).json()) as JobOut;
    if (job.status === "completed") return job;
    if (job.status === "failed" || Date.now() > deadline) throw new Error(`the job of ${basename(song)} ended ${job.status}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A spec's stage: a real `drumscribe serve`, Chromium, and a laptop-sized context that transcribed a song. */
export type JobStage = { serve: Serve; browser: Browser; context: BrowserContext; job: JobOut };

/**
 * Starts a serve, renders the groove `songName` into its data folder, and uploads it from a laptop-sized
 * context whose pages report CSP violations into `cspViolations`; resolves once the job has completed.
 */
export async function stageTranscribedJob(songName: string, cspViolations: string[]): Promise<JobStage> {
  mkdirSync(SHOTS, { recursive: true });
  const serve = await startServe();
  const song = join(serve.dataDir, songName);
  renderSong(song);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const context = await browser.newContext({ viewport: LAPTOP, baseURL: serve.base });
  await instrument(context, cspViolations);
  return { serve, browser, context, job: await transcribedJob(context, song) };
}

/** Closes the stage's browser and stops its serve (whatever of them started), warning if the serve failed. */
export async function endStage(stage: { serve?: Serve; browser?: Browser }): Promise<void> {
  await stage.browser?.close();
  const code = await stage.serve?.stop();
  if (code !== 0 && code !== undefined) console.warn(`drumscribe serve exited with ${code}; log: ${stage.serve?.log}`);
}
