"""The notation prior of the quantizer: the simplest grid per beat, swing per passage, and metres
written as such (app.pipeline.notation.rhythm and score)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from app.evaluation.sheet import read_sheet_notes
from app.pipeline.beats.decode import BeatTrack
from app.pipeline.hits import Hit
from app.pipeline.notation import Transcription, build_score, transcribe, write_musicxml
from app.synth.grooves import FUNK_SIXTEENTHS, ROCK_BEAT, Pattern, groove_from_pattern

PUNK: Pattern = {
    "kick": [(0.0, 115), (2.0, 115)],
    "snare": [(1.0, 110), (3.0, 110)],
    "hihat_closed": [(i * 0.5, 95) for i in range(8)],
}
"""Straight 8ths on the hi-hat: the issue's Punk song, at 150 bpm."""

SHUFFLE: Pattern = {
    "kick": [(0.0, 110), (2.0, 110)],
    "snare": [(1.0, 105), (3.0, 105)],
    "ride": [(b + t, 90) for b in range(4) for t in (0.0, 2 / 3)],
}
"""Swung 8ths: each beat's "and" on its last triplet."""

TRIPLET_FILL: Pattern = {"kick": [(0.0, 110)], "snare": [(b + t, 100) for b in range(4) for t in (0, 1 / 3, 2 / 3)]}
SEXTUPLET_FILL: Pattern = {"kick": [(0.0, 110)], "snare": [(i / 6, 100) for i in range(24)]}
THIRTY_SECONDS: Pattern = {"kick": [(0.0, 110)], "snare": [(i / 8, 100) for i in range(8)]}
"""A beat of 32nds, then nothing."""

SIX_EIGHT: Pattern = {
    "kick": [(0.0, 110)],
    "snare": [(1.0, 105)],
    "hihat_closed": [(b + e / 3, 85) for b in range(2) for e in range(3)],
}
"""6/8 counted in dotted quarters (positions in dotted quarters): the hi-hat on every 8th."""

WALTZ: Pattern = {
    "kick": [(0.0, 110)],
    "snare": [(1.0, 90), (2.0, 90)],
    "hihat_closed": [(b + t, 80) for b in range(3) for t in (0.0, 0.5)],
}


def hits_of(*grooves: tuple[Pattern, int], bpm: float, jitter_s: float = 0.0, seed: int = 0) -> list[Hit]:
    """Bars of each (pattern, bars) in turn from 0.5 s, in 4/4 at `bpm`, each stroke moved by up to
    ±`jitter_s` (a seeded human timing error)."""
    rng = np.random.default_rng(seed)
    bar_s, start, hits = 4 * 60.0 / bpm, 0.5, []
    for pattern, bars in grooves:
        for e in groove_from_pattern(pattern, bpm=bpm, bars=bars, start_s=start).events:
            hits.append(Hit(e.time + float(rng.uniform(-jitter_s, jitter_s)), e.instrument, e.velocity, 0.9))
        start += bars * bar_s
    return hits


def even_track(bpm: float, beats: int, metres: list[str], beats_per_bar: list[int]) -> BeatTrack:
    """A tracked grid from 0.5 s: per beat, its bar position and metre, bars of the given lengths."""
    positions = [p for n in beats_per_bar for p in range(1, n + 1)][:beats]
    names = [m for m, n in zip(metres, beats_per_bar, strict=True) for _ in range(n)][:beats]
    return BeatTrack(0.5 + 60.0 / bpm * np.arange(beats), np.asarray(positions), tuple(names))


def four_four(bpm: float, bars: int) -> BeatTrack:
    return even_track(bpm, 4 * bars, ["4/4"] * bars, [4] * bars)


def musicxml(transcription: Transcription, tmp_path: Path) -> ET.Element:
    path = tmp_path / "sheet_music.musicxml"
    write_musicxml(build_score(transcription, "Prior"), path)
    return ET.parse(path).getroot()


def grids(transcription: Transcription) -> set[int]:
    return {n for bar in transcription.bars for n in bar.subdivisions}


@pytest.mark.parametrize("given", [True, False], ids=["tracked", "classic"])
def test_straight_eighths_at_150_bpm_are_eighths_not_triplets(given: bool) -> None:
    hits = hits_of((PUNK, 8), bpm=150.0)
    result = transcribe(hits, duration_s=14.0, beats=four_four(150.0, 9) if given else None)
    assert result.tempo_bpm == 150.0
    assert grids(result) == {2}
    assert not any(bar.swing for bar in result.bars)
    assert {h.offset for h in result.bars[1].hits if h.instrument == "hihat_closed"} == {
        Fraction(i, 2) for i in range(8)
    }


