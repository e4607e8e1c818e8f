import { describe, expect, test } from "vitest";

import { ACCEPT, DEFAULT_LIMITS, checkDuration, checkFile, checkLink, durationInWords, readDuration, uploadHint, type MediaProbe } from "@/lib/validation";

const MB = 1024 * 1024;

describe("checkFile", () => {
  test.each([
    ["song.mp3", "audio/mpeg"],
    ["song.WAV", ""],
    ["take 3.flac", "audio/flac"],
    ["voice memo.m4a", "audio/x-m4a"],
    ["live.webm", "video/webm"],
    ["clip.mov", "video/quicktime"],
    ["no-extension", "audio/ogg"],
  ])("accepts %s (%s)", (name, type) => {
    expect(checkFile({ name, size: 3 * MB, type })).toBeNull();
  });

  test.each([
    ["notes.txt", "text/plain"],
    ["cover.png", "image/png"],
    ["README", ""],
    ["song.mp3.zip", "application/zip"],
  ])("refuses %s (%s) as not audio", (name, type) => {
    expect(checkFile({ name, size: 1000, type })).toBe(
      `“${name}” is not an audio file. Choose a song: mp3, wav, flac, ogg, m4a or opus.`,
    );
  });

  test("refuses an empty file", () => {
    expect(checkFile({ name: "song.mp3", size: 0, type: "audio/mpeg" })).toMatch(/is empty/);
  });

  test("refuses a file over the limit, naming its size and the limit", () => {
    expect(checkFile({ name: "album.wav", size: 150 * MB, type: "audio/wav" }, 100)).toBe(
      "“album.wav” is 150 MB; the limit is 100 MB. Upload a compressed file (mp3, ogg, m4a) or a shorter excerpt.",
    );
    expect(checkFile({ name: "a.wav", size: 100 * MB, type: "audio/wav" }, 100)).toBeNull();
    expect(checkFile({ name: "a.wav", size: 100 * MB + 1, type: "audio/wav" }, 100)).toMatch(/100 MB; the limit/);
    expect(checkFile({ name: "a.wav", size: 5.5 * MB, type: "audio/wav" }, 5)).toMatch(/is 5\.5 MB; the limit is 5 MB/);
  });

  test("the picker offers audio and video and the known extensions", () => {
    expect(ACCEPT.split(",")).toEqual(expect.arrayContaining(["audio/*", "video/*", ".mp3", ".flac", ".opus"]));
  });
});

describe("checkLink", () => {
  test("accepts http and https links as they are", () => {
    expect(checkLink("https://www.youtube.com/watch?v=dQw4w9WgXcQ")).toEqual({
      url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
      error: null,
    });
    expect(checkLink("  http://example.com/song.mp3 \n").url).toBe("http://example.com/song.mp3");
  });

  test("adds https:// to a bare address", () => {
    expect(checkLink("youtu.be/dQw4w9WgXcQ").url).toBe("https://youtu.be/dQw4w9WgXcQ");
    expect(checkLink("www.youtube.com").url).toBe("https://www.youtube.com/");
  });

  test.each([
    ["", "Paste a link to a song, for example a YouTube video."],
    ["   ", "Paste a link to a song, for example a YouTube video."],
    ["not a link", "That is not a link. Paste an address that starts with https://"],
    ["ftp://example.com/song.mp3", "Only http:// and https:// links can be transcribed."],
    ["javascript:alert(1)", "Only http:// and https:// links can be transcribed."],
    ["file:///etc/passwd", "Only http:// and https:// links can be transcribed."],
  ])("refuses %j", (text, error) => {
    expect(checkLink(text)).toEqual({ url: null, error });
  });
});

describe("limits in words", () => {
  test.each([
    [900, "15 minutes"],
    [60, "1 minute"],
    [90, "90 seconds"],
    [1, "1 second"],
    [3600, "1 hour"],
    [5400, "1 hour 30 minutes"],
    [7200, "2 hours"],
  ])("%i s is %s", (seconds, words) => {
    expect(durationInWords(seconds)).toBe(words);
  });

  test("the upload hint names the deployment's limits", () => {
    expect(uploadHint(DEFAULT_LIMITS)).toBe("MP3, WAV, FLAC, OGG, M4A or OPUS, up to 100 MB and 15 minutes.");
    expect(uploadHint({ max_upload_mb: 40, max_duration_seconds: 300 })).toMatch(/up to 40 MB and 5 minutes\.$/);
  });
});

describe("checkDuration", () => {
  test("a song within the limit, or one whose length the browser could not read, may be uploaded", () => {
    expect(checkDuration("song.mp3", 600, 600)).toBeNull();
    expect(checkDuration("song.mp3", null, 600)).toBeNull();
    expect(checkDuration("song.mp3", Number.NaN, 600)).toBeNull();
  });

  test("a longer one is refused in minutes, naming the file and the limit", () => {
    expect(checkDuration("long take.wav", 601, 600)).toBe(
      "“long take.wav” lasts 10 min 1 s; songs can be up to 10 minutes long. Upload the part you want to play, cut to that length.",
    );
    expect(checkDuration("set.flac", 1800, DEFAULT_LIMITS.max_duration_seconds)).toContain("lasts 30 min; songs can be up to 15 minutes long");
  });
});

describe("readDuration", () => {
  function fakeMedia(outcome: { duration: number } | "error" | "silent") {
    const el: MediaProbe & { loads: number } = {
      preload: "",
      src: "",
      duration: Number.NaN,
      loads: 0,
      onloadedmetadata: null,
      onerror: null,
      removeAttribute(name: string) {
        if (name === "src") this.src = "";
      },
      load() {
        this.loads += 1;
      },
    };
    const urls = { created: [] as string[], revoked: [] as string[] };
    const api = {
      createObjectURL: () => {
        urls.created.push("blob:song");
        queueMicrotask(() => {
          if (outcome === "error") el.onerror?.(new Event("error"));
          else if (outcome !== "silent") {
            el.duration = outcome.duration;
            el.onloadedmetadata?.(new Event("loadedmetadata"));
          }
        });
        return "blob:song";
      },
      revokeObjectURL: (url: string) => void urls.revoked.push(url),
    };
    return { el, urls, api };
  }

  test("reads the length from the file's metadata and lets the object URL go", async () => {
    const { el, urls, api } = fakeMedia({ duration: 754.2 });
    expect(await readDuration(new Blob(["x"]), 1000, () => el, api)).toBe(754.2);
    expect(el.preload).toBe("metadata");
    expect(el.src).toBe("");
    expect(urls.revoked).toEqual(urls.created);
  });

  test("null when the browser cannot read the file, gives an endless stream's length, or does not answer", async () => {
    const unreadable = fakeMedia("error");
    expect(await readDuration(new Blob(["x"]), 1000, () => unreadable.el, unreadable.api)).toBeNull();
    const endless = fakeMedia({ duration: Number.POSITIVE_INFINITY });
    expect(await readDuration(new Blob(["x"]), 1000, () => endless.el, endless.api)).toBeNull();
    const silent = fakeMedia("silent");
    expect(await readDuration(new Blob(["x"]), 10, () => silent.el, silent.api)).toBeNull();
    expect(silent.urls.revoked).toEqual(["blob:song"]);
  });
});
