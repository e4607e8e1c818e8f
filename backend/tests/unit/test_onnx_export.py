"""The bundled model's two forms (Keras .h5, ONNX) and the export that turns one into the other."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from app.core.config import BUNDLED_KERAS_MODEL_PATH, BUNDLED_MODEL_PATH
from app.pipeline.prediction import frame
from app.pipeline.prediction.factory import build_onnx_predictor, build_predictor
from app.pipeline.prediction.frame import CLASSES, MODEL_SR, N_MELS, frame_activations, keras_network
from app.synth.grooves import CRASH_AND_RIDE, FUNK_SIXTEENTHS, Groove, groove_from_pattern
from app.synth.kits import default_sample_kit, render_groove
from app.training.export_onnx import (
    MAX_ABS_DIFF,
    ExportMismatchError,
    check_groove_audio,
    compare_forms,
    convert,
    export_beside,
)

if TYPE_CHECKING:
    import keras
    import onnxruntime

    from app.pipeline.hits import Hit


def onnx_session(path: Path) -> onnxruntime.InferenceSession:
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def hit_keys(hits: list[Hit]) -> list[tuple[float, str, int]]:
    return [(h.time, h.instrument, h.velocity) for h in hits]


def test_bundled_onnx_and_keras_forms_give_the_same_hits_on_a_rendered_groove() -> None:
    import keras

    # 40 s, so the predictor's 30-s chunking runs too; funk with ghost notes and open hats, then cymbals.
    funk = groove_from_pattern(FUNK_SIXTEENTHS, bpm=96, bars=10, start_s=0.5)
    cymbals = groove_from_pattern(CRASH_AND_RIDE, bpm=96, bars=6, start_s=0.5 + funk.duration_s)
    groove = Groove(bpm=96, beats_per_bar=4, bars=16, events=funk.events + cymbals.events)
    audio = render_groove(groove, default_sample_kit(), sr=MODEL_SR)

    from_keras = build_predictor(keras.models.load_model(BUNDLED_KERAS_MODEL_PATH, compile=False))
    from_onnx = build_onnx_predictor(onnx_session(BUNDLED_MODEL_PATH))
    keras_hits, onnx_hits = from_keras.predict(audio, MODEL_SR), from_onnx.predict(audio, MODEL_SR)
    assert len(keras_hits) > 0.8 * len(groove.events)
    assert hit_keys(onnx_hits) == hit_keys(keras_hits)
    confidences = np.array([[a.confidence, b.confidence] for a, b in zip(keras_hits, onnx_hits, strict=True)])
    assert np.max(np.abs(confidences[:, 0] - confidences[:, 1])) < MAX_ABS_DIFF


def test_the_recipe_names_both_shipped_files_with_their_hashes() -> None:
    recipe = json.loads(BUNDLED_KERAS_MODEL_PATH.with_suffix(".json").read_text())
    runtimes = {entry["file"]: entry for entry in recipe["runtimes"]}
    assert set(runtimes) == {BUNDLED_MODEL_PATH.name, BUNDLED_KERAS_MODEL_PATH.name}
    for path in (BUNDLED_MODEL_PATH, BUNDLED_KERAS_MODEL_PATH):
        assert runtimes[path.name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), (
            f"{path.name} changed without its recipe: run `python -m app.training export-onnx`"
        )
    assert runtimes[BUNDLED_MODEL_PATH.name]["runtime"] == "onnxruntime"
    assert runtimes[BUNDLED_MODEL_PATH.name]["default"] is True
    assert recipe["onnx_check"]["same_hits"] is True
    assert BUNDLED_MODEL_PATH.stat().st_size < 4_000_000


@pytest.fixture(scope="module", params=["cnn", "crnn"])
def firing_tiny_model(request: pytest.FixtureRequest) -> keras.Model:
    """An untrained small model of each architecture (the shipped CNN, the CRNN with its bidirectional GRU)
    whose bias makes each class fire on the loudest 5 % of the check groove's frames, so that its hits are
    many and depend on exact values."""
    import keras

    from app.training.model import build_model
    from app.training.train import fold_thresholds

    keras.utils.set_random_seed(3)
    model = build_model(width=4, temporal=8, arch=request.param, gru_units=8)
    activations = frame_activations(keras_network(model), check_groove_audio())
    # Above whatever fires in the groove's leading half second of silence: there a GRU's state settles
    # slowly, frames differ by 1e-7, and which of them is the peak would be a coin toss between runtimes.
    silence = activations[: int(0.4 * frame.FPS)].max(axis=0)
    thresholds = {
        c: max(float(np.quantile(activations[:, k], 0.95)), float(silence[k]) + 1e-3) for k, c in enumerate(CLASSES)
    }
    fold_thresholds(model, thresholds)
    return model


def test_export_writes_an_onnx_file_that_agrees_and_names_its_axes(
    firing_tiny_model: keras.Model, tmp_path: Path
) -> None:
    import keras

    h5 = tmp_path / "tiny.h5"
    firing_tiny_model.save(h5)
    # The .h5 reads back with no custom objects, as ModelResolver loads it, and computes the same.
    x = np.random.default_rng(0).standard_normal((1, 50, N_MELS)).astype(np.float32)
    loaded = keras.models.load_model(h5, compile=False)
    np.testing.assert_allclose(loaded(x, training=False), firing_tiny_model(x, training=False), atol=1e-6)
    (tmp_path / "tiny.json").write_text(json.dumps({"kind": frame.KIND, "version": 9}))

    entries = export_beside(h5, firing_tiny_model)

    check = entries["onnx_check"]
    assert check["same_hits"] and check["keras_hits"] == check["onnx_hits"] > 20
    assert check["max_abs_diff"] < MAX_ABS_DIFF
    session = onnx_session(tmp_path / "tiny.onnx")
    (arg_in,), (arg_out,) = session.get_inputs(), session.get_outputs()
    assert (arg_in.name, arg_in.shape) == ("log_mel", ["batch", "frames", N_MELS])
    assert (arg_out.name, arg_out.shape) == ("onsets", ["batch", "frames", len(CLASSES)])
    assert session.get_modelmeta().custom_metadata_map["kind"] == frame.KIND
    recipe = json.loads((tmp_path / "tiny.json").read_text())
    assert recipe["version"] == 9 and recipe["runtimes"][0]["file"] == "tiny.onnx"
    assert recipe["runtimes"][0]["sha256"] == hashlib.sha256((tmp_path / "tiny.onnx").read_bytes()).hexdigest()


def test_the_check_catches_an_onnx_file_of_other_weights(firing_tiny_model: keras.Model, tmp_path: Path) -> None:
    from app.training.model import build_model

    other = tmp_path / "other.onnx"
    arch = "crnn" if firing_tiny_model.name.endswith("crnn") else "cnn"
    convert(build_model(width=4, temporal=8, arch=arch, gru_units=8), other)
    agreement = compare_forms(firing_tiny_model, other, check_groove_audio())
    assert agreement.max_abs_diff > MAX_ABS_DIFF and not agreement.same_hits


def test_only_frame_models_are_exported(tmp_path: Path) -> None:
    import keras

    inputs = keras.Input((None, 64))
    model = keras.Model(inputs, keras.layers.Dense(9, activation="sigmoid")(inputs))
    with pytest.raises(ExportMismatchError, match=r"only drumscribe-frame models"):
        convert(model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
