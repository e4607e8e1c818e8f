import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, test } from "vitest";

import type { Job } from "@/lib/api/client";
import { SeparationNote } from "@/components/SeparationNote";

type Separation = Pick<Job, "separator" | "separator_reason">;

const render = (job: Separation) => renderToStaticMarkup(<SeparationNote job={job} />);
const text = (job: Separation) => render(job).replace(/<[^>]+>/g, "").replaceAll("&#x27;", "'");

describe("SeparationNote", () => {
  test("auto without Demucs weights on an offline server: the musician is told, without server details", () => {
    const html = render({ separator: "none", separator_reason: "demucs weights unavailable offline" });
    expect(html).toMatch(/^<p class="hint separation-note">/);
    expect(text({ separator: "none", separator_reason: "demucs weights unavailable offline" })).toBe(
      "Drums were not separated from the band: the separation model isn't installed on this server; " +
        "results on full mixes may be less accurate.",
    );
    expect(html).not.toMatch(/demucs|weights|SEPARATOR|HF_HUB/i);
  });

  test("each reason for an unseparated mix has its own words", () => {
    const reasons: Separation["separator_reason"][] = [
      "demucs weights unavailable offline",
      "demucs weights download failed",
      "demucs weights could not be loaded",
      "chosen explicitly",
    ];
    const lines = reasons.map((separator_reason) => text({ separator: "none", separator_reason }));
    expect(new Set(lines).size).toBe(reasons.length);
    for (const line of lines) expect(line).toMatch(/^Drums were not separated from the band: .+ may be less accurate\.$/);
    expect(lines[1]).toContain("couldn't be downloaded");
    expect(lines[3]).toContain("drums-only");
  });

  test("separated drums, the light filter, and a job from before reasons were kept", () => {
    expect(text({ separator: "demucs", separator_reason: "demucs weights present" })).toBe(
      "Drums were separated from the band before transcription.",
    );
    expect(text({ separator: "hpss", separator_reason: "chosen explicitly" })).toContain("simple filter");
    expect(text({ separator: "none", separator_reason: null })).toBe(
      "Drums were not separated from the band; results on full mixes may be less accurate.",
    );
  });

  test("nothing while the job has not been separated yet", () => {
    expect(render({ separator: null, separator_reason: null })).toBe("");
  });
});
