"use client";

import type { Bar, LoopBars } from "@/lib/practice/bars";
import type { BarBox } from "@/lib/practice/hittest";
import { formatClock } from "@/lib/format";

type Props = {
  page: number;
  boxes: readonly BarBox[];
  bars: readonly Bar[];
  current: number;
  /** The beat marker's x (page pixels) in the current bar, when that bar is on this page. */
  beatX: number | null;
  loop: LoopBars | null;
  loopOn: boolean;
  /** The bar that takes the Tab key (one stop for the whole sheet; the arrows go from bar to bar). */
  tabBar: number;
  onKeyboardPick(bar: number): void;
};

function inLoop(loop: LoopBars | null, bar: number): boolean {
  return loop !== null && bar >= loop.first && bar <= loop.last;
}

/**
 * One page's bars as buttons laid over the engraving: the current bar and the loop are shaded, the
 * current beat marked. Pointers are handled by the page (lib/practice/hittest.ts finds the bar); the
 * buttons are for the keyboard (Enter goes to a bar) and for screen readers.
 */
export function SheetBars({ page, boxes, bars, current, beatX, loop, loopOn, tabBar, onKeyboardPick }: Props) {
  const currentBox = boxes.find((b) => b.bar === current);
  return (
    <div className="bars" role="group" aria-label={`Bars on page ${page + 1}`}>
      {boxes.map((box) => {
        const bar = bars[box.bar];
        const looped = inLoop(loop, box.bar);
        const classes = [
          "bar",
          box.bar === current && "bar--current",
          looped && (loopOn ? "bar--loop" : "bar--loop-off"),
          looped && loop?.first === box.bar && "bar--loop-first",
          looped && loop?.last === box.bar && "bar--loop-last",
        ].filter(Boolean);
        return (
          <button
            key={box.bar}
            type="button"
            className={classes.join(" ")}
            data-bar={box.bar}
            tabIndex={box.bar === tabBar ? 0 : -1}
            aria-current={box.bar === current ? "true" : undefined}
            aria-label={`Bar ${box.bar + 1}, ${formatClock(bar?.startS ?? 0)}${looped ? ", in the loop" : ""}`}
            style={{ left: box.left, top: box.top, width: box.right - box.left, height: box.bottom - box.top }}
            onClick={(e) => {
              // A pointer's click is the page's (it may be a drag or a shift-click); Enter and Space are the button's.
              if (e.detail === 0) onKeyboardPick(box.bar);
            }}
          />
        );
      })}
      {currentBox && beatX !== null && (
        <span
          className="bars__beat"
          aria-hidden="true"
          style={{ left: beatX, top: currentBox.top, height: currentBox.bottom - currentBox.top }}
        />
      )}
    </div>
  );
}
