/**
 * Keeping the tracks together. Each track is its own media element with its own clock; the first one
 * leads and the others follow it. A small drift is taken up by playing the follower a little faster or
 * slower until it is back within a few milliseconds (inaudible, as the pitch is preserved); a large one
 * (after a stall) by a jump.
 */

/** Drift (seconds) a follower may have before it is corrected: a fraction of a 16th note at any tempo. */
export const TOLERANCE_S = 0.015;
/** Drift at which a correction is done. */
export const SETTLED_S = 0.004;
/** Drift beyond which a follower jumps to the leader instead of catching up. */
export const JUMP_S = 0.12;
/** How much faster or slower a follower plays while it catches up. */
export const NUDGE = 0.03;

export type SyncStep = { kind: "steady"; rate: number } | { kind: "nudge"; rate: number } | { kind: "jump" };

/**
 * What to do with a follower `driftS` ahead of the leader (negative: behind) while playing at `rate`;
 * `catchingUp`: it is being nudged already (it goes on until the drift is under SETTLED_S).
 */
export function syncStep(driftS: number, rate: number, catchingUp: boolean): SyncStep {
  const size = Math.abs(driftS);
  if (size > JUMP_S) return { kind: "jump" };
  if (size > (catchingUp ? SETTLED_S : TOLERANCE_S)) return { kind: "nudge", rate: rate * (driftS > 0 ? 1 - NUDGE : 1 + NUDGE) };
  return { kind: "steady", rate };
}
