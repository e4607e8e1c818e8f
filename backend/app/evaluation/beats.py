"""The sheet's beat grid against human beat annotations: the beat-tracking field's measures.

Beat and downbeat F-measure (±70 ms), continuity (CMLt, AMLt) from `mir_eval.beat`, and the tempo
reading: whether the sheet counts the song as it was played, or at another metrical level or phase.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import mir_eval
import numpy as np

from app.core.errors import AnnotationError
from app.pipeline.beats.decode import BeatTrack

BEAT_WINDOW_S = 0.07
"""The field's tolerance for beats and downbeats: ±70 ms (mir_eval's default)."""

AS_PLAYED = "as played"
OTHER = "other"

READINGS: tuple[tuple[str, float, tuple[float, ...]], ...] = (
    (AS_PLAYED, 1.0, (0.0,)),
    ("off the beat", 1.0, (0.5,)),
    ("2x", 0.5, (0.0,)),
    ("1/2x", 2.0, (0.0, 1.0)),
    ("2/3x", 1.5, (0.0, 0.5, 1.0)),
    ("3/2x", 2 / 3, (0.0, 1 / 3, 2 / 3)),
)
"""Each tempo reading the sheet may make, as (name, step, phases): the grid the sheet would have in that
reading is the human beats' coordinates phase, phase + step, phase + 2·step, ... Names give the
sheet's tempo over the played one: "2x" writes a beat on every human beat and half way between, "1/2x"
on every other human beat (either one), "2/3x" counts dotted quarters (a beat every 1.5 human beats,
in any of its three phases), "3/2x" counts quarter-note triplets; "off the beat" is the right tempo
with every beat on an "and"."""

READING_MIN_F = 0.75
"""A reading is named only when its grid matches the sheet's beats with at least this F-measure, else
the sheet is "other" (a wandering grid, or one at a level no reading names). A grid at twice or half a
reading's tempo still meets every other beat of it (F = 2/3: a sheet at 4/3x, twice 2/3x, would pass
for 2/3x), so the bar sits above 2/3."""


@dataclass(frozen=True)
class BeatAnnotation:
    """Human beats of one song: times (s, increasing) and each beat's number in its bar (1 = downbeat)."""

    times: np.ndarray
    numbers: np.ndarray

    @property
    def downbeats(self) -> np.ndarray:
        """Times of the beats numbered 1."""
        return self.times[self.numbers == 1]


@dataclass(frozen=True)
class BeatScores:
    """How well the sheet's beats and bar lines match the human ones."""

    beat_f: float
    cmlt: float
    amlt: float
    downbeat_f: float
    tempo_reading: str


def read_beats(path: Path) -> BeatAnnotation:
    """Read a beats file: one beat a line, time in seconds then its number in the bar, blank-separated.

    Raises AnnotationError naming the file and line when a line is not two numbers, when times do not
    increase or beat numbers do not count up through the bar, or when there are fewer than two beats or
    no downbeat.
    """
    times: list[float] = []
    numbers: list[int] = []
    for line_number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            time, number = float(fields[0]), int(float(fields[1]))
        except (IndexError, ValueError):
            raise AnnotationError(
                f"{path}, line {line_number}: expected a time in seconds and a beat number, got {line.strip()!r}"
            ) from None
        if number < 1 or (times and time <= times[-1]):
            raise AnnotationError(
                f"{path}, line {line_number}: beat numbers start at 1 and times must increase, got {line.strip()!r}"
            )
        if numbers and number not in (1, numbers[-1] + 1):
            raise AnnotationError(
                f"{path}, line {line_number}: beat {number} follows beat {numbers[-1]}; numbers count up by one "
                "through each bar (1, 2, ... then 1 again)"
            )
        times.append(time)
        numbers.append(number)
    if len(times) < 2 or 1 not in numbers:
        raise AnnotationError(f"{path} needs at least two beats and one downbeat (a beat numbered 1)")
    return BeatAnnotation(np.asarray(times), np.asarray(numbers))


GIVEN_METRES: dict[int, str] = {3: "3/4", 4: "4/4"}
"""Time signature of a bar of given beats, by its number of beats."""


