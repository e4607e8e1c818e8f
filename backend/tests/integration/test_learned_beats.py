"""The bundled beat model end to end: a rendered groove in, beats and bars out, and the notation stage
writing its grid when BEAT_TRACKER=learned."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.core.config import BUNDLED_MODEL_PATH, Settings
from app.core.errors import TranscriptionError
from app.pipeline import constants as c
from app.pipeline.beats.tracker import BUNDLED_BEAT_MODEL, load_beat_model, track_beats
from app.pipeline.hits import Hit, HitsDocument
from app.pipeline.stages import SEPARATION_META, SOURCE_META, transcribe_and_export
from app.synth.grooves import ROCK_BEAT, Groove, groove_from_pattern
from app.synth.kits import SynthKit, render_groove

pytestmark = pytest.mark.integration

BPM = 112.0
START_S = 0.6


def rock() -> Groove:
    """16 bars of a rock beat at 112 bpm on the synthesised kit (no training kit sounds like it)."""
    return groove_from_pattern(ROCK_BEAT, bpm=BPM, bars=16, start_s=START_S)


def test_a_rendered_groove_is_tracked_at_its_tempo_phase_and_bars() -> None:
    groove = rock()
    track = track_beats(render_groove(groove, SynthKit()), 44_100)
    beats = START_S + np.arange(64) * 60.0 / BPM
    near = np.min(np.abs(track.times[:, None] - beats[None, :]), axis=0) < 0.07
    assert near.mean() > 0.9, f"{near.sum()} of 64 beats found"
    assert track.metre == "4/4"
    assert track.tempo_bpm == pytest.approx(BPM, rel=0.02)
    downbeats = START_S + np.arange(16) * 4 * 60.0 / BPM
    on_bars = np.min(np.abs(track.downbeats[:, None] - downbeats[None, :]), axis=0) < 0.07
    assert on_bars.mean() > 0.75, f"{on_bars.sum()} of 16 downbeats on the kick's bar lines"


def test_the_notation_stage_writes_the_learned_grid_when_asked(tmp_path: Path) -> None:
    groove = rock()
    audio = render_groove(groove, SynthKit())
    sf.write(tmp_path / c.DRUMS_AUDIO, audio, 44_100)
    hits = [Hit(e.time, e.instrument, e.velocity, 0.9) for e in groove.events]
    HitsDocument(duration_s=len(audio) / 44_100, separator="none", model="test", hits=hits).save(tmp_path / c.HITS_JSON)
    (tmp_path / SOURCE_META).write_text(json.dumps({"title": "Rock"}))
    (tmp_path / SEPARATION_META).write_text(json.dumps({"separator": "none"}))
    document = transcribe_and_export(tmp_path, settings=Settings(BEAT_TRACKER="learned"))
    assert document.time_signature == "4/4"
    assert document.tempo_bpm == pytest.approx(BPM, rel=0.02)
    assert document.beat_times is not None
    assert abs(document.beat_times[0] - START_S) < 0.07, "bar 1 starts on the first kick"
    assert (tmp_path / c.MUSICXML).is_file() and (tmp_path / c.PDF).is_file()


def test_a_drum_model_is_not_taken_for_a_beat_model() -> None:
    assert BUNDLED_BEAT_MODEL.is_file()
    with pytest.raises(TranscriptionError, match="not a beat model"):
        load_beat_model(BUNDLED_MODEL_PATH)
