"""Sheet-level F-measure: written notes as (bar, position, class) against strokes on the human beat grid."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from music21 import meter, note, stream, tie

from app.evaluation.beats import BeatAnnotation
from app.evaluation.metrics import INSTRUMENT_CLASS, Counts
from app.evaluation.sheet import DISPLAY_CLASS, HumanBarGrid, read_sheet_notes, score_sheet
from app.pipeline.notation import Bar, QuantizedHit, Transcription, build_score, write_musicxml
from app.pipeline.notation.kit import KIT

BEAT_S = 0.5
COUNT_IN_BARS = 2
"""The human annotation has two bars of count-in before the drums: the sheet starts at human bar 2."""

F = Fraction
BARS: list[list[tuple[Fraction, str]]] = [
    [(F(0), "kick"), (F(2), "kick"), (F(1), "snare"), (F(3), "snare"), *((F(i, 2), "hihat_closed") for i in range(8))],
    [(F(0), "kick"), (F(0), "crash"), (F(1), "snare"), (F(4, 3), "snare"), (F(5, 3), "snare"), (F(2), "tom_high"),
     (F(7, 2), "tom_low"), (F(3), "ride")],
]  # fmt: skip
"""A rock bar, then a crash, a triplet on the snare, toms and the ride: offsets in quarter notes."""


def sheet(tmp_path: Path) -> Path:
    """BARS written by the project's own engraver, as the notation stage writes them."""
    bars = []
    for number, strokes in enumerate(BARS, start=1):
        start = (COUNT_IN_BARS + number - 1) * 4 * BEAT_S
        hits = tuple(QuantizedHit(offset, name, 100, start + float(offset) * BEAT_S) for offset, name in strokes)
        subdivisions = (4, 3, 4, 4) if number == 2 else (4, 4, 4, 4)
        bars.append(Bar(number=number, start_s=start, subdivisions=subdivisions, hits=tuple(sorted(hits, key=str))))
    beats = tuple(bars[0].start_s + BEAT_S * np.arange(8))
    transcription = Transcription(tempo_bpm=120.0, time_signature="4/4", beat_times=beats, bars=tuple(bars))
    path = tmp_path / "sheet_music.musicxml"
    write_musicxml(build_score(transcription, "Constructed"), path)
    return path


def human_grid() -> HumanBarGrid:
    """Beats of the count-in and the two played bars, and the downbeat after them."""
    count = (COUNT_IN_BARS + len(BARS)) * 4 + 1
    return HumanBarGrid(BeatAnnotation(BEAT_S * np.arange(count), np.resize([1, 2, 3, 4], count)))


def played(jitter_s: float = 0.015) -> dict[str, list[float]]:
    """The strokes of BARS as played (each up to `jitter_s` early or late), by class."""
    rng = np.random.default_rng(0)
    strokes: dict[str, list[float]] = {}
    for index, bar in enumerate(BARS):
        start = (COUNT_IN_BARS + index) * 4 * BEAT_S
        for offset, name in bar:
            time = start + float(offset) * BEAT_S + rng.uniform(-jitter_s, jitter_s)
            strokes.setdefault(INSTRUMENT_CLASS[name], []).append(time)
    return strokes


def test_every_staff_position_names_one_class() -> None:
    for name, drum in KIT.items():
        assert DISPLAY_CLASS[drum.display] == INSTRUMENT_CLASS[name]


def test_reads_the_written_notes_as_bar_and_position(tmp_path: Path) -> None:
    notes = read_sheet_notes(sheet(tmp_path))
    assert notes["KD"].tolist() == [0.0, 0.5, 1.0]
    assert notes["SD"].tolist() == pytest.approx([0.25, 0.75, 1.25, 1 + 1 / 3, 1 + 5 / 12])
    assert notes["TT"].tolist() == [1.5, 1.875]
    assert notes["CY"].tolist() == [1.0, 1.75]  # crash and ride fold into one class
    assert len(notes["HH"]) == 8


