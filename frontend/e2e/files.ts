/**
 * Reading the files a job hands back, for the end-to-end specs: a MIDI file's notes (with their times),
 * a PDF's pages as grey pixels (poppler's pdftoppm), where two such pages differ, and where the bars of a
 * staff are on a page (its staff lines and barlines, found in the pixels).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type MidiNote = { tick: number; seconds: number; channel: number; pitch: number; velocity: number };

/** The note-ons of a standard MIDI file (format 0 or 1), in order, with their times from its tempo map. */
export function midiNotes(bytes: Uint8Array): MidiNote[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (text(0) !== "MThd") throw new Error("not a MIDI file: no MThd header");
  const tracks = view.getUint16(10);
  const division = view.getUint16(12);
  if (division & 0x8000) throw new Error("SMPTE time division is not read here");
  let at = 8 + view.getUint32(4);
  const notes: Omit<MidiNote, "seconds">[] = [];
  const tempos: { tick: number; usPerBeat: number }[] = [];
  for (let t = 0; t < tracks; t++) {
    if (text(at) !== "MTrk") throw new Error(`track ${t} has no MTrk header`);
    const end = at + 8 + view.getUint32(at + 4);
    at += 8;
    let tick = 0;
    let status = 0;
    const varLen = () => {
      let value = 0;
      for (;;) {
        const b = bytes[at++];
        value = (value << 7) | (b & 0x7f);
        if (!(b & 0x80)) return value;
      }
    };
    while (at < end) {
      tick += varLen();
      let byte = bytes[at];
      if (byte & 0x80) {
        at++;
        if (byte < 0xf0) status = byte;
      } else {
        byte = status; // running status: the data byte is read below
      }
      if (byte === 0xff) {
        const type = bytes[at++];
        const length = varLen();
        if (type === 0x51) tempos.push({ tick, usPerBeat: (bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2] });
        at += length;
      } else if (byte === 0xf0 || byte === 0xf7) {
        at += varLen();
      } else {
        const kind = byte & 0xf0;
        const data1 = bytes[at++];
        const data2 = kind === 0xc0 || kind === 0xd0 ? 0 : bytes[at++];
        if (kind === 0x90 && data2 > 0) notes.push({ tick, channel: byte & 0x0f, pitch: data1, velocity: data2 });
      }
    }
    at = end;
  }
  tempos.sort((a, b) => a.tick - b.tick);
  const seconds = (tick: number) => {
    let s = 0;
    let from = 0;
    let us = 500_000;
    for (const tempo of tempos) {
      if (tempo.tick >= tick) break;
      s += ((tempo.tick - from) * us) / division / 1e6;
      from = tempo.tick;
      us = tempo.usPerBeat;
    }
    return s + ((tick - from) * us) / division / 1e6;
  };
  return notes.sort((a, b) => a.tick - b.tick || a.pitch - b.pitch).map((n) => ({ ...n, seconds: seconds(n.tick) }));
}

/** A page as grey levels, 0 black to 255 white, row by row. */
export type Grey = { width: number; height: number; pixels: Uint8Array };

/** The pages of a PDF at `dpi`, rendered by poppler's pdftoppm into grey pixels (PGM). */
export function pdfPages(pdf: Uint8Array, dpi: number): Grey[] {
  const dir = mkdtempSync(join(tmpdir(), "drumscribe-pdf-"));
  writeFileSync(join(dir, "in.pdf"), pdf);
  const run = spawnSync("pdftoppm", ["-r", String(dpi), "-gray", join(dir, "in.pdf"), join(dir, "page")], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`pdftoppm failed (is poppler-utils installed?): ${run.stderr || run.error}`);
  return readdirSync(dir)
    .filter((name) => name.endsWith(".pgm"))
    .sort()
    .map((name) => readPgm(readFileSync(join(dir, name))));
}

/** A binary PGM (P5, 8 bits). */
export function readPgm(data: Uint8Array): Grey {
  const fields: string[] = [];
  let at = 0;
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(data[at]))) at++;
    if (data[at] === 0x23) {
      while (data[at] !== 0x0a) at++; // a comment, to the end of its line
      continue;
    }
    let field = "";
    while (!/\s/.test(String.fromCharCode(data[at]))) field += String.fromCharCode(data[at++]);
    fields.push(field);
  }
  at++; // the one whitespace after the maximum value
  const [magic, width, height, max] = [fields[0], Number(fields[1]), Number(fields[2]), Number(fields[3])];
  if (magic !== "P5" || max !== 255) throw new Error(`not an 8-bit binary PGM (${magic}, max ${max})`);
  return { width, height, pixels: data.subarray(at, at + width * height) };
}

