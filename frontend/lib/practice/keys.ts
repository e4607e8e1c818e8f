/**
 * The practice player's keyboard: what a key does, given what has the focus. Keys that a focused control
 * uses itself (typing in a field, arrows on a slider, Space and Enter on a button) are left to it.
 */
export type PlayerAction =
  | "toggle-play"
  | "previous-bar"
  | "next-bar"
  | "loop-start"
  | "loop-end"
  | "toggle-loop"
  | "faster"
  | "slower"
  | "toggle-drums"
  | "toggle-click";

/** What has the focus: a text field, a slider, another control, one of the sheet's bars, or nothing of these. */
export type FocusKind = "text" | "slider" | "control" | "bar" | "other";

/** The shortcuts, as the player lists them for people. */
export const SHORTCUTS: readonly { keys: string; action: string }[] = [
  { keys: "Space", action: "play or pause" },
  { keys: "← →", action: "previous or next bar" },
  { keys: "[ ]", action: "loop from or to the current bar" },
  { keys: "L", action: "loop on or off" },
  { keys: "− +", action: "slower or faster" },
  { keys: "M", action: "drums off or on" },
  { keys: "C", action: "click off or on" },
];

const BY_KEY: Record<string, PlayerAction> = {
  "[": "loop-start",
  "]": "loop-end",
  l: "toggle-loop",
  L: "toggle-loop",
  "+": "faster",
  "=": "faster",
  "-": "slower",
  _: "slower",
  m: "toggle-drums",
  M: "toggle-drums",
  c: "toggle-click",
  C: "toggle-click",
};

/** The player's action for `key` (KeyboardEvent.key) pressed with the focus on `focus`, or null. */
export function actionFor(
  key: { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean },
  focus: FocusKind,
): PlayerAction | null {
  // The browser's and the system's shortcuts stay theirs.
  if (key.ctrlKey || key.metaKey || key.altKey || focus === "text") return null;
  if (key.key === " " || key.key === "Spacebar") return focus === "control" ? null : "toggle-play";
  if (key.key === "ArrowLeft" || key.key === "ArrowRight") {
    if (focus === "slider") return null;
    return key.key === "ArrowLeft" ? "previous-bar" : "next-bar";
  }
  return BY_KEY[key.key] ?? null;
}

/** What kind of thing an element is, for actionFor (`isBar`: it is one of the sheet's bars). */
export function focusKind(el: { tagName: string; type?: string; isContentEditable?: boolean } | null, isBar: boolean): FocusKind {
  if (!el) return "other";
  if (isBar) return "bar";
  const tag = el.tagName.toLowerCase();
  if (el.isContentEditable || tag === "textarea" || tag === "select") return "text";
  if (tag === "input") {
    const type = (el.type ?? "text").toLowerCase();
    if (type === "range") return "slider";
    return ["checkbox", "radio", "button", "submit", "reset", "file"].includes(type) ? "control" : "text";
  }
  return tag === "button" || tag === "a" || tag === "summary" ? "control" : "other";
}
