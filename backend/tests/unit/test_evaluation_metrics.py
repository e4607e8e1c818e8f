"""The accuracy metric: per-class onset F-measure, ±50 ms, micro-averaged."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest

from app.evaluation.annotations import GM_CLASS, GM_FINE_CLASS, read_midi_onsets
from app.evaluation.metrics import (
    FINE_CLASSES,
    FINE_INSTRUMENT_CLASS,
    INSTRUMENT_CLASS,
    Counts,
    match_counts,
    merge_close,
    score_track,
    total,
)
from app.evaluation.runner import hits_by_class
from app.pipeline.hits import Hit


def test_matching_window_is_50_ms() -> None:
    ref = np.array([1.0, 2.0, 3.0])
    est = np.array([1.049, 2.051, 3.0, 4.0])
    assert match_counts(ref, est) == Counts(tp=2, fp=2, fn=1)


def test_one_estimate_matches_one_reference() -> None:
    assert match_counts(np.array([1.0, 1.03]), np.array([1.01])) == Counts(tp=1, fp=0, fn=1)


def test_f_measure_and_micro_average() -> None:
    counts = {"KD": Counts(tp=8, fp=2, fn=2), "SD": Counts(tp=0, fp=0, fn=10)}
    assert counts["KD"].f_measure == pytest.approx(0.8)
    assert counts["SD"].f_measure == 0.0
    pooled = total(counts)
    assert (pooled.tp, pooled.fp, pooled.fn) == (8, 2, 12)
    assert pooled.f_measure == pytest.approx(2 * 0.8 * 0.4 / 1.2)


def test_duplicates_within_20_ms_count_once() -> None:
    assert merge_close([1.0, 1.01, 1.5, 1.0]).tolist() == [1.0, 1.5]


def test_instruments_fold_into_the_five_classes() -> None:
    hits = [Hit(0.0, "tom_high", 90, 0.9), Hit(0.5, "tom_low", 90, 0.9), Hit(1.0, "ride", 90, 0.9),
            Hit(1.0, "hihat_open", 90, 0.9)]  # fmt: skip
    assert hits_by_class(hits) == {"TT": [0.0, 0.5], "CY": [1.0], "HH": [1.0]}
    scored = score_track({"TT": [0.0, 0.5], "HH": [1.02]}, hits_by_class(hits))
    assert scored["TT"] == Counts(tp=2) and scored["HH"] == Counts(tp=1) and scored["CY"] == Counts(fp=1)


def write_midi(path: Path, notes: list[tuple[int, int]]) -> Path:
    """A GM drum file at 120 bpm: (note, ticks after the previous note), 480 ticks a beat (0.5 s)."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120)))
    for note, delta in notes:
        track.append(mido.Message("note_on", channel=9, note=note, velocity=100, time=delta))
    midi.save(path)
    return path


def test_reads_gm_drum_notes_in_seconds(tmp_path: Path) -> None:
    ref = write_midi(tmp_path / "ref.mid", [(36, 0), (38, 480), (42, 0), (56, 480), (49, 0)])  # 56: cowbell, no class
    assert read_midi_onsets(ref) == {"KD": [0.0], "SD": [0.5], "HH": [0.5], "CY": [1.0]}


def test_reads_the_finer_classes_of_the_issue(tmp_path: Path) -> None:
    # One beat (0.5 s) apart: 46 open; 42, 44 closed and pedal; 51, 53, 59 ride; 49, 52, 55, 57 crash; 36 kick.
    notes = [46, 42, 44, 51, 53, 59, 49, 52, 55, 57, 36]
    ref = write_midi(tmp_path / "ref.mid", [(n, 480 if i else 0) for i, n in enumerate(notes)])
    assert read_midi_onsets(ref, GM_FINE_CLASS) == {
        "OHH": [0.0],
        "CHH": [0.5, 1.0],
        "RD": [1.5, 2.0, 2.5],
        "CRC": [3.0, 3.5, 4.0, 4.5],
    }


def test_finer_classes_split_hi_hat_and_cymbals_exactly() -> None:
    # Every GM note of HH and CY has one finer class inside its own standard class, and nothing else has one.
    fine_parent = {"CHH": "HH", "OHH": "HH", "RD": "CY", "CRC": "CY"}
    assert set(GM_FINE_CLASS) == {note for note, cls in GM_CLASS.items() if cls in ("HH", "CY")}
    assert all(fine_parent[fine] == GM_CLASS[note] for note, fine in GM_FINE_CLASS.items())
    assert set(FINE_INSTRUMENT_CLASS) == {name for name, cls in INSTRUMENT_CLASS.items() if cls in ("HH", "CY")}
    assert all(fine_parent[fine] == INSTRUMENT_CLASS[name] for name, fine in FINE_INSTRUMENT_CLASS.items())
    assert set(FINE_CLASSES) == set(fine_parent)


def test_an_open_hi_hat_written_closed_is_right_in_hh_and_wrong_in_the_finer_classes() -> None:
    hits = [Hit(0.0, "hihat_closed", 90, 0.9), Hit(0.5, "hihat_closed", 90, 0.9), Hit(1.0, "ride", 90, 0.9),
            Hit(1.5, "crash", 90, 0.9), Hit(1.5, "kick", 90, 0.9)]  # fmt: skip
    reference = {"CHH": [0.0], "OHH": [0.51], "RD": [1.0], "CRC": [1.5, 2.0]}
    estimated = hits_by_class(hits, FINE_INSTRUMENT_CLASS)
    assert estimated == {"CHH": [0.0, 0.5], "RD": [1.0], "CRC": [1.5]}  # the kick has no finer class
    scored = score_track(reference, estimated, FINE_CLASSES)
    assert list(scored) == list(FINE_CLASSES)
    assert scored["CHH"] == Counts(tp=1, fp=1) and scored["OHH"] == Counts(fn=1)
    assert scored["RD"] == Counts(tp=1) and scored["CRC"] == Counts(tp=1, fn=1)
    assert (scored["CHH"].precision, scored["CHH"].recall, scored["OHH"].recall) == (0.5, 1.0, 0.0)
    # The five classes fold both hi-hats together, where the same strokes all match.
    assert score_track({"HH": [0.0, 0.51]}, hits_by_class(hits))["HH"] == Counts(tp=2)