export type Box = { left: number; top: number; right: number; bottom: number };

/** The box around the pixels that differ by more than `threshold` grey levels, and their count. */
export function difference(a: Grey, b: Grey, threshold = 48): { count: number; box: Box | null } {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`pages of different sizes: ${a.width}×${a.height}, ${b.width}×${b.height}`);
  let count = 0;
  const box = { left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity };
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const i = y * a.width + x;
      if (Math.abs(a.pixels[i] - b.pixels[i]) <= threshold) continue;
      count++;
      box.left = Math.min(box.left, x);
      box.right = Math.max(box.right, x);
      box.top = Math.min(box.top, y);
      box.bottom = Math.max(box.bottom, y);
    }
  }
  return { count, box: count ? box : null };
}

/** A staff on a page: its top and bottom lines, where it starts and ends, and its barlines' x. */
export type Staff = { top: number; bottom: number; left: number; right: number; barlines: number[] };

const DARK = 128;

/**
 * The staves of a page, top to bottom: five staff lines (rows with a long unbroken dark run: a last
 * system of one bar is short, text is broken into letters), and
 * the barlines between them: columns dark from the top line to the bottom one and light just outside it
 * (a stem reaches past the staff or stops inside it), alone in the middle of each space (a time
 * signature's digits are not). Barlines closer than `mergePx` (a final double bar) count as one.
 */
export function staves(page: Grey, mergePx = 5): Staff[] {
  const dark = (x: number, y: number) => page.pixels[y * page.width + x] < DARK;
  const lineRows: number[] = [];
  for (let y = 0; y < page.height; y++) {
    let run = 0;
    let longest = 0;
    for (let x = 0; x < page.width; x++) {
      run = dark(x, y) ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    if (longest > page.width * 0.15) lineRows.push(y);
  }
  // Rows next to each other are one line (a line may be two pixels thick).
  const lines: number[] = [];
  for (const y of lineRows) if (!lines.length || y - lines[lines.length - 1] > 1) lines.push(y);
  const found: Staff[] = [];
  for (let i = 0; i + 4 < lines.length; i += 5) {
    const top = lines[i];
    const bottom = lines[i + 4];
    let left = page.width;
    let right = 0;
    for (let x = 0; x < page.width; x++) {
      if (dark(x, top) && dark(x, bottom)) {
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
    const barlines: number[] = [];
    const space = (bottom - top) / 4;
    const margin = Math.max(2, Math.round(space));
    // The middle of each space: a barline is alone there, a time signature's digit is not.
    const middles = [0, 1, 2, 3].map((k) => Math.round(top + (k + 0.5) * space));
    for (let x = left + mergePx; x <= right; x++) {
      let full = true;
      for (let y = top; y <= bottom && full; y++) full = dark(x, y);
      if (!full || dark(x, top - margin) || dark(x, bottom + margin)) continue;
      const alone = middles.every((y) => !dark(x - 2, y) && !dark(x + 2, y));
      // The final barline (thin and thick together) ends the staff.
      if (!alone && right - x > mergePx) continue;
      if (barlines.length && x - barlines[barlines.length - 1] <= mergePx) barlines[barlines.length - 1] = x;
      else barlines.push(x);
    }
    found.push({ top, bottom, left, right, barlines });
  }
  return found;
}

/** Where bar `index` (0-based, counted over all the page's staves) is drawn: from its start to its barline. */
export function barArea(all: readonly Staff[], index: number): (Box & { staff: number }) | null {
  let first = 0;
  for (let s = 0; s < all.length; s++) {
    const staff = all[s];
    if (index < first + staff.barlines.length) {
      const j = index - first;
      const left = j === 0 ? staff.left : staff.barlines[j - 1];
      return { staff: s, left, right: staff.barlines[j], top: staff.top, bottom: staff.bottom };
    }
    first += staff.barlines.length;
  }
  return null;
}
