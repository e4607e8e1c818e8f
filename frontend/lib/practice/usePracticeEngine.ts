"use client";

import { useEffect, useState, useSyncExternalStore } from "react";

import { PracticeEngine, type PlayerState } from "./engine";
import type { TrackSpec } from "./tracks";

const noSubscription = () => () => undefined;
const noState = () => null;

/** The practice engine for `tracks` (none without tracks), and its state, re-rendering on every change. */
export function usePracticeEngine(tracks: readonly TrackSpec[]): { engine: PracticeEngine | null; state: PlayerState | null } {
  const [engine, setEngine] = useState<PracticeEngine | null>(null);
  const key = tracks.map((t) => `${t.name}=${t.url}`).join("|");
  useEffect(() => {
    if (!tracks.length) return;
    const made = new PracticeEngine(tracks);
    // The engine makes media elements and an audio graph: a side effect, so it is made here, not in render.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setEngine(made);
    return () => {
      made.dispose();
      setEngine(null);
    };
    // The tracks are the same while their names and addresses are.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const state = useSyncExternalStore(engine?.subscribe ?? noSubscription, engine?.snapshot ?? noState, noState);
  return { engine, state };
}
