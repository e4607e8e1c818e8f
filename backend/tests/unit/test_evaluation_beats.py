"""The sheet's beats against human beats: F-measure, continuity, downbeats and the tempo reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.errors import AnnotationError
from app.evaluation.beats import (
    AS_PLAYED,
    OTHER,
    BeatAnnotation,
    read_beat_track,
    read_beats,
    score_beats,
    tempo_reading,
)

PERIOD = 0.5
"""120 bpm."""


def human_beats(count: int = 32, seed: int = 0) -> BeatAnnotation:
    """A 4/4 song annotated by a person: 120 bpm, each beat marked within ±10 ms."""
    rng = np.random.default_rng(seed)
    times = 1.0 + PERIOD * np.arange(count) + rng.uniform(-0.01, 0.01, count)
    return BeatAnnotation(times, np.tile([1, 2, 3, 4], count // 4))


def test_reads_time_and_beat_number_with_tabs_or_spaces(tmp_path: Path) -> None:
    path = tmp_path / "song.beats"
    path.write_text("0.01000 \t 1\n0.58000 \t 2\n\n1.13\t3.0\n")
    beats = read_beats(path)
    assert beats.times.tolist() == [0.01, 0.58, 1.13]
    assert beats.numbers.tolist() == [1, 2, 3]
    assert beats.downbeats.tolist() == [0.01]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.5 1\n0.9\n", "line 2: expected a time in seconds and a beat number"),
        ("0.5 1\n0.4 2\n", "line 2: beat numbers start at 1 and times must increase"),
        ("0.5 1\n0.9 2\n1.3 4\n", "line 3: beat 4 follows beat 2; numbers count up by one"),
        ("0.5 2\n0.9 3\n", "at least two beats and one downbeat"),
    ],
)
def test_a_malformed_beats_file_is_refused_by_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "song.beats"
    path.write_text(text)
    with pytest.raises(AnnotationError, match=message):
        read_beats(path)


def test_the_played_grid_scores_one_everywhere() -> None:
    human = human_beats()
    scores = score_beats(human, human.times + 0.02, human.downbeats + 0.02)
    assert (scores.beat_f, scores.cmlt, scores.amlt, scores.downbeat_f) == (1.0, 1.0, 1.0, 1.0)
    assert scores.tempo_reading == AS_PLAYED


def test_whole_bars_beyond_the_annotated_beats_are_not_judged() -> None:
    # The sheet completes its first and last bars: a bar before the first annotated beat, one after.
    human = human_beats()
    sheet = human.times[0] + PERIOD * np.arange(-4, len(human.times) + 4)
    scores = score_beats(human, sheet, sheet[::4])
    assert (scores.beat_f, scores.downbeat_f) == (1.0, 1.0)


def test_bar_lines_on_beat_three_keep_the_beats_but_lose_the_downbeats() -> None:
    human = human_beats()
    scores = score_beats(human, human.times, human.times[2::4])
    assert scores.beat_f == 1.0
    assert scores.downbeat_f == 0.0


def test_double_speed_keeps_amlt_but_not_cmlt() -> None:
    human = human_beats()
    doubled = np.sort(np.concatenate([human.times, human.times[:-1] + PERIOD / 2]))
    scores = score_beats(human, doubled, doubled[::8])
    assert scores.beat_f == pytest.approx(2 / 3, abs=0.01)
    assert scores.cmlt == 0.0 and scores.amlt > 0.9
    assert scores.tempo_reading == "2x"


def steady(start: float, period: float, end: float) -> np.ndarray:
    return np.arange(start, end + 1e-9, period)


@pytest.mark.parametrize(
    ("name", "sheet"),
    [
        # Each sheet is built directly from a tempo and a first beat, not from the human grid.
        (AS_PLAYED, lambda: steady(1.0, PERIOD, 16.5)),
        ("off the beat", lambda: steady(1.25, PERIOD, 16.5)),  # every beat on an "and"
        ("2x", lambda: steady(1.0, PERIOD / 2, 16.5)),
        ("1/2x", lambda: steady(1.5, 2 * PERIOD, 16.5)),  # on beats 2 and 4
        ("2/3x", lambda: steady(1.0, 1.5 * PERIOD, 16.5)),  # dotted quarters: straight 8ths read as triplets
        ("2/3x", lambda: steady(1.25, 1.5 * PERIOD, 16.5)),  # the same, starting on an "and"
        ("3/2x", lambda: steady(1.0, PERIOD * 2 / 3, 16.5)),  # quarter-note triplets
        (OTHER, lambda: steady(1.125, PERIOD, 16.5)),  # a 16th off the beat
        (OTHER, lambda: steady(1.0, PERIOD / 1.34, 16.5)),  # 1.34x: no reading explains it
        (OTHER, lambda: steady(1.0, PERIOD * 3 / 4, 16.5)),  # 4/3x: twice 2/3x, meets every other of its beats
    ],
    ids=["played", "off-beat", "double", "half", "dotted", "dotted-and", "triplet", "16th-off", "1.34x", "4/3x"],
)
def test_each_tempo_reading_is_named(name: str, sheet: object) -> None:
    assert callable(sheet)
    assert tempo_reading(human_beats().times, sheet()) == name


def test_the_reading_follows_a_drummer_who_speeds_up() -> None:
    # 100 → 130 bpm over 64 beats; the sheet counts it in 8ths, every one on the human grid's halves.
    periods = 60.0 / np.linspace(100, 130, 63)
    human = np.concatenate([[0.5], 0.5 + np.cumsum(periods)])
    halves = np.sort(np.concatenate([human, (human[:-1] + human[1:]) / 2]))
    assert tempo_reading(human, halves) == "2x"
    assert tempo_reading(human, human) == AS_PLAYED
    assert tempo_reading(human, 0.5 + np.arange(64) * float(np.mean(periods))) != AS_PLAYED, "a steady grid drifts"


def write_beats(tmp_path: Path, numbers: list[int], period: float = PERIOD) -> Path:
    path = tmp_path / "given.beats"
    path.write_text("".join(f"{1.0 + k * period:.3f}\t{n}\n" for k, n in enumerate(numbers)))
    return path


@pytest.mark.parametrize(
    ("numbers", "metres"),
    [
        ([1, 2, 3, 4] * 3, ["4/4"] * 12),
        ([1, 2, 3] * 4, ["3/4"] * 12),
        # A pickup ends on its bar's last beat, and the file may stop inside its last bar.
        ([3, 4, 1, 2, 3, 4, 1], ["4/4"] * 7),
        ([2, 3, 1, 2, 3, 1, 2], ["3/4"] * 7),
        # The metre may change at a bar line.
        ([1, 2, 3, 4, 1, 2, 3, 1, 2, 3, 4], ["4/4"] * 4 + ["3/4"] * 3 + ["4/4"] * 4),
    ],
)
def test_given_beats_take_each_bars_metre_from_its_beats(tmp_path: Path, numbers: list[int], metres: list[str]) -> None:
    track = read_beat_track(write_beats(tmp_path, numbers))
    assert list(track.metres) == metres
    assert track.positions.tolist() == numbers
    assert track.times.tolist() == pytest.approx(1.0 + PERIOD * np.arange(len(numbers)))
    assert track.downbeats.tolist() == pytest.approx(track.times[np.asarray(numbers) == 1])


@pytest.mark.parametrize(
    ("numbers", "bar"),
    [
        ([1, 2] * 4, "the bar from 1.000 s has 2 beats"),  # 6/8 counted in dotted quarters
        ([1, 2, 3, 4, 1, 2, 3, 4, 5, 1, 2, 3, 4], "the bar from 3.000 s has 5 beats"),
        ([1, 2, 3, 4, 5, 6] * 2, "the bar from 1.000 s has 6 beats"),
    ],
)
def test_given_beats_in_other_bars_are_refused_naming_file_and_bar(
    tmp_path: Path, numbers: list[int], bar: str
) -> None:
    path = write_beats(tmp_path, numbers)
    with pytest.raises(AnnotationError, match=rf"{path}: {bar}; given beats must come in bars of 3 beats \(3/4\)"):
        read_beat_track(path)


def test_given_beats_are_held_to_the_beats_file_format(tmp_path: Path) -> None:
    path = tmp_path / "given.beats"
    path.write_text("0.5 1\n0.9 3\n")
    with pytest.raises(AnnotationError, match="line 2: beat 3 follows beat 1"):
        read_beat_track(path)
