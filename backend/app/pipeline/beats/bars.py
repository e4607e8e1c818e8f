"""Which beat of the bar is 1: the decoded beats counted again, with the drum hits as evidence.

The decoder (`decode.py`) finds the beats well but hears the bar line from the spectrogram alone, and
on real songs it often puts it two beats off. The notation stage also has the hits with their drums,
and drummers mark the bar plainly: the kick and the crash land on 1, the snare on the backbeat, a
fill changes the last beat or two of a bar and the groove comes back on the next 1.

So, once the beats are known, every bar phase of the decoded metre (which beat is 1) is scored as

    score(φ) = Σ over the beats counted 1 under φ of  w · evidence(beat)

with per-beat evidence (`EVIDENCE`): the network's log-odds of downbeat against beat, kick, crash and
snare on the beat, and how much the beat before differs from the same beat a bar earlier and later (a
fill or break ends a bar). The highest score wins. The weights (`WEIGHTS`) are a per-beat logistic
regression of "this beat is a 1" fitted on held-out synthetic songs (`app/training/beats/bar_weights.py`),
so a phase's score adds its downbeats' log-odds; nothing was chosen on real recordings.

Only the numbering changes: the beat times and the metre stay as decoded. A track whose metre changes
inside the song is left as the decoder counted it (its bars are short runs with little evidence).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.pipeline.beats.decode import BeatTrack
from app.pipeline.beats.recipe import FPS, METRES
from app.pipeline.hits import INSTRUMENTS, Hit

EVIDENCE: tuple[str, ...] = ("network", "kick", "crash", "snare", "change_before")
"""Per beat: log(P(downbeat) / P(beat)) near the beat (clipped to ±NETWORK_CLIP); the loudest kick,
crash and snare on the beat (velocity / 127); 1 - the mean cosine similarity of the previous beat's
strokes with the same beat one bar before and after."""

WEIGHTS: dict[str, float] = {
    "network": 1.025,
    "kick": 1.040,
    "crash": 0.649,
    "snare": -1.588,
    "change_before": 0.370,
}
"""Per beat, its log-odds of being a 1 (a logistic regression on the evidence, intercept dropped), fitted
on the 239 of 300 held-out synthetic songs (bench seed 0, generator version 1) that the bundled beat
model (version 3) decodes at their tempo in one metre, with the hits the bundled drum model finds in
their audio, as the notation stage gets them:
`scripts/bench_tempo.py --trackers learned-network --songs 300 --seconds 20 --seed 0 --fit-bars --hits model`.
A snare on the beat is the strongest sign against a 1 and a kick on it about as strong a sign for one
as the network's log-odds. With these weights the phase is right on 96.7 % of those songs, with the
network's evidence alone on 95.0 % (version 2 of the beat model, trained on generator version 1
itself: 99.6 % and 99.2 %)."""

NETWORK_CLIP = 6.0
"""Log-odds beyond ±6 (a probability ratio of 400) say nothing more."""
ON_BEAT_S = 0.05
ON_BEAT_BEATS = 1 / 8
"""A stroke is on a beat within 50 ms of it, and never more than a 32nd note (an 8th of the beat)."""
PEAK_FRAMES = 2
"""The network's activations are read at their highest within ±2 frames of the beat."""
_SLOTS = 12
"""Positions per beat in a beat's stroke pattern (16ths and triplets both fall on one)."""
_BEATS_PER_BAR = {m.name: m.beats for m in METRES}
_TINY = 1e-6


def beat_evidence(
    times: np.ndarray,
    beat_probabilities: np.ndarray,
    hits: Sequence[Hit],
    beats_per_bar: int,
    fps: float = FPS,
) -> np.ndarray:
    """(beats, len(EVIDENCE)) evidence that each beat at `times` (s) is a downbeat, in `beats_per_bar`.

    `beat_probabilities` is the network's (frames, 3) [none, beat, downbeat] output at `fps`.
    """
    times = np.asarray(times, dtype=np.float64)
    evidence = np.zeros((len(times), len(EVIDENCE)))
    if len(times) == 0:
        return evidence
    probs = np.asarray(beat_probabilities, dtype=np.float64)
    frames = np.clip(np.round(times * fps).astype(np.int64), 0, len(probs) - 1)
    near = np.clip(frames[:, None] + np.arange(-PEAK_FRAMES, PEAK_FRAMES + 1)[None, :], 0, len(probs) - 1)
    downbeat = probs[near, 2].max(axis=1)
    beat = probs[near, 1].max(axis=1)
    evidence[:, 0] = np.clip(np.log((downbeat + _TINY) / (beat + _TINY)), -NETWORK_CLIP, NETWORK_CLIP)
    periods = _periods(times)
    for column, drum in ((1, "kick"), (2, "crash"), (3, "snare")):
        evidence[:, column] = _loudest_on_beat(times, periods, [h for h in hits if h.instrument == drum])
    evidence[:, 4] = _change_before(_patterns(times, periods, hits), beats_per_bar)
    return evidence


