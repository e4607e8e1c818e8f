"""Sheet-level F-measure: the written notes against the played strokes, both counted in bars.

A drummer reads a sheet as bars of positions, not seconds. So each annotated stroke is placed on the
HUMAN beat grid as (bar, position in the bar, class), each note of the written MusicXML as (bar,
position in the bar, class), and the two are matched one to one, per class, after shifting the sheet's
bar numbering by the one whole number of bars (per song) that matches most. A wrong tempo, phase, bar
line or metre moves every note off its position; a stroke missed or invented by the drum model is a miss
or an extra note, as in the onset F-measure.

Both sides are written as one number, bar index + position in the bar (0 ≤ position < 1), so a stroke
played a hair before a downbeat still meets the note written on it. The tolerance is a 32nd note either
side of the written position (`POSITION_TOLERANCE_BEATS`, an eighth of a human beat): about the field's
±50-70 ms at common tempi, and half a 16th, so a note written a 16th (or more) away never matches. It does
not tell a triplet from a 16th (1/12 of a beat apart); positions are fractions of each side's own bar.
Under a "Swing" direction (until "Straight"), a written off-beat 8th of a quarter-note beat means the
beat's last triplet, and is read there, as a drummer plays it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from music21 import chord, converter, expressions, meter, note, stream

from app.core.errors import TranscriptionError
from app.evaluation.beats import BeatAnnotation
from app.evaluation.metrics import CLASSES, INSTRUMENT_CLASS, Counts, match_counts, merge_close, total
from app.pipeline.notation.kit import KIT

POSITION_TOLERANCE_BEATS = 1 / 8
"""A written note matches a stroke within a 32nd note (an eighth of a human beat) either side."""

BAR_SHIFTS = 4
"""The sheet's bar numbering may be shifted by up to this many bars either way (per song) to line up."""

DISPLAY_CLASS: dict[str, str] = {drum.display: INSTRUMENT_CLASS[name] for name, drum in KIT.items()}
"""Staff position (display step and octave) of each drum on DrumScribe's sheet → its standard class.
No two classes share a position (a unit test holds it), so the position alone names the class."""


@dataclass(frozen=True)
class SheetScore:
    """Per-class matches of the written notes, and the bar shift that lined the numbering up."""

    counts: dict[str, Counts]
    bar_shift: int
    """Add this to the sheet's bar index (0 = its first bar) to get the human bar index."""

    @property
    def f_measure(self) -> float:
        """All classes pooled."""
        return total(self.counts).f_measure


class HumanBarGrid:
    """Bar coordinates (bar index + position in the bar) of times, on a human beat annotation.

    Bar 0 starts at the first downbeat; beats before it (a pickup) belong to bar -1. A bar's length is
    its number of beats, or, for a bar the annotation cuts short, the song's usual bar length. Times
    outside the annotated span are extrapolated at the tempo of its first or last beat.
    """

    def __init__(self, annotation: BeatAnnotation) -> None:
        numbers = annotation.numbers
        bar = np.cumsum(numbers == 1) - 1
        # Bars 0 .. last-1 run from a downbeat to the next one; the pickup and the last bar may be cut short.
        complete = [int(np.sum(bar == b)) for b in range(int(bar.max()))]
        self.beats_per_bar = int(np.argmax(np.bincount(complete or [int(numbers.max())])))
        """The song's usual bar length in beats (the commonest among complete bars)."""
        length = np.array(
            [
                complete[b] if 0 <= b < len(complete) else max(self.beats_per_bar, int(n))
                for b, n in zip(bar.tolist(), numbers.tolist(), strict=True)
            ]
        )
        self.times = annotation.times
        # Numbers count up by one through each bar (read_beats holds them to it), so coordinates increase.
        self.coordinates = bar + (numbers - 1) / length

    def coordinates_of(self, times: Iterable[float]) -> np.ndarray:
        """Bar coordinate of each time."""
        t = np.asarray(list(times), dtype=float)
        x = np.interp(t, self.times, self.coordinates)
        before, after = t < self.times[0], t > self.times[-1]
        slope_start = (self.coordinates[1] - self.coordinates[0]) / (self.times[1] - self.times[0])
        slope_end = (self.coordinates[-1] - self.coordinates[-2]) / (self.times[-1] - self.times[-2])
        x[before] = self.coordinates[0] + (t[before] - self.times[0]) * slope_start
        x[after] = self.coordinates[-1] + (t[after] - self.times[-1]) * slope_end
        return x

    @property
    def tolerance(self) -> float:
        """`POSITION_TOLERANCE_BEATS` as a fraction of the usual bar."""
        return POSITION_TOLERANCE_BEATS / self.beats_per_bar