def test_the_bar_alignment_undoes_a_count_in_and_every_stroke_matches(tmp_path: Path) -> None:
    score = score_sheet(played(), human_grid(), read_sheet_notes(sheet(tmp_path)))
    assert score.bar_shift == COUNT_IN_BARS
    assert score.f_measure == 1.0


def test_a_stroke_played_just_before_the_bar_line_meets_the_downbeat(tmp_path: Path) -> None:
    strokes = played(jitter_s=0.0)
    downbeat = (COUNT_IN_BARS + 1) * 4 * BEAT_S
    strokes["KD"] = [t - 0.03 if t == downbeat else t for t in strokes["KD"]]
    score = score_sheet(strokes, human_grid(), read_sheet_notes(sheet(tmp_path)))
    assert score.counts["KD"] == Counts(tp=3)


def test_misses_extras_and_notes_a_16th_away_are_counted(tmp_path: Path) -> None:
    strokes = played()
    strokes["HH"] = strokes["HH"][1:]  # the sheet has a hi-hat nobody played
    strokes["SD"].append(COUNT_IN_BARS * 4 * BEAT_S + 3.25 * BEAT_S)  # a snare the sheet lacks
    strokes["TT"] = [t + BEAT_S / 4 for t in strokes["TT"]]  # toms played a 16th after where they are written
    score = score_sheet(strokes, human_grid(), read_sheet_notes(sheet(tmp_path)))
    assert score.counts["HH"] == Counts(tp=7, fp=1)
    assert score.counts["SD"] == Counts(tp=5, fn=1)
    assert score.counts["TT"] == Counts(fp=2, fn=2)


def test_the_shift_is_searched_around_the_expected_one(tmp_path: Path) -> None:
    count = 40 * 4 + 1
    late = HumanBarGrid(BeatAnnotation(BEAT_S * np.arange(count), np.resize([1, 2, 3, 4], count)))
    strokes = {cls: [t + 30 * 4 * BEAT_S for t in times] for cls, times in played().items()}  # drums enter late
    notes = read_sheet_notes(sheet(tmp_path))
    assert score_sheet(strokes, late, notes).f_measure == 0.0
    found = score_sheet(strokes, late, notes, expected_shift=31)
    assert (found.bar_shift, found.f_measure) == (30 + COUNT_IN_BARS, 1.0)


def test_tied_notes_and_rests_are_not_strokes(tmp_path: Path) -> None:
    part = stream.Part()
    first, second = stream.Measure(number=1), stream.Measure(number=2)
    first.append(meter.TimeSignature("3/4"))
    held = note.Unpitched(displayName="C5", quarterLength=2)
    held.tie = tie.Tie("start")
    first.append([note.Rest(quarterLength=1), held])
    rest_of_it = note.Unpitched(displayName="C5", quarterLength=1)
    rest_of_it.tie = tie.Tie("stop")
    second.append([rest_of_it, note.Unpitched(displayName="F4", quarterLength=2)])
    part.append([first, second])
    score = stream.Score([part])
    path = tmp_path / "tied.musicxml"
    score.write("musicxml", fp=path)
    notes = read_sheet_notes(path)
    assert notes["SD"].tolist() == pytest.approx([1 / 3])
    assert notes["KD"].tolist() == pytest.approx([1 + 1 / 3])


def test_a_pickup_and_a_short_last_bar_keep_the_usual_bar_length() -> None:
    numbers = [3, 4, 1, 2, 3, 4, 1, 2]
    grid = HumanBarGrid(BeatAnnotation(np.arange(8.0), np.array(numbers)))
    assert grid.beats_per_bar == 4
    assert grid.coordinates.tolist() == [-0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25]
    assert grid.coordinates_of([2.5, 8.0, -1.0]).tolist() == [0.125, 1.5, -0.75]
