"""hits.json: the document every later stage and the API read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.pipeline.hits import Hit, HitsDocument


def test_round_trip_keeps_the_documented_shape(tmp_path: Path) -> None:
    doc = HitsDocument(
        duration_s=212.4,
        separator="none",
        separator_reason="demucs weights unavailable offline",
        model="annoteator-cnn",
        hits=[Hit(time=0.512, instrument="snare", velocity=96, confidence=0.91)],
        tempo_bpm=120.0,
        time_signature="4/4",
        beat_times=[0.25, 0.75],
        downbeat_times=[0.25],
        title="Back Beat",
        artist="The Tests",
    )
    doc.save(tmp_path / "hits.json")
    data = json.loads((tmp_path / "hits.json").read_text())
    assert list(data) == ["title", "artist", "tempo_bpm", "time_signature", "duration_s", "separator",
                          "separator_reason", "model", "hits", "beat_times", "downbeat_times"]  # fmt: skip
    assert data["separator_reason"] == "demucs weights unavailable offline"
    assert data["hits"] == [{"time": 0.512, "instrument": "snare", "velocity": 96, "confidence": 0.91}]
    assert HitsDocument.load(tmp_path / "hits.json") == doc


def test_a_document_from_before_the_bar_times_still_loads() -> None:
    older = {"tempo_bpm": 120.0, "time_signature": "4/4", "duration_s": 2.0, "separator": "none",
             "model": "m", "hits": [], "beat_times": [0.5, 1.0]}  # fmt: skip
    doc = HitsDocument.from_dict(older)
    assert doc.beat_times == [0.5, 1.0] and doc.downbeat_times is None
    assert doc.separator_reason is None
    assert doc.title is None and doc.artist is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"instrument": "cowbell"}, "unknown instrument"),
        ({"velocity": 0}, "outside 1–127"),
        ({"velocity": 128}, "outside 1–127"),
        ({"confidence": 1.5}, "outside 0–1"),
    ],
)
def test_invalid_hits_are_refused(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"time": 0.0, "instrument": "kick", "velocity": 100, "confidence": 0.5, **kwargs}
    with pytest.raises(ValueError, match=message):
        Hit(**values)  # type: ignore[arg-type]