@pytest.mark.parametrize("bpm", [80.0, 120.0, 150.0, 190.0])
@pytest.mark.parametrize("seed", [1, 2])
def test_humanised_eighths_within_10_ms_stay_straight(bpm: float, seed: int) -> None:
    hits = hits_of((PUNK, 8), bpm=bpm, jitter_s=0.010, seed=seed)
    result = transcribe(hits, duration_s=0.5 + 32 * 60 / bpm + 1, beats=four_four(bpm, 9))
    assert grids(result) == {2}
    assert not any(bar.swing for bar in result.bars)


def test_sixteenths_are_sixteenths() -> None:
    hits = hits_of((FUNK_SIXTEENTHS, 4), bpm=96.0, jitter_s=0.008, seed=3)
    result = transcribe(hits, duration_s=11.0, beats=four_four(96.0, 5))
    assert {n for bar in result.bars[:4] for n in bar.subdivisions} == {4}
    assert {h.offset for h in result.bars[1].hits if h.instrument == "hihat_closed"} == {
        Fraction(i, 4) for i in range(16)
    } - {Fraction(14, 4)}


def test_a_triplet_fill_inside_straight_bars_is_the_only_triplets() -> None:
    hits = hits_of((ROCK_BEAT, 3), (TRIPLET_FILL, 1), (ROCK_BEAT, 2), bpm=110.0, jitter_s=0.008, seed=4)
    result = transcribe(hits, duration_s=14.0, beats=four_four(110.0, 7))
    assert [bar.subdivisions for bar in result.bars[:6]] == [(2, 2, 2, 2)] * 3 + [(3, 3, 3, 3)] + [(2, 2, 2, 2)] * 2
    assert [h.offset for h in result.bars[3].hits if h.instrument == "snare"] == [Fraction(i, 3) for i in range(12)]
    assert not any(bar.swing for bar in result.bars)


def test_sextuplets_and_32nds_where_they_were_played() -> None:
    hits = hits_of((ROCK_BEAT, 2), (SEXTUPLET_FILL, 1), (THIRTY_SECONDS, 1), bpm=80.0)
    result = transcribe(hits, duration_s=13.0, beats=four_four(80.0, 5))
    assert [bar.subdivisions for bar in result.bars[:4]] == [(2, 2, 2, 2)] * 2 + [(6, 6, 6, 6), (8, 2, 2, 2)]
    assert [h.offset for h in result.bars[3].hits if h.instrument == "snare"] == [Fraction(i, 8) for i in range(8)]


def test_a_stroke_beyond_the_tolerance_is_not_forced_onto_a_straight_grid() -> None:
    # A beat of 8th-note triplets played 12 ms early or late (within the tolerance of the triplet, not
    # of any 16th) at 150 bpm: the 16th grid is 1/12 of a beat (33 ms) away.
    hits = hits_of((PUNK, 2), bpm=150.0)
    beat_s = 0.4
    bar3 = 0.5 + 8 * beat_s
    hits += [Hit(bar3 + t * beat_s + d, "snare", 100, 0.9) for t, d in ((0, 0), (1 / 3, 0.012), (2 / 3, -0.012))]
    result = transcribe(hits, duration_s=6.0, beats=four_four(150.0, 4))
    assert result.bars[2].subdivisions[0] == 3


def test_a_shuffle_is_straight_eighths_under_a_swing_marking(tmp_path: Path) -> None:
    hits = hits_of((SHUFFLE, 8), bpm=120.0, jitter_s=0.008, seed=6)
    result = transcribe(hits, duration_s=17.0, beats=four_four(120.0, 9))
    assert grids(result) == {2}
    assert all(bar.swing for bar in result.bars)
    assert {h.offset % 1 for bar in result.bars for h in bar.hits if h.instrument == "ride"} == {0, Fraction(1, 2)}
    root = musicxml(result, tmp_path)
    assert root.find(".//time-modification") is None, "no triplets anywhere"
    directions = [d for d in root.iter("direction") if d.findtext("direction-type/words") is not None]
    assert [d.findtext("direction-type/words") for d in directions] == ["Swing"]
    swing = directions[0].find("sound/swing")
    assert swing is not None
    assert (swing.findtext("first"), swing.findtext("second"), swing.findtext("swing-type")) == ("2", "1", "eighth")


