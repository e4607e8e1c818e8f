import { describe, expect, test } from "vitest";

import { splitStyles } from "@/lib/verovio";

// The shape of verovio's renderToSVG(): the music font and rules scoped to the page, as <style> elements.
const PAGE =
  '<svg id="p1" viewBox="0 0 10 10"><style type="text/css">@font-face { font-family: \'Leipzig\'; }</style>' +
  '<defs></defs><STYLE>#p1 g.tempo {font-weight:bold;}</STYLE><g class="page-margin"><path d="M0 0"/></g></svg>';

describe("verovio's SVG under the pages' Content-Security-Policy", () => {
  test("its <style> elements are taken out, their rules kept in order", () => {
    const { svg, css } = splitStyles(PAGE);
    expect(svg).toBe('<svg id="p1" viewBox="0 0 10 10"><defs></defs><g class="page-margin"><path d="M0 0"/></g></svg>');
    expect(css).toEqual(["@font-face { font-family: 'Leipzig'; }", "#p1 g.tempo {font-weight:bold;}"]);
  });

  test("an SVG without styles is left as it is", () => {
    expect(splitStyles('<svg><g class="note"/></svg>')).toEqual({ svg: '<svg><g class="note"/></svg>', css: [] });
  });
});
