"""Fitting the learned tracker's bar-phase weights (`app.pipeline.beats.bars.WEIGHTS`) on synthetic songs.

`bars.recount_bars` picks the bar phase φ of highest score Σ_{beats counted 1 under φ} w · evidence.
The weights are a logistic regression, per decoded beat, of "this beat is a downbeat" on its evidence
(with an intercept, which adds the same to every phase of a metre and is dropped), fitted by maximum
likelihood with a small L2 penalty on held-out synthetic songs (`scripts/bench_tempo.py --trackers
learned-network --fit-bars`). So each beat's w · evidence is its log-odds of being a 1, and a phase's
score adds those of the beats it counts 1, as if beats were independent evidence. Per beat, and not
per song, because per song the network alone already tells the phase of nearly every synthetic song,
and the weights of the drums would be left undetermined; per beat, the crash, the kick and the fills
say how much they add to a network that is unsure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.special

from app.evaluation.beats import BEAT_WINDOW_S, BeatAnnotation
from app.pipeline.beats.bars import EVIDENCE
from app.pipeline.beats.decode import BeatTrack

L2 = 1e-4
"""Per beat, on the squared weights (not the intercept)."""
MIN_MATCHED = 0.8
"""A song teaches the bar phase only when this share of its decoded beats are true beats (right tempo
and phase), and this share of its matched downbeats agree on one phase."""


@dataclass(frozen=True)
class BarExample:
    """One song: the evidence of each decoded beat, the bars' length in beats and the true phase."""

    evidence: np.ndarray
    beats_per_bar: int
    phase: int


def true_phase(track: BeatTrack, annotation: BeatAnnotation) -> int | None:
    """The phase φ (index of the first decoded beat that is a true downbeat, modulo the bar) of a track
    in one metre whose beats are the true ones; None when the track is not such a track."""
    if len(set(track.metres)) != 1 or len(track.times) < 4:
        return None
    beats_per_bar = int(np.max(track.positions))
    distance = np.abs(track.times[:, None] - annotation.times[None, :])
    nearest = np.argmin(distance, axis=1)
    matched = distance[np.arange(len(track.times)), nearest] <= BEAT_WINDOW_S
    if matched.mean() < MIN_MATCHED or set(annotation.numbers.tolist()) != set(range(1, beats_per_bar + 1)):
        return None
    on_downbeats = np.flatnonzero(matched & (annotation.numbers[nearest] == 1))
    if len(on_downbeats) < 2:
        return None
    phase, count = Counter((on_downbeats % beats_per_bar).tolist()).most_common(1)[0]
    return int(phase) if count >= MIN_MATCHED * len(on_downbeats) else None


def _phase_sums(example: BarExample) -> np.ndarray:
    """(phases, evidence): the evidence summed over the beats each phase counts 1."""
    p = example.beats_per_bar
    return np.stack([example.evidence[phase::p].sum(axis=0) for phase in range(p)])


def phase_accuracy(examples: list[BarExample], weights: np.ndarray) -> float:
    """The share of `examples` whose true phase scores highest with `weights` (ties count as wrong)."""
    right = 0
    for example in examples:
        scores = _phase_sums(example) @ weights
        right += int(np.argmax(scores)) == example.phase and int(np.sum(scores == scores.max())) == 1
    return right / max(len(examples), 1)


def fit_bar_weights(examples: list[BarExample]) -> tuple[dict[str, float], float]:
    """Weights by name, and the share of `examples` whose true phase scores highest with them."""
    if not examples:
        raise ValueError("no songs to fit the bar weights on: every song was skipped (wrong tempo, or no bars)")
    x = np.concatenate([e.evidence for e in examples])
    y = np.concatenate([(np.arange(len(e.evidence)) - e.phase) % e.beats_per_bar == 0 for e in examples])
    design = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    penalty = L2 * np.r_[np.ones(x.shape[1]), 0.0]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ w
        # log(1 + e^z) - y z, written to stay finite for large |z|
        value = float(np.sum(np.logaddexp(0.0, z) - y * z)) + float(np.sum(penalty * w * w)) * len(x)
        grad = design.T @ (scipy.special.expit(z) - y) + 2 * penalty * w * len(x)
        return value, grad

    result = scipy.optimize.minimize(loss, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B")
    w = result.x[:-1]
    return {name: float(v) for name, v in zip(EVIDENCE, w, strict=True)}, phase_accuracy(examples, w)
