/** Checks made in the browser before anything is sent; the API checks again and has the last word. */

/** File types the API decodes (it takes any audio, and the audio track of a video). */
export const AUDIO_EXTENSIONS = [
  "mp3", "wav", "flac", "ogg", "oga", "opus", "m4a", "aac", "aif", "aiff", "wma", "webm", "mp4", "m4v", "mov", "mkv", "mka",
] as const; // prettier-ignore

/** The input limits a deployment reports at /api/v1/limits (the subset the home page needs). */
export type InputLimits = { max_upload_mb: number; max_duration_seconds: number };

/** The API's defaults, used until /api/v1/limits has answered (or when it cannot be reached). */
export const DEFAULT_LIMITS: InputLimits = { max_upload_mb: 100, max_duration_seconds: 900 };

/** A duration limit in words: "15 minutes", "90 seconds", "1 hour 30 minutes". */
export function durationInWords(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (seconds < 60 || seconds % 60 !== 0) return plural(seconds, "second");
  const minutes = seconds / 60;
  if (minutes < 60 || minutes % 60 === 0) return minutes < 60 ? plural(minutes, "minute") : plural(minutes / 60, "hour");
  return `${plural(Math.floor(minutes / 60), "hour")} ${plural(minutes % 60, "minute")}`;
}

/** The hint under the file picker, from the deployment's limits. */
export function uploadHint(limits: InputLimits): string {
  return (
    `MP3, WAV, FLAC, OGG, M4A or OPUS, up to ${limits.max_upload_mb} MB ` +
    `and ${durationInWords(limits.max_duration_seconds)}.`
  );
}

/** What the file picker offers. */
export const ACCEPT = ["audio/*", "video/*", ...AUDIO_EXTENSIONS.map((ext) => `.${ext}`)].join(",");

export type FileLike = { name: string; size: number; type: string };

function extension(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 10 ? `${Math.round(mb)} MB` : `${mb.toFixed(1)} MB`;
}

/** null when the file may be uploaded, else why not (a sentence for the user). */
export function checkFile(file: FileLike, maxMb: number = DEFAULT_LIMITS.max_upload_mb): string | null {
  const ext = extension(file.name);
  const mediaType = file.type.toLowerCase();
  const known = (AUDIO_EXTENSIONS as readonly string[]).includes(ext);
  const audioOrVideo = mediaType.startsWith("audio/") || mediaType.startsWith("video/");
  if (!known && !audioOrVideo) {
    return `“${file.name}” is not an audio file. Choose a song: mp3, wav, flac, ogg, m4a or opus.`;
  }
  if (file.size === 0) {
    return `“${file.name}” is empty. Choose another file.`;
  }
  if (file.size > maxMb * 1024 * 1024) {
    return (
      `“${file.name}” is ${megabytes(file.size)}; the limit is ${maxMb} MB. ` +
      "Upload a compressed file (mp3, ogg, m4a) or a shorter excerpt."
    );
  }
  return null;
}

/** A song's length in words: "4 min 5 s", "45 s". */
function lengthInWords(seconds: number): string {
  const whole = Math.ceil(seconds);
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  if (!minutes) return `${rest} s`;
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}

/**
 * null when a song of `durationS` seconds may be uploaded, else why not (a sentence for the user). A
 * length the browser could not read (null) passes: the API checks every upload again.
 */
export function checkDuration(name: string, durationS: number | null, maxSeconds: number = DEFAULT_LIMITS.max_duration_seconds): string | null {
  if (durationS === null || !Number.isFinite(durationS) || durationS <= maxSeconds) return null;
  return (
    `“${name}” lasts ${lengthInWords(durationS)}; songs can be up to ${durationInWords(maxSeconds)} long. ` +
    "Upload the part you want to play, cut to that length."
  );
}

/** What readDuration needs of an <audio> element (a fake one in the unit tests). */
export type MediaProbe = {
  preload: string;
  src: string;
  duration: number;
  removeAttribute(name: string): void;
  load(): void;
  onloadedmetadata: ((ev: Event) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
};

/**
 * The length in seconds of an audio or video file, as the browser reads it from the file's header
 * through an <audio> element; null when the browser cannot read it (the API will) or takes longer than
 * `timeoutMs`.
 */
export function readDuration(
  file: Blob,
  timeoutMs = 5000,
  media: () => MediaProbe = () => document.createElement("audio"),
  urls: Pick<typeof URL, "createObjectURL" | "revokeObjectURL"> = URL,
): Promise<number | null> {
  return new Promise((resolve) => {
    const el = media();
    const url = urls.createObjectURL(file);
    const done = (seconds: number | null) => {
      clearTimeout(timer);
      el.onloadedmetadata = null;
      el.onerror = null;
      el.removeAttribute("src");
      el.load();
      urls.revokeObjectURL(url);
      resolve(seconds !== null && Number.isFinite(seconds) && seconds > 0 ? seconds : null);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    el.onloadedmetadata = () => done(el.duration);
    el.onerror = () => done(null);
    el.preload = "metadata";
    el.src = url;
  });
}

export type LinkCheck = { url: string; error: null } | { url: null; error: string };

/** A pasted link, normalised (a missing https:// is added), or why it cannot be used. */
export function checkLink(text: string): LinkCheck {
  let value = text.trim();
  if (!value) return { url: null, error: "Paste a link to a song, for example a YouTube video." };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && /^[\w-]+(\.[\w-]+)+(:\d+)?(\/|$)/.test(value)) {
    value = `https://${value}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return { url: null, error: "That is not a link. Paste an address that starts with https://" };
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return { url: null, error: "Only http:// and https:// links can be transcribed." };
  }
  if (!parsed.hostname) {
    return { url: null, error: "That link has no website in it." };
  }
  return { url: parsed.toString(), error: null };
}