def read_sheet_notes(path: Path) -> dict[str, np.ndarray]:
    """Bar coordinates of the written notes of a MusicXML drum sheet, per class, each position once.

    The k-th measure of the first part is bar k (from 0); a note's position is its offset over the
    measure's length in its time signature. Rests and the continuations of tied notes are not strokes;
    notes on a staff position no DrumScribe drum uses are left out. Swung 8ths are read where they are
    played (`_played_offset`).
    """
    score = converter.parse(str(path), format="musicxml", forceSource=True)
    if not isinstance(score, stream.Score) or not score.parts:
        raise TranscriptionError(f"{path} holds no score with a part, so it has no notes to read")
    found: dict[str, set[float]] = {cls: set() for cls in CLASSES}
    swing = False
    for index, measure in enumerate(score.parts[0].getElementsByClass(stream.Measure)):
        length = float(measure.barDuration.quarterLength)
        for words in measure.recurse().getElementsByClass(expressions.TextExpression):
            swing = {"Swing": True, "Straight": False}.get(str(words.content).strip(), swing)
        signature = measure.timeSignature or measure.getContextByClass(meter.TimeSignature)
        swung = swing and signature is not None and signature.denominator == 4
        for element in measure.recurse().notes:
            if element.tie is not None and element.tie.type in ("stop", "continue"):
                continue
            offset = float(element.getOffsetInHierarchy(measure))
            x = round(index + _played_offset(offset, swung) / length, 9)
            members = element.notes if isinstance(element, chord.ChordBase) else (element,)
            for member in members:
                if isinstance(member, note.Unpitched) and member.displayName in DISPLAY_CLASS:
                    found[DISPLAY_CLASS[member.displayName]].add(x)
    return {cls: np.array(sorted(xs)) for cls, xs in found.items()}


def _played_offset(offset: float, swung: bool) -> float:
    """Where a note written at `offset` (quarter notes) is played: a swung off-beat 8th on the beat's
    last triplet, anything else where it is written."""
    if swung and abs(offset % 1 - 0.5) < 1e-9:
        return offset + 1 / 6
    return offset


def score_sheet(
    strokes: Mapping[str, Iterable[float]],
    grid: HumanBarGrid,
    sheet: Mapping[str, np.ndarray],
    *,
    expected_shift: int = 0,
) -> SheetScore:
    """Match the annotated `strokes` ({class: times in s}) on the human `grid` against the `sheet`'s notes.

    The bar shift tried runs over `expected_shift` ± `BAR_SHIFTS`; the one with most matches wins, the
    one nearest `expected_shift` on a tie.
    """
    reference = {cls: grid.coordinates_of(merge_close(strokes.get(cls, ()))) for cls in CLASSES}
    written = {cls: np.sort(np.asarray(sheet.get(cls, ()), dtype=float)) for cls in CLASSES}

    def counts_at(shift: int) -> dict[str, Counts]:
        return {cls: match_counts(reference[cls], written[cls] + shift, grid.tolerance) for cls in CLASSES}

    shifts = range(expected_shift - BAR_SHIFTS, expected_shift + BAR_SHIFTS + 1)
    best = max(shifts, key=lambda s: (total(counts_at(s)).tp, -abs(s - expected_shift)))
    return SheetScore(counts=counts_at(best), bar_shift=best)