def phase_scores(evidence: np.ndarray, beats_per_bar: int, weights: np.ndarray | None = None) -> np.ndarray:
    """(beats_per_bar,) score of each bar phase φ: beats φ, φ + beats_per_bar, ... counted 1."""
    w = _weight_vector() if weights is None else np.asarray(weights, dtype=np.float64)
    per_beat = evidence @ w
    return np.array([per_beat[phase::beats_per_bar].sum() for phase in range(beats_per_bar)])


def recount_bars(track: BeatTrack, beat_probabilities: np.ndarray, hits: Sequence[Hit], fps: float = FPS) -> BeatTrack:
    """`track` with its bars counted from the best-scoring phase (the module docstring says how).

    Unchanged when it has no hits, fewer than two bars of beats, or more than one metre.
    """
    if not hits or len(set(track.metres)) != 1:
        return track
    beats_per_bar = _BEATS_PER_BAR[track.metres[0]]
    if len(track.times) < 2 * beats_per_bar or beats_per_bar < 2:
        return track
    evidence = beat_evidence(track.times, beat_probabilities, hits, beats_per_bar, fps)
    phase = int(np.argmax(phase_scores(evidence, beats_per_bar)))
    positions = (np.arange(len(track.times)) - phase) % beats_per_bar + 1
    return BeatTrack(times=track.times, positions=positions.astype(np.int64), metres=track.metres)


def _weight_vector() -> np.ndarray:
    return np.array([WEIGHTS[name] for name in EVIDENCE])


def _periods(times: np.ndarray) -> np.ndarray:
    """Per beat, its length in seconds (the last beat takes the one before's)."""
    if len(times) < 2:
        return np.full(len(times), 0.5)
    gaps = np.diff(times)
    return np.concatenate([gaps, gaps[-1:]])


def _loudest_on_beat(times: np.ndarray, periods: np.ndarray, hits: Sequence[Hit]) -> np.ndarray:
    """Per beat, the velocity / 127 of the loudest of `hits` on it (0 without one)."""
    out = np.zeros(len(times))
    if not hits:
        return out
    when = np.array([h.time for h in hits])
    loud = np.array([h.velocity / 127 for h in hits])
    tolerance = np.minimum(ON_BEAT_S, ON_BEAT_BEATS * periods)
    order = np.argsort(when)
    when, loud = when[order], loud[order]
    lo = np.searchsorted(when, times - tolerance, side="left")
    hi = np.searchsorted(when, times + tolerance, side="right")
    for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        if b > a:
            out[i] = float(loud[a:b].max())
    return out


def _patterns(times: np.ndarray, periods: np.ndarray, hits: Sequence[Hit]) -> np.ndarray:
    """(beats, drums × _SLOTS): the velocity of each drum at each twelfth of each beat.

    A stroke belongs to the beat it is in, or to the next when it is within half a slot of it.
    """
    patterns = np.zeros((len(times), len(INSTRUMENTS) * _SLOTS))
    column = {name: i for i, name in enumerate(INSTRUMENTS)}
    for hit in hits:
        k = int(np.searchsorted(times, hit.time, side="right")) - 1
        if k < -1 or k >= len(times):
            continue
        start = times[k] if k >= 0 else times[0] - periods[0]
        slot = round((hit.time - start) / periods[max(k, 0)] * _SLOTS)
        if slot >= _SLOTS:
            k, slot = k + 1, 0
        if 0 <= k < len(times) and slot >= 0:
            patterns[k, column[hit.instrument] * _SLOTS + min(slot, _SLOTS - 1)] += hit.velocity / 127
    return patterns


def _change_before(patterns: np.ndarray, beats_per_bar: int) -> np.ndarray:
    """Per beat, how much the beat before it differs from that beat a bar earlier and a bar later
    (1 - mean cosine similarity of the pairs where both beats have strokes; 0 without such a pair)."""
    norms = np.linalg.norm(patterns, axis=1)
    beats = len(patterns)
    change = np.zeros(beats)
    for i in range(1, beats):
        before = i - 1
        similarities = []
        for other in (before - beats_per_bar, before + beats_per_bar):
            if 0 <= other < beats and norms[before] > 0 and norms[other] > 0:
                similarities.append(float(patterns[before] @ patterns[other]) / (norms[before] * norms[other]))
        if similarities:
            change[i] = 1.0 - float(np.mean(similarities))
    return change
