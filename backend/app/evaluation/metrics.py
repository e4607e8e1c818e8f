"""Onset F-measure per drum class, with mir_eval's matching, micro-averaged over tracks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import mir_eval
import numpy as np

CLASSES: tuple[str, ...] = ("KD", "SD", "TT", "HH", "CY")
"""The five standard classes: kick, snare, toms, hi-hat, cymbals."""

INSTRUMENT_CLASS: dict[str, str] = {
    "kick": "KD",
    "snare": "SD",
    "tom_high": "TT",
    "tom_mid": "TT",
    "tom_low": "TT",
    "hihat_closed": "HH",
    "hihat_open": "HH",
    "ride": "CY",
    "crash": "CY",
}

FINE_CLASSES: tuple[str, ...] = ("CHH", "OHH", "RD", "CRC")
"""Finer classes inside HH and CY, scored beside the five: closed (and pedal) hi-hat, open hi-hat, ride, crash."""

FINE_INSTRUMENT_CLASS: dict[str, str] = {
    "hihat_closed": "CHH",
    "hihat_open": "OHH",
    "ride": "RD",
    "crash": "CRC",
}
"""DrumScribe's instruments that have a finer class; the others (kick, snare, toms) have none."""

WINDOW_S = 0.05
"""The field's tolerance: an estimate within ±50 ms of a reference onset is a hit."""

MERGE_S = 0.02
"""Two estimates of one class closer than this are one stroke (e.g. two tom classes folded into TT)."""


@dataclass
class Counts:
    """True positives, false positives and false negatives of one class."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        """Accumulate another track's counts (micro-averaging)."""
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        """TP / (TP + FP); 0 when nothing was estimated."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN); 0 when there is no reference."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f_measure(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def merge_close(times: Iterable[float], min_gap_s: float = MERGE_S) -> np.ndarray:
    """Sorted onset times with any onset closer than `min_gap_s` to the previous kept one dropped."""
    kept: list[float] = []
    for t in sorted(times):
        if not kept or t - kept[-1] >= min_gap_s:
            kept.append(t)
    return np.asarray(kept, dtype=float)


def match_counts(reference: np.ndarray, estimated: np.ndarray, window_s: float = WINDOW_S) -> Counts:
    """Count matches one-to-one within ±window_s (mir_eval's bipartite matching)."""
    if len(reference) == 0 or len(estimated) == 0:
        return Counts(tp=0, fp=len(estimated), fn=len(reference))
    matched = len(mir_eval.util.match_events(np.sort(reference), np.sort(estimated), window_s))
    return Counts(tp=matched, fp=len(estimated) - matched, fn=len(reference) - matched)


def score_track(
    reference: Mapping[str, Iterable[float]],
    estimated: Mapping[str, Iterable[float]],
    classes: Sequence[str] = CLASSES,
) -> dict[str, Counts]:
    """Per-class counts of one track for `classes`; both sides are {class: onset times in seconds}."""
    return {
        cls: match_counts(merge_close(reference.get(cls, ())), merge_close(estimated.get(cls, ()))) for cls in classes
    }


def total(counts: Mapping[str, Counts]) -> Counts:
    """All classes pooled: the overall F-measure."""
    pooled = Counts()
    for value in counts.values():
        pooled.add(value)
    return pooled
