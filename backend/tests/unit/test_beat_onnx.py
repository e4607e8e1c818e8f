"""The beat model's runtime form: the bundled ONNX file computes what the Keras .h5 computes, and the
learned tracker runs without TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import TranscriptionError
from app.pipeline.beats.decode import decode
from app.pipeline.beats.tracker import (
    BUNDLED_BEAT_KERAS,
    BUNDLED_BEAT_MODEL,
    OnnxBeatNetwork,
    beat_activations,
    load_beat_model,
)
from app.synth.grooves import FUNK_SIXTEENTHS, ROCK_BEAT, Groove, groove_from_pattern
from app.synth.kits import default_sample_kit, render_groove
from app.training.beats.export import MAX_ABS_DIFF

BACKEND = Path(__file__).resolve().parents[2]


def groove_audio() -> np.ndarray:
    """20 s: rock at 104 bpm, then funk at 96, on a sampled kit."""
    rock = groove_from_pattern(ROCK_BEAT, bpm=104, bars=5, start_s=0.4)
    funk = groove_from_pattern(FUNK_SIXTEENTHS, bpm=96, bars=3, start_s=0.4 + rock.duration_s)
    groove = Groove(bpm=100, beats_per_bar=4, bars=8, events=rock.events + funk.events)
    return render_groove(groove, default_sample_kit(), sr=44_100)


def test_the_bundled_onnx_and_keras_forms_give_the_same_activations_and_beats() -> None:
    audio = groove_audio()
    onnx_network = load_beat_model(BUNDLED_BEAT_MODEL)
    assert isinstance(onnx_network, OnnxBeatNetwork)
    onnx = beat_activations(onnx_network, audio, 44_100)
    keras = beat_activations(load_beat_model(BUNDLED_BEAT_KERAS), audio, 44_100)
    assert onnx.beats.shape == keras.beats.shape and onnx.beats.shape[1] == 3
    assert np.max(np.abs(onnx.beats - keras.beats)) < MAX_ABS_DIFF
    assert np.max(np.abs(onnx.compound - keras.compound)) < MAX_ABS_DIFF
    assert (onnx.tempo is None) == (keras.tempo is None)
    if onnx.tempo is not None and keras.tempo is not None:
        assert np.max(np.abs(onnx.tempo - keras.tempo)) < MAX_ABS_DIFF
    from_onnx, from_keras = decode(*onnx), decode(*keras)
    assert len(from_onnx.times) > 20
    assert np.allclose(from_onnx.times, from_keras.times)
    assert from_onnx.positions.tolist() == from_keras.positions.tolist()


def test_the_recipe_records_the_onnx_file_it_ships() -> None:
    import hashlib

    recipe = json.loads(BUNDLED_BEAT_MODEL.with_suffix(".json").read_text())
    onnx_entry = next(r for r in recipe["runtimes"] if r["runtime"] == "onnxruntime")
    assert onnx_entry["file"] == BUNDLED_BEAT_MODEL.name
    assert onnx_entry["sha256"] == hashlib.sha256(BUNDLED_BEAT_MODEL.read_bytes()).hexdigest()
    assert recipe["onnx_check"]["max_abs_diff"] < MAX_ABS_DIFF


def test_a_file_that_is_no_onnx_model_is_refused_with_the_fix(tmp_path: Path) -> None:
    broken = tmp_path / "beats.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(TranscriptionError, match="export-onnx"):
        load_beat_model(broken)


_NO_TENSORFLOW = """
import json, sys
from pathlib import Path
import soundfile as sf
from app.core.config import Settings
from app.pipeline import constants as c
from app.pipeline.hits import Hit, HitsDocument
from app.pipeline.stages import SEPARATION_META, SOURCE_META, transcribe_and_export
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove

work = Path(sys.argv[1])
groove = groove_from_pattern(ROCK_BEAT, bpm=112, bars=8, start_s=0.5)
audio = render_groove(groove, SynthKit())
sf.write(work / c.DRUMS_AUDIO, audio, 44_100)
hits = [Hit(e.time, e.instrument, e.velocity, 0.9) for e in groove.events]
HitsDocument(duration_s=len(audio) / 44_100, separator="none", model="test", hits=hits).save(work / c.HITS_JSON)
(work / SOURCE_META).write_text(json.dumps({"title": "Rock"}))
(work / SEPARATION_META).write_text(json.dumps({"separator": "none"}))
document = transcribe_and_export(work, settings=Settings(BEAT_TRACKER="learned"))
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf2onnx"))
print(json.dumps({"tempo": document.tempo_bpm, "loaded": loaded[:5]}))
"""


def test_the_learned_notation_stage_does_not_import_tensorflow(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(BACKEND), "BEAT_TRACKER": "learned"}
    done = subprocess.run(
        [sys.executable, "-c", _NO_TENSORFLOW, str(tmp_path)],
        cwd=BACKEND,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["tempo"] == pytest.approx(112, rel=0.02)
    assert result["loaded"] == [], "the learned tracker imported TensorFlow or Keras"
