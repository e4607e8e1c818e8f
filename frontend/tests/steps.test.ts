import { describe, expect, test } from "vitest";

import type { Job } from "@/lib/api/client";
import { failedStepLabel, isActive, overallProgress, statusLabel, statusSentence, stepsFor, STEPS } from "@/lib/steps";

type JobLike = Pick<Job, "status" | "stage_progress" | "failed_stage" | "timings">;

function job(over: Partial<JobLike>): JobLike {
  return { status: "pending", stage_progress: 0, failed_stage: null, timings: {}, ...over };
}

const states = (j: JobLike) => stepsFor(j).map((s) => s.state);

describe("stepsFor", () => {
  test("the four steps of the issue, in pipeline order", () => {
    expect(STEPS.map((s) => s.label)).toEqual(["Ingest", "Separating drums", "Predicting hits", "Writing the sheet"]);
    expect(STEPS.map((s) => s.timing)).toEqual(["ingest_audio", "separate_drums", "predict_hits", "transcribe_and_export"]);
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
    );
    expect(steps.map((s) => s.progress)).toEqual([100, 100, 42, 0]);
    expect(steps.map((s) => s.seconds)).toEqual([0.19, 12.5, null, null]);
  });

  test("progress outside 0–100 is clamped", () => {
    expect(stepsFor(job({ status: "processing", stage_progress: 140 }))[0].progress).toBe(100);
    expect(stepsFor(job({ status: "processing", stage_progress: -3 }))[0].progress).toBe(0);
  });

  test.each([
    ["ingest", ["failed", "skipped", "skipped", "skipped"], "Ingest"],
    ["separation", ["done", "failed", "skipped", "skipped"], "Separating drums"],
    ["prediction", ["done", "done", "failed", "skipped"], "Predicting hits"],
    ["transcription", ["done", "done", "done", "failed"], "Writing the sheet"],
  ] as const)("a job that failed in %s", (stage, expected, label) => {
    const failed = job({ status: "failed", failed_stage: stage });
    expect(states(failed)).toEqual(expected);
    expect(failedStepLabel(failed)).toBe(label);
  });

  test("without failed_stage, the failed step is the first one that did not finish", () => {
    const failed = job({ status: "failed", timings: { ingest_audio: 1, separate_drums: 2 } });
    expect(states(failed)).toEqual(["done", "done", "failed", "skipped"]);
  });
});

describe("overallProgress", () => {
  test("each step counts a quarter", () => {
    expect(overallProgress(job({ status: "pending" }))).toBe(0);
    expect(overallProgress(job({ status: "processing", stage_progress: 50 }))).toBe(13);
    expect(overallProgress(job({ status: "predicting", stage_progress: 0 }))).toBe(50);
    expect(overallProgress(job({ status: "transcribing", stage_progress: 100 }))).toBe(100);
    expect(overallProgress(job({ status: "completed" }))).toBe(100);
  });
});

describe("words", () => {
  test("status sentences", () => {
    expect(statusSentence(job({ status: "pending" }))).toBe("Waiting for a free worker…");
    expect(statusSentence(job({ status: "separating_drums" }))).toBe("Isolating the drum track from the mix…");
    expect(statusSentence(job({ status: "completed" }))).toBe("Your drum sheet is ready.");
    expect(statusSentence(job({ status: "failed", failed_stage: "ingest" }))).toBe("Failed while ingesting the audio.");
    expect(statusSentence(job({ status: "failed", failed_stage: "prediction" }))).toBe("Failed while predicting hits.");
  });

  test("every status has a badge label, and only running ones are active", () => {
    const all = ["pending", "processing", "separating_drums", "predicting", "transcribing", "completed", "failed"] as const;
    expect(all.map(statusLabel)).toEqual([
      "Queued", "Ingesting", "Separating drums", "Predicting hits", "Writing the sheet", "Done", "Failed",
    ]); // prettier-ignore
    expect(all.filter(isActive)).toEqual(["pending", "processing", "separating_drums", "predicting", "transcribing"]);
  });
});
