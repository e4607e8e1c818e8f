"use client";

import { useEffect, useState } from "react";

import { getPipeline, type Pipeline } from "@/lib/api/client";
import { PIPELINE } from "@/lib/api/pipeline";

// One request per page load, shared by every component that shows steps, badges or downloads.
let answer: Promise<Pipeline> | null = null;

function fetchPipeline(): Promise<Pipeline> {
  answer ??= getPipeline().catch((exc: unknown) => {
    answer = null; // the next component to mount asks again
    throw exc;
  });
  return answer;
}

/**
 * The pipeline's stages and artifacts as the API describes them. Until it answers (or if it cannot),
 * the description this build was generated with (`lib/api/pipeline.ts`).
 */
export function usePipeline(): Pipeline {
  const [pipeline, setPipeline] = useState<Pipeline>(PIPELINE);
  useEffect(() => {
    let mounted = true;
    fetchPipeline().then(
      (described) => {
        if (mounted) setPipeline(described);
      },
      () => undefined,
    );
    return () => {
      mounted = false;
    };
  }, []);
  return pipeline;
}
