"use client";

import type { VerovioToolkit } from "verovio/esm";
import type createVerovioModuleType from "verovio/wasm";

type WasmModule = { default: typeof createVerovioModuleType };

let toolkit: Promise<VerovioToolkit> | null = null;

/** verovio's WebAssembly toolkit, loaded on first use (a few MB, so only on a result page). */
export function loadVerovio(): Promise<VerovioToolkit> {
  toolkit ??= (async () => {
    // Loaded by the browser as it is (see scripts/copy-verovio.mjs), not bundled.
    const moduleUrl = process.env.VEROVIO_MODULE_URL as string;
    const [{ default: createVerovioModule }, { VerovioToolkit: Toolkit }] = await Promise.all([
      import(/* webpackIgnore: true */ /* turbopackIgnore: true */ moduleUrl) as Promise<WasmModule>,
      import("verovio/esm"),
    ]);
    return new Toolkit(await createVerovioModule());
  })();
  toolkit.catch(() => {
    toolkit = null;
  });
  return toolkit;
}

const STYLE_ELEMENT = /<style\b[^>]*>([\s\S]*?)<\/style>/gi;

/**
 * An SVG page from verovio without its <style> elements (its music font, and rules scoped to the page),
 * which the pages' Content-Security-Policy (style-src 'self') refuses; adoptVerovioCss applies them.
 */
export function splitStyles(svg: string): { svg: string; css: string[] } {
  const css: string[] = [];
  const bare = svg.replace(STYLE_ELEMENT, (_element: string, rules: string) => {
    css.push(rules);
    return "";
  });
  return { svg: bare, css };
}

let verovioSheet: CSSStyleSheet | null = null;

/** Applies verovio's CSS as a constructed stylesheet (the CSSOM, which the policy allows), replacing the last. */
export function adoptVerovioCss(css: string[]): void {
  if (!verovioSheet) {
    verovioSheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, verovioSheet];
  }
  verovioSheet.replaceSync([...new Set(css)].join("\n"));
}

/** Layout for a sheet `widthPx` wide: bigger notes relative to the width on a phone. */
export function layoutFor(widthPx: number): { scale: number; pageWidth: number; pageHeight: number } {
  const width = Math.max(280, widthPx);
  const scale = width < 500 ? 34 : width < 800 ? 42 : 52;
  const pageWidth = Math.round((width * 100) / scale);
  // Pages about as tall as they are wide on a phone, A4-like on a laptop.
  const pageHeight = Math.round(pageWidth * (width < 500 ? 1.3 : 1.414));
  return { scale, pageWidth, pageHeight };
}
