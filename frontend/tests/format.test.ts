import { describe, expect, test } from "vitest";

import { elapsedSeconds, formatBytes, formatClock, formatSeconds, formatTempo, formatWhen, jobName } from "@/lib/format";

describe("format", () => {
  test("formatClock", () => {
    expect(formatClock(0)).toBe("0:00");
    expect(formatClock(9.25)).toBe("0:09");
    expect(formatClock(75)).toBe("1:15");
    expect(formatClock(3725)).toBe("1:02:05");
    expect(formatClock(-4)).toBe("0:00");
    expect(formatClock(Number.NaN)).toBe("0:00");
  });

  test("formatSeconds", () => {
    expect(formatSeconds(0.024)).toBe("0.0 s");
    expect(formatSeconds(2.628)).toBe("2.6 s");
    expect(formatSeconds(14.2)).toBe("14 s");
    expect(formatSeconds(125)).toBe("2 min 5 s");
    expect(formatSeconds(120)).toBe("2 min");
    expect(formatSeconds(-1)).toBe("–");
  });

  test("formatBytes", () => {
    expect(formatBytes(341)).toBe("341 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(815_894)).toBe("797 KB");
    expect(formatBytes(12 * 1024 * 1024)).toBe("12 MB");
    expect(formatBytes(3.2 * 1024 ** 3)).toBe("3.2 GB");
  });

  test("formatTempo", () => {
    expect(formatTempo(120)).toBe("120 BPM");
    expect(formatTempo(119.96)).toBe("120 BPM");
    expect(formatTempo(92.5)).toBe("92.5 BPM");
    expect(formatTempo(null)).toBe("–");
  });

  test("formatWhen", () => {
    const now = Date.parse("2026-11-25T12:00:00Z");
    expect(formatWhen("2026-11-25T11:59:40Z", now)).toBe("just now");
    expect(formatWhen("2026-11-25T11:55:00Z", now)).toBe("5 min ago");
    expect(formatWhen("2026-11-25T09:00:00Z", now)).toBe("3 h ago");
    expect(formatWhen("2026-11-20T09:00:00Z", now, "en-GB")).toMatch(/20 Nov 2026/);
    expect(formatWhen("not a date", now)).toBe("");
  });

  test("elapsedSeconds runs to now until the job finishes", () => {
    const start = "2026-11-25T12:00:00Z";
    expect(elapsedSeconds(start, null, Date.parse("2026-11-25T12:00:12.5Z"))).toBe(12.5);
    expect(elapsedSeconds(start, "2026-11-25T12:00:10Z", Date.parse("2026-11-25T13:00:00Z"))).toBe(10);
    expect(elapsedSeconds(start, null, Date.parse("2026-11-25T11:59:59Z"))).toBe(0);
  });

  test("jobName prefers the title", () => {
    expect(jobName({ title: "Rock Groove", source: "rock.wav" })).toBe("Rock Groove");
    expect(jobName({ title: null, source: "https://youtu.be/x" })).toBe("https://youtu.be/x");
    expect(jobName({ title: "  ", source: "rock.wav" })).toBe("rock.wav");
  });
});
