"""A beat grid that is chosen rather than estimated: a revision's, from the sheet it edits and its overrides.

An edited sheet keeps the beats, bars and tempo of the sheet it was edited from, so that changing one note
changes the sheet at that note only. An override replaces a part of that grid for the whole piece: a fixed
tempo lays an even grid at that tempo from the first downbeat, a metre regroups the same beats into bars of
another length (each beat counted as the new metre counts it: a dotted quarter in 6/8 and 12/8), and a
sheet given no metre keeps its own, compound or simple. 2/2 (cut time) is the exception: it counts the same
music in halves, so two of the sheet's beats make one of its beats, and back again (the note values stay).
A first downbeat moves the bar lines (onto the nearest beat, unless the tempo is fixed too, in which case
the grid starts there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.core.errors import TranscriptionError
from app.pipeline.hits import TIME_SIGNATURES
from app.pipeline.notation.metre import counted_beats, written_per_counted


@dataclass(frozen=True)
class FixedGrid:
    """Beats (seconds, at least two), bars and tempo that `rhythm.transcribe` uses as given."""

    beat_times: tuple[float, ...]
    """The counted beats: quarters, dotted quarters in a compound `time_signature`, halves in 2/2."""
    time_signature: str
    """The metre every bar is written in ("4/4", "6/8", ...)."""
    downbeat_s: float
    """A bar starts on the beat nearest this time (and every `beats_per_bar` beats before and after it)."""
    tempo_bpm: float
    """Counted beats per minute (dotted quarters in 6/8 and 12/8, halves in 2/2)."""

    def __post_init__(self) -> None:
        if len(self.beat_times) < 2 or np.any(np.diff(self.beat_times) <= 0):
            raise TranscriptionError("A fixed beat grid needs at least two beats in increasing order.")
        numerator, _, denominator = self.time_signature.partition("/")
        writable = numerator.isdigit() and denominator in ("2", "4", "8")
        if not (writable and 1 <= counted_beats(self.time_signature) <= 12):
            raise TranscriptionError(
                f"A time signature of {self.time_signature!r} cannot be written: "
                "give 1 to 12 beats of a half, quarter or dotted quarter (e.g. 4/4, 6/8)."
            )
        if not (math.isfinite(self.tempo_bpm) and self.tempo_bpm > 0):
            raise TranscriptionError(f"A tempo of {self.tempo_bpm} bpm cannot be written.")

    @property
    def beats_per_bar(self) -> int:
        """Counted beats in a bar."""
        return counted_beats(self.time_signature)

    def covering(self, start_s: float, end_s: float) -> np.ndarray:
        """The beats, continued at the first and last beat's spacing so that a beat lies at or before
        `start_s` and two after `end_s` (quantization looks one beat ahead)."""
        beats = np.asarray(self.beat_times, dtype=float)
        first_period, last_period = beats[1] - beats[0], beats[-1] - beats[-2]
        before = max(0, math.ceil((beats[0] - start_s) / first_period) + 1)
        after = max(0, math.ceil((end_s - beats[-1]) / last_period) + 2)
        head = beats[0] - first_period * np.arange(before, 0, -1)
        tail = beats[-1] + last_period * np.arange(1, after + 1)
        return np.concatenate([head, beats, tail])


def revised_grid(
    beat_times: list[float] | None,
    downbeat_times: list[float] | None,
    time_signature: str | None,
    tempo_bpm: float | None,
    *,
    fixed_tempo_bpm: float | None = None,
    fixed_time_signature: str | None = None,
    first_downbeat_s: float | None = None,
) -> FixedGrid:
    """The grid of a revision: the edited sheet's own (`beat_times`, `downbeat_times`, `time_signature`,
    `tempo_bpm`, as its hits.json records them), with whichever overrides are given. Without a fixed metre
    the sheet's own is kept (6/8 stays 6/8: its beats are dotted quarters)."""
    if not beat_times or len(beat_times) < 2 or not downbeat_times or time_signature is None or tempo_bpm is None:
        raise TranscriptionError(
            "The sheet being edited records no beat grid (it was written by an older DrumScribe); "
            "transcribe the song again to edit it."
        )
    metre = fixed_time_signature or time_signature
    if fixed_time_signature is not None and fixed_time_signature not in TIME_SIGNATURES:
        raise TranscriptionError(f"A time signature of {fixed_time_signature} is not one of {TIME_SIGNATURES}.")
    downbeat = downbeat_times[0] if first_downbeat_s is None else first_downbeat_s
    if fixed_tempo_bpm is None:
        beats, tempo = _recounted(beat_times, tempo_bpm, time_signature, metre, downbeat)
        return FixedGrid(beats, metre, downbeat, tempo)
    period = 60.0 / fixed_tempo_bpm
    # Two beats are a whole even grid: `covering` continues it at that spacing both ways.
    return FixedGrid((downbeat, downbeat + period), metre, downbeat, fixed_tempo_bpm)


def _recounted(
    beat_times: list[float], tempo_bpm: float, old_metre: str, new_metre: str, downbeat_s: float
) -> tuple[tuple[float, ...], float]:
    """The sheet's beats and tempo as `new_metre` counts them. Only cut time recounts: out of x/2 each
    half splits into two beats, into x/2 each two beats from the downbeat's make one half."""
    old, new = written_per_counted(old_metre), written_per_counted(new_metre)
    beats = np.asarray(beat_times, dtype=float)
    if old == new:
        return tuple(beat_times), tempo_bpm
    if old > 1:
        beats = np.interp(np.arange((len(beats) - 1) * old + 1) / old, np.arange(len(beats)), beats)
    if new > 1:
        start = int(np.argmin(np.abs(beats - downbeat_s))) % new
        paired = beats[start::new]
        if len(paired) < 2:  # a sheet of a beat or two: carry on at the beats' spacing
            paired = np.array([paired[0], paired[0] + new * (beats[1] - beats[0])])
        beats = paired
    return tuple(float(t) for t in beats), tempo_bpm * old / new
