/** Numbers, times and sizes as the pages show them. */

/** 75 → "1:15", 3725 → "1:02:05". */
export function formatClock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(Number.isFinite(totalSeconds) ? totalSeconds : 0));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** A stage's duration: "0.4 s", "12 s", "2 min 5 s". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  const rest = whole % 60;
  return rest ? `${Math.floor(whole / 60)} min ${rest} s` : `${whole / 60} min`;
}

/** 1536 → "1.5 KB", 12_582_912 → "12 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "–";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** 119.96 → "120 BPM", 92.5 → "92.5 BPM". */
export function formatTempo(bpm: number | null | undefined): string {
  if (bpm == null || !Number.isFinite(bpm)) return "–";
  const rounded = Math.round(bpm * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)} BPM`;
}

/** When something happened, relative to `now`: "just now", "5 min ago", "3 h ago", else a date. */
export function formatWhen(iso: string, now: number = Date.now(), locale?: string): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const ago = (now - then) / 1000;
  if (ago < 45) return "just now";
  if (ago < 3600) return `${Math.max(1, Math.round(ago / 60))} min ago`;
  if (ago < 86400) return `${Math.round(ago / 3600)} h ago`;
  return new Date(then).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}

/** Seconds from `startIso` to `endIso`, or to `now` while it runs. */
export function elapsedSeconds(startIso: string, endIso: string | null, now: number): number {
  const start = Date.parse(startIso);
  const end = endIso ? Date.parse(endIso) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return 0;
  return Math.max(0, (end - start) / 1000);
}

/** The name a job goes by: its title, else the file name or link. */
export function jobName(job: { title: string | null; source: string }): string {
  return job.title?.trim() || job.source;
}