def test_a_straight_groove_has_no_swing_marking(tmp_path: Path) -> None:
    result = transcribe(hits_of((ROCK_BEAT, 8), bpm=120.0, jitter_s=0.008), duration_s=17.0)
    assert not any(bar.swing for bar in result.bars)
    root = musicxml(result, tmp_path)
    assert root.find(".//direction-type/words") is None
    assert root.find(".//sound/swing") is None


def test_swing_is_judged_per_passage_and_ends_with_straight(tmp_path: Path) -> None:
    hits = hits_of((SHUFFLE, 8), (ROCK_BEAT, 8), bpm=120.0)
    result = transcribe(hits, duration_s=33.0, beats=four_four(120.0, 17))
    assert [bar.swing for bar in result.bars[:16]] == [True] * 8 + [False] * 8
    words = [w.text for w in musicxml(result, tmp_path).iter("words")]
    assert words == ["Swing", "Straight"]


def test_six_eight_is_written_in_six_eight_with_eighths_beamed_in_threes(tmp_path: Path) -> None:
    groove = groove_from_pattern(SIX_EIGHT, bpm=70.0, bars=6, beats_per_bar=2, start_s=0.5)
    hits = [Hit(e.time, e.instrument, e.velocity, 0.9) for e in groove.events]
    result = transcribe(hits, duration_s=12.0, beats=even_track(70.0, 14, ["6/8"] * 7, [2] * 7))
    assert result.time_signature == "6/8"
    assert all(bar.time_signature == "6/8" and bar.subdivisions == (3, 3) for bar in result.bars[:6])
    root = musicxml(result, tmp_path)
    times = [(t.findtext("beats"), t.findtext("beat-type")) for t in root.iter("time")]
    assert times == [("6", "8")]
    metronome = root.find(".//metronome")
    assert metronome is not None
    assert (metronome.findtext("beat-unit"), metronome.find("beat-unit-dot") is not None) == ("quarter", True)
    measure = root.find("part/measure[@number='2']")
    assert measure is not None
    hats = [n for n in measure.iter("note") if n.findtext("voice") == "1" and n.find("chord") is None]
    assert [n.findtext("type") for n in hats] == ["eighth"] * 6
    assert [n.findtext("beam[@number='1']") for n in hats] == ["begin", "continue", "end"] * 2
    assert all(n.find("time-modification") is None for n in measure.iter("note"))


def test_a_change_from_three_four_to_four_four_is_a_new_time_signature(tmp_path: Path) -> None:
    bpm, beat_s = 120.0, 0.5
    waltz = groove_from_pattern(WALTZ, bpm=bpm, bars=4, beats_per_bar=3, start_s=0.5)
    rock = groove_from_pattern(ROCK_BEAT, bpm=bpm, bars=4, start_s=0.5 + 12 * beat_s)
    hits = [Hit(e.time, e.instrument, e.velocity, 0.9) for e in waltz.events + rock.events]
    track = even_track(bpm, 30, ["3/4"] * 4 + ["4/4"] * 5, [3] * 4 + [4] * 5)
    result = transcribe(hits, duration_s=15.0, beats=track)
    assert [bar.time_signature for bar in result.bars[:8]] == ["3/4"] * 4 + ["4/4"] * 4
    assert result.bars[4].start_s == pytest.approx(0.5 + 12 * beat_s)
    assert [(h.offset, h.instrument) for h in result.bars[4].hits if h.instrument != "hihat_closed"] == [
        (Fraction(0), "kick"),
        (Fraction(1), "snare"),
        (Fraction(2), "kick"),
        (Fraction(5, 2), "kick"),
        (Fraction(3), "snare"),
    ]
    root = musicxml(result, tmp_path)
    changes = [
        (m.get("number"), t.findtext("beats"), t.findtext("beat-type"))
        for m in root.iter("measure")
        for t in m.iter("time")
    ]
    assert changes == [("1", "3", "4"), ("5", "4", "4")]


def test_the_sheet_evaluation_reads_swung_eighths_where_they_are_played(tmp_path: Path) -> None:
    hits = hits_of((SHUFFLE, 8), (ROCK_BEAT, 8), bpm=120.0)
    result = transcribe(hits, duration_s=33.0, beats=four_four(120.0, 17))
    path = tmp_path / "sheet_music.musicxml"
    write_musicxml(build_score(result, "Swing"), path)
    notes = read_sheet_notes(path)
    ride = notes["CY"]
    assert len(ride) == 64
    assert {round((x % 1) * 4 % 1, 6) for x in ride} == {0.0, round(2 / 3, 6)}
    hihat = notes["HH"]
    assert {round((x % 1) * 4 % 1, 6) for x in hihat} == {0.0, 0.5}, "straight again after the swing"