def read_beat_track(path: Path) -> BeatTrack:
    """Beats from a beats file (`read_beats`' format) as the notation stage takes a tracker's: each bar's
    metre from its number of beats, 3 → 3/4, 4 → 4/4.

    A bar's number of beats is its highest beat number: a pickup bar ends on its bar's last beat, so it
    counts too. The file may stop inside its last bar, which keeps the metre of the bar before when it
    has fewer beats. Raises AnnotationError naming the file and the bar for any other number of beats.
    """
    beats = read_beats(path)
    bar = np.cumsum(beats.numbers == 1)  # 0 for a pickup, then 1, 2, ... from each downbeat
    bars = np.unique(bar).tolist()
    lengths = [int(beats.numbers[bar == b].max()) for b in bars]
    if len(lengths) > 1 and lengths[-1] < lengths[-2]:
        lengths[-1] = lengths[-2]
    metres: list[str] = []
    for b, length in zip(bars, lengths, strict=True):
        if length not in GIVEN_METRES:
            start = float(beats.times[bar == b][0])
            raise AnnotationError(
                f"{path}: the bar from {start:.3f} s has {length} beats; given beats must come in bars of "
                "3 beats (3/4) or 4 (4/4)"
            )
        metres += [GIVEN_METRES[length]] * int(np.sum(bar == b))
    return BeatTrack(times=beats.times, positions=beats.numbers, metres=tuple(metres))


def within_annotation(times: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The estimated `times` a listener could have annotated: those within ±70 ms of the annotated span.

    The sheet writes whole bars, so its grid runs on before the first and after the last stroke, where
    people marked no beats; those beats are neither right nor wrong.
    """
    times = np.asarray(times, dtype=float)
    keep = (times >= reference[0] - BEAT_WINDOW_S) & (times <= reference[-1] + BEAT_WINDOW_S)
    return times[keep]


def score_beats(reference: BeatAnnotation, beats: np.ndarray, downbeats: np.ndarray) -> BeatScores:
    """Score the sheet's `beats` and `downbeats` (seconds) against the human annotation."""
    judged = within_annotation(beats, reference.times)
    judged_downbeats = within_annotation(downbeats, reference.times)
    with warnings.catch_warnings():  # mir_eval warns about empty or single-beat inputs, then scores them 0
        warnings.simplefilter("ignore", UserWarning)
        _, cmlt, _, amlt = mir_eval.beat.continuity(reference.times, judged)
        return BeatScores(
            beat_f=float(mir_eval.beat.f_measure(reference.times, judged, BEAT_WINDOW_S)),
            cmlt=float(cmlt),
            amlt=float(amlt),
            downbeat_f=float(mir_eval.beat.f_measure(reference.downbeats, judged_downbeats, BEAT_WINDOW_S)),
            tempo_reading=tempo_reading(reference.times, judged),
        )


def tempo_reading(reference: np.ndarray, beats: np.ndarray) -> str:
    """Name the metrical level and phase at which `beats` count the song whose human beats are `reference`.

    For each reading of `READINGS` the grid the sheet would have in it is laid out on the human beats
    (between two human beats by linear interpolation, so it follows the drummer's tempo changes), and
    the sheet's beats are scored against it with the ±70 ms F-measure; the best-matching reading wins
    (the first listed on a tie), or "other" when even it matches below `READING_MIN_F`.
    """
    reference = np.asarray(reference, dtype=float)
    beats = np.asarray(beats, dtype=float)
    best_name, best_f = OTHER, 0.0
    for name, step, phases in READINGS:
        f = max(_f_against(reading_grid(reference, step, phase), beats) for phase in phases)
        if f > best_f:
            best_name, best_f = name, f
    return best_name if best_f >= READING_MIN_F else OTHER


def reading_grid(reference: np.ndarray, step: float, phase: float) -> np.ndarray:
    """Times of beat coordinates phase, phase + step, ... on the human grid `reference` (coordinate k is
    human beat k), up to the last human beat."""
    coordinates = np.arange(phase, len(reference) - 1 + 1e-9, step)
    return np.interp(coordinates, np.arange(len(reference), dtype=float), reference)


def _f_against(grid: np.ndarray, beats: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return float(mir_eval.beat.f_measure(grid, beats, BEAT_WINDOW_S))
