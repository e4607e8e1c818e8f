"""The accuracy metric: per-class onset F-measure, ±50 ms, micro-averaged."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest

from app.evaluation.annotations import read_midi_onsets
from app.evaluation.metrics import Counts, match_counts, merge_close, score_track, total
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


def test_reads_gm_drum_notes_in_seconds(tmp_path: Path) -> None:
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120)))
    for note, delta in [(36, 0), (38, 480), (42, 0), (56, 480), (49, 0)]:  # 56 (cowbell) is in no class
        track.append(mido.Message("note_on", channel=9, note=note, velocity=100, time=delta))
    midi.save(tmp_path / "ref.mid")
    assert read_midi_onsets(tmp_path / "ref.mid") == {"KD": [0.0], "SD": [0.5], "HH": [0.5], "CY": [1.0]}
