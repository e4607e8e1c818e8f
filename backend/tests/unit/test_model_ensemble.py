"""Averaging trained frame models into one (app.training.ensemble)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from app.pipeline.prediction.frame import CLASSES, N_MELS, is_frame_model
from app.training.ensemble import EnsembleError, build_ensemble, fold_ensemble_thresholds, make_ensemble

if TYPE_CHECKING:
    import keras


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


@pytest.fixture(scope="module")
def members() -> list[keras.Model]:
    """A small CNN and a small CRNN, untrained, with different weights."""
    import keras

    from app.training.model import build_model

    keras.utils.set_random_seed(5)
    return [build_model(width=4, temporal=8, arch="cnn"), build_model(width=4, temporal=8, arch="crnn", gru_units=8)]


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(2, 120, N_MELS)).astype(np.float32)


def test_the_ensemble_is_the_mean_of_its_members_logits(members: list[keras.Model], frames: np.ndarray) -> None:
    ensemble = build_ensemble(members)
    assert is_frame_model(ensemble)
    expected = np.mean([logit(np.asarray(m.predict(frames, verbose=0), dtype=np.float64)) for m in members], axis=0)
    got = logit(np.asarray(ensemble.predict(frames, verbose=0), dtype=np.float64))
    assert np.max(np.abs(got - expected)) < 1e-4


def test_folded_thresholds_make_each_class_fire_at_one_half_where_it_fired_at_its_threshold(
    members: list[keras.Model], frames: np.ndarray
) -> None:
    ensemble = build_ensemble(members)
    before = np.asarray(ensemble.predict(frames, verbose=0), dtype=np.float64)
    thresholds = {c: 0.3 + 0.05 * k for k, c in enumerate(CLASSES)}
    fold_ensemble_thresholds(ensemble, thresholds)
    after = np.asarray(ensemble.predict(frames, verbose=0), dtype=np.float64)
    shift = logit(np.array([thresholds[c] for c in CLASSES]))
    assert np.max(np.abs(logit(after) - (logit(before) - shift))) < 1e-4
    # The members the ensemble was built from are left as they were.
    assert np.allclose(build_ensemble(members).predict(frames, verbose=0), before, atol=1e-6)


def test_an_ensemble_given_as_a_member_counts_as_its_members(
    members: list[keras.Model], frames: np.ndarray, tmp_path: Path
) -> None:
    import keras

    from app.training.model import build_model

    pair = tmp_path / "pair.h5"
    keras.models.save_model(build_ensemble(members), pair, include_optimizer=False)
    loaded = keras.models.load_model(pair, compile=False)
    keras.utils.set_random_seed(6)
    third = build_model(width=4, temporal=8, arch="crnn", gru_units=8)
    ensemble = build_ensemble([loaded, third])
    assert [layer.name for layer in ensemble.layers if isinstance(layer, keras.Model)] == [
        f"member_{k}_{m.name}" for k, m in enumerate([*members, third], 1)
    ]
    expected = np.mean(
        [logit(np.asarray(m.predict(frames, verbose=0), dtype=np.float64)) for m in [*members, third]], axis=0
    )
    assert np.max(np.abs(logit(np.asarray(ensemble.predict(frames, verbose=0), dtype=np.float64)) - expected)) < 1e-4
    # Folding thresholds into the new ensemble leaves the loaded one as it was.
    before = np.asarray(loaded.predict(frames, verbose=0))
    fold_ensemble_thresholds(ensemble, dict.fromkeys(CLASSES, 0.3))
    assert np.array_equal(np.asarray(loaded.predict(frames, verbose=0)), before)


def test_an_ensemble_needs_two_frame_models(members: list[keras.Model]) -> None:
    import keras

    with pytest.raises(EnsembleError, match="at least two"):
        build_ensemble(members[:1])
    inputs = keras.Input(shape=(None, 64))
    other = keras.Model(inputs, keras.layers.Dense(3, activation="sigmoid", name="onsets")(inputs))
    with pytest.raises(EnsembleError, match=r"member 2 .* not log-mel frames"):
        build_ensemble([members[0], other])


def test_make_ensemble_writes_a_checked_model_its_recipe_and_its_onnx_form(
    members: list[keras.Model], tmp_path: Path
) -> None:
    import keras

    paths = []
    for index, member in enumerate(members):
        path = tmp_path / f"member{index}.h5"
        keras.models.save_model(member, path, include_optimizer=False)
        paths.append(path)
    (tmp_path / "member0.json").write_text(json.dumps({"version": 7, "arch": "cnn"}))
    rng = np.random.default_rng(1)
    val = tmp_path / "data" / "val"
    val.mkdir(parents=True)
    np.save(val / "features.npy", rng.normal(size=(6, 200, N_MELS)).astype(np.float16))
    np.save(val / "onsets.npy", (rng.random((6, 200, len(CLASSES))) < 0.02).astype(np.uint8))

    out = tmp_path / "ensemble" / "drumscribe_frame.h5"
    metadata = make_ensemble(paths, tmp_path / "data", out)

    loaded = keras.models.load_model(out, compile=False)  # no custom objects
    assert is_frame_model(loaded)
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["arch"] == "ensemble" and recipe["val_segments"] == 6
    assert [(m["file"], m["version"], m["arch"]) for m in recipe["members"]] == [
        ("member0.h5", 7, "cnn"),
        ("member1.h5", None, None),
    ]
    assert set(recipe["thresholds_folded_into_bias"]) == set(CLASSES)
    assert out.with_suffix(".onnx").is_file() and metadata["onnx_check"]["same_hits"] is True
