import { describe, expect, test } from "vitest";

import type { Job, PipelineStage } from "@/lib/api/client";
import { PIPELINE } from "@/lib/api/pipeline";
import { failedStepLabel, isActive, overallProgress, statusLabel, statusSentence, stepsFor } from "@/lib/steps";

type JobLike = Pick<Job, "status" | "stage_progress" | "failed_stage" | "timings">;

function job(over: Partial<JobLike>): JobLike {
  return { status: "pending", stage_progress: 0, failed_stage: null, timings: {}, ...over };
}

const STAGES = PIPELINE.stages;
const states = (j: JobLike) => stepsFor(j, STAGES).map((s) => s.state);

describe("stepsFor", () => {
  test("the four steps of the issue, in pipeline order (this build's copy of GET /api/v1/pipeline)", () => {
    expect(STAGES.map((s) => s.label)).toEqual(["Reading audio", "Separating drums", "Detecting hits", "Writing the sheet"]);
    expect(STAGES.map((s) => s.name)).toEqual(["ingest_audio", "separate_drums", "predict_hits", "transcribe_and_export"]);
  });

  test("the steps are the API's: a stage it adds is shown, in its place", () => {
    const extra: PipelineStage = {
      name: "mix_click",
      job_status: "transcribing",
      label: "Adding a click",
      detail: "A click track",
      failure_label: "transcription",
    };
    const stages = [...STAGES, extra];
    const steps = stepsFor(job({ status: "completed", timings: { mix_click: 2 } }), stages);
    expect(steps.map((s) => s.label).at(-1)).toBe("Adding a click");
    expect(steps.at(-1)?.seconds).toBe(2);
    expect(overallProgress(job({ status: "predicting" }), stages)).toBe(40);
  });

  test("a queued job waits at every step", () => {
    expect(states(job({ status: "pending" }))).toEqual(["waiting", "waiting", "waiting", "waiting"]);
  });

  test.each([
    ["processing", ["active", "waiting", "waiting", "waiting"]],
    ["separating_drums", ["done", "active", "waiting", "waiting"]],
    ["predicting", ["done", "done", "active", "waiting"]],
    ["transcribing", ["done", "done", "done", "active"]],
    ["completed", ["done", "done", "done", "done"]],
  ] as const)("status %s", (status, expected) => {
    expect(states(job({ status }))).toEqual(expected);
  });

  test("the running step carries the stage's progress; finished steps their time", () => {
    const steps = stepsFor(
      job({ status: "predicting", stage_progress: 42, timings: { ingest_audio: 0.19, separate_drums: 12.5 } }),
      STAGES,
    );
    expect(steps.map((s) => s.progress)).toEqual([100, 100, 42, 0]);
    expect(steps.map((s) => s.seconds)).toEqual([0.19, 12.5, null, null]);
  });

  test("progress outside 0–100 is clamped", () => {
    expect(stepsFor(job({ status: "processing", stage_progress: 140 }), STAGES)[0].progress).toBe(100);
    expect(stepsFor(job({ status: "processing", stage_progress: -3 }), STAGES)[0].progress).toBe(0);
  });

  test.each([
    ["ingest", ["failed", "skipped", "skipped", "skipped"], "Reading audio"],
    ["separation", ["done", "failed", "skipped", "skipped"], "Separating drums"],
    ["prediction", ["done", "done", "failed", "skipped"], "Detecting hits"],
    ["transcription", ["done", "done", "done", "failed"], "Writing the sheet"],
  ] as const)("a job that failed in %s", (stage, expected, label) => {
    const failed = job({ status: "failed", failed_stage: stage });
    expect(states(failed)).toEqual(expected);
    expect(failedStepLabel(failed, STAGES)).toBe(label);
  });

  test("without failed_stage, the failed step is the first one that did not finish", () => {
    const failed = job({ status: "failed", timings: { ingest_audio: 1, separate_drums: 2 } });
    expect(states(failed)).toEqual(["done", "done", "failed", "skipped"]);
  });
});

describe("overallProgress", () => {
  test("each step counts a quarter", () => {
    expect(overallProgress(job({ status: "pending" }), STAGES)).toBe(0);
    expect(overallProgress(job({ status: "processing", stage_progress: 50 }), STAGES)).toBe(13);
    expect(overallProgress(job({ status: "predicting", stage_progress: 0 }), STAGES)).toBe(50);
    expect(overallProgress(job({ status: "transcribing", stage_progress: 100 }), STAGES)).toBe(100);
    expect(overallProgress(job({ status: "completed" }), STAGES)).toBe(100);
  });
});

describe("words", () => {
  test("status sentences", () => {
    expect(statusSentence(job({ status: "pending" }), STAGES)).toBe("Waiting for a free worker…");
    expect(statusSentence(job({ status: "separating_drums" }), STAGES)).toBe("Isolating the drum track from the mix…");
    expect(statusSentence(job({ status: "completed" }), STAGES)).toBe("Your drum sheet is ready.");
    expect(statusSentence(job({ status: "failed", failed_stage: "ingest" }), STAGES)).toBe("Failed while reading audio.");
    expect(statusSentence(job({ status: "failed", failed_stage: "prediction" }), STAGES)).toBe("Failed while detecting hits.");
  });

  test("every status has a badge label, and only running ones are active", () => {
    const all = ["pending", "processing", "separating_drums", "predicting", "transcribing", "completed", "failed"] as const;
    expect(all.map((status) => statusLabel(status, STAGES))).toEqual([
      "Queued", "Reading audio", "Separating drums", "Detecting hits", "Writing the sheet", "Done", "Failed",
    ]); // prettier-ignore
    expect(all.filter(isActive)).toEqual(["pending", "processing", "separating_drums", "predicting", "transcribing"]);
  });
});
