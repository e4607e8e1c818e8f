/**
 * What the end-to-end specs share in the browser: axe-core and the report of Content-Security-Policy
 * violations in every page, the accessibility check, the screen sizes, and screenshots.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

import type { BrowserContext, Locator, Page } from "playwright-core";

import { SHOTS } from "./stack";

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
