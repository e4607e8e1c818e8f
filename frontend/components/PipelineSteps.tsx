"use client";

import { usePipeline } from "@/lib/hooks/usePipeline";

/** The pipeline's stages, in order, as the home page explains them. */
export function PipelineSteps() {
  const { stages } = usePipeline();
  return (
    <ol className="how__steps">
      {stages.map((stage) => (
        <li key={stage.name}>
          <strong>{stage.label}</strong> — {stage.detail.charAt(0).toLowerCase() + stage.detail.slice(1)}.
        </li>
      ))}
    </ol>
  );
}
