"""The frame-level predictor: features, peak picking, chunking, model kind, and the bundled model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from app.pipeline.prediction import frame
from app.pipeline.prediction.factory import build_predictor, detect_model_kind
from app.pipeline.prediction.frame import (
    CLASSES,
    FPS,
    HOP,
    MODEL_SR,
    N_MELS,
    FramePredictor,
    activations_to_hits,
    frame_activations,
    is_frame_model,
    log_mel,
    n_frames,
    pick_peaks,
)
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove

if TYPE_CHECKING:
    import keras

BUNDLED = Path(frame.__file__).resolve().parents[1] / "models" / "bundled" / "drumscribe_frame.h5"


@pytest.fixture(scope="module")
def tiny_model() -> keras.Model:
    """An untrained model of the shipped architecture, small enough to build in a second."""
    from app.training.model import build_model

    return build_model(width=4, temporal=8)


def test_log_mel_has_one_frame_per_hop_and_is_scaled() -> None:
    audio = np.random.default_rng(0).standard_normal(MODEL_SR).astype(np.float32) * 0.1
    features = log_mel(audio)
    assert features.shape == (n_frames(len(audio)), N_MELS) == (1 + MODEL_SR // HOP, N_MELS)
    assert features.dtype == np.float32
    assert features.min() >= -1.0 and features.max() <= 1.0
    assert FPS == 100.0


def test_pick_peaks_keeps_local_maxima_above_threshold_and_spaced() -> None:
    act = np.zeros(50)
    act[[5, 6, 20, 21, 40]] = [0.7, 0.9, 0.6, 0.6, 0.4]
    assert pick_peaks(act, 0.5).tolist() == [6, 20]  # 5 is beside a larger peak; the 20/21 plateau is one hit
    assert pick_peaks(act, 0.3).tolist() == [6, 20, 40]
    assert pick_peaks(np.zeros(0)).size == 0


def test_activations_become_hits_with_times_classes_and_velocities() -> None:
    act = np.zeros((200, len(CLASSES)), dtype=np.float32)
    act[50, CLASSES.index("kick")] = 0.9
    act[100, CLASSES.index("crash")] = 0.8
    audio = np.zeros(n_frames(0) + 200 * HOP, dtype=np.float32)
    audio[50 * HOP] = 0.9
    audio[100 * HOP] = 0.09
    hits = activations_to_hits(act, audio)
    assert [(h.instrument, round(h.time, 3)) for h in hits] == [("kick", 0.5), ("crash", 1.0)]
    assert hits[0].velocity == 127 and hits[1].velocity < hits[0].velocity
    assert hits[0].confidence == pytest.approx(0.9)


def test_the_shipped_architecture_is_recognised_as_the_frame_kind(tiny_model: keras.Model) -> None:
    assert is_frame_model(tiny_model)
    assert detect_model_kind(tiny_model).name == frame.KIND
    assert isinstance(build_predictor(tiny_model, frame.KIND), FramePredictor)


def test_chunked_activations_equal_whole_song_activations(
    tiny_model: keras.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=2), SynthKit())
    whole = np.asarray(tiny_model(log_mel(audio)[np.newaxis], training=False))[0]
    monkeypatch.setattr(frame, "CHUNK_FRAMES", 150)
    chunked = frame_activations(tiny_model, audio)
    assert chunked.shape == whole.shape
    np.testing.assert_allclose(chunked, whole, atol=1e-4)


def test_predictor_handles_silence_and_other_rates(tiny_model: keras.Model) -> None:
    predictor = FramePredictor(tiny_model)
    assert predictor.predict(np.zeros(22_050, dtype=np.float32), 22_050) == []
    seen: list[float] = []
    noise = np.random.default_rng(1).standard_normal(22_050).astype(np.float32) * 0.1
    predictor.predict(noise, 22_050, progress=seen.append)
    assert seen[-1] == 1.0


@pytest.mark.skipif(not BUNDLED.is_file(), reason=f"no bundled model at {BUNDLED}")
def test_bundled_model_loads_as_resolver_does_and_finds_a_rock_beat() -> None:
    import keras

    model = keras.models.load_model(BUNDLED, compile=False)
    predictor = build_predictor(model)
    assert predictor.name == frame.KIND
    groove = groove_from_pattern(ROCK_BEAT, bpm=100, bars=4, start_s=0.5)
    hits = predictor.predict(render_groove(groove, SynthKit()), MODEL_SR)
    for instrument in ("kick", "snare"):
        expected = np.array([e.time for e in groove.events if e.instrument == instrument])
        found = np.array([h.time for h in hits if h.instrument == instrument])
        close = sum(bool(found.size) and np.min(np.abs(found - t)) <= 0.05 for t in expected)
        assert close >= 0.75 * len(expected), f"{instrument}: {close} of {len(expected)} found"


def test_default_settings_use_the_bundled_onnx_model_and_accept_its_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.config import BUNDLED_KERAS_MODEL_PATH, BUNDLED_MODEL_PATH, Settings

    monkeypatch.delenv("MODEL_URI", raising=False)
    onnx_model = BUNDLED.with_suffix(".onnx")
    assert onnx_model.as_uri() == Settings().MODEL_URI
    assert (onnx_model, BUNDLED) == (BUNDLED_MODEL_PATH, BUNDLED_KERAS_MODEL_PATH)
    assert onnx_model.is_file() and BUNDLED.is_file(), "the bundled model must ship with the package in both forms"
    assert Settings(MODEL_KIND="drumscribe-frame").MODEL_KIND == frame.KIND
