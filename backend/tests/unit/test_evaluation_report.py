"""The evaluation report: the onset table as before, and the sheet section where songs have human beats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import TranscriptionError
from app.evaluation.beats import BeatAnnotation, BeatScores
from app.evaluation.metrics import CLASSES, FINE_CLASSES, Counts
from app.evaluation.runner import EvaluationReport, SheetTrack, format_report, score_written_sheet
from app.evaluation.sheet import SheetScore
from app.pipeline.hits import HitsDocument


def track(beat_f: float, reading: str, tp: int, fp: int, fn: int) -> SheetTrack:
    counts = {cls: Counts() for cls in CLASSES}
    counts["KD"] = Counts(tp=tp, fp=fp, fn=fn)
    return SheetTrack(
        beats=BeatScores(beat_f=beat_f, cmlt=beat_f, amlt=1.0, downbeat_f=0.5, tempo_reading=reading),
        sheet=SheetScore(counts=counts, bar_shift=0),
        tempo_bpm=120.0,
        time_signature="4/4",
    )


def report(**sheet: SheetTrack) -> EvaluationReport:
    per_class = {cls: Counts(tp=9, fn=1) for cls in CLASSES}
    return EvaluationReport(separator="none", model="m", per_class=per_class, per_track={"a": 0.9}, sheet=sheet)


def test_without_human_beats_the_report_is_the_onset_report() -> None:
    plain = report()
    assert plain.to_dict()["sheet"] is None
    assert "sheet" not in format_report(plain)
    assert format_report(plain).splitlines()[-1] == "per track F: a 0.900"


def test_beat_figures_are_song_means_and_the_sheet_f_pools_notes() -> None:
    full = report(a=track(1.0, "as played", tp=9, fp=1, fn=0), b=track(0.5, "2/3x", tp=1, fp=0, fn=9))
    overall = json.loads(json.dumps(full.to_dict()))["sheet"]["overall"]
    assert overall["beat_f"] == 0.75 and overall["songs"] == 2 and overall["as_played"] == 1
    assert overall["tempo_readings"] == {"as played": 1, "2/3x": 1}
    assert overall["sheet_f"] == pytest.approx(2 * 10 / (2 * 10 + 1 + 9))  # 10 matched, 1 extra, 9 missed
    assert full.to_dict()["sheet"]["tracks"]["b"]["tempo_reading"] == "2/3x"
    table = format_report(full).splitlines()
    assert table[-1].startswith("all") and "1 of 2 as played" in table[-1]
    assert any(line.startswith("b ") and "2/3x" in line for line in table)


def test_a_sheet_is_scored_only_after_the_notation_stage(tmp_path: Path) -> None:
    predicted = HitsDocument(duration_s=4.0, separator="none", model="m")  # hits.json before stage 4
    human = BeatAnnotation(np.arange(8.0), np.resize([1, 2, 3, 4], 8))
    with pytest.raises(TranscriptionError, match="the notation stage"):
        score_written_sheet(predicted, tmp_path / "sheet_music.musicxml", human, {})


def test_finer_classes_sit_beside_the_five_in_the_table_and_the_json() -> None:
    finer = {cls: Counts() for cls in FINE_CLASSES}
    finer["OHH"] = Counts(tp=3, fp=1, fn=6)
    with_finer = report()
    with_finer.finer = finer
    data = json.loads(json.dumps(with_finer.to_dict()))
    assert list(data["finer_classes"]) == ["CHH", "OHH", "RD", "CRC"]
    assert data["finer_classes"]["OHH"] == {"precision": 0.75, "recall": 1 / 3, "f_measure": pytest.approx(6 / 13),
                                            "tp": 3, "fp": 1, "fn": 6}  # fmt: skip
    # The overall figure stays the five classes': the finer ones would count hi-hats and cymbals twice.
    assert data["overall_f_measure"] == report().to_dict()["overall_f_measure"]
    table = format_report(with_finer).splitlines()
    at = table.index(next(line for line in table if line.startswith("finer classes")))
    assert table[at - 1].startswith("all")
    assert [line.split()[0] for line in table[at + 1 : at + 5]] == ["CHH", "OHH", "RD", "CRC"]
    assert table[at + 2].split()[1:] == ["0.750", "0.333", "0.462", "3", "1", "6"]
    assert table[-1] == "per track F: a 0.900"
