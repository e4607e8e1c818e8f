"""Fine-tuning: a run starts from an exported model's weights (a tiny CNN on a tiny random dataset; no export)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.pipeline.prediction.frame import CLASSES, FPS, KIND, N_MELS
from app.training import train as train_module
from app.training.__main__ import learning_rate
from app.training.model import build_model
from app.training.train import (
    FINETUNE_LEARNING_RATE,
    LEARNING_RATE,
    InitModelMismatchError,
    TrainConfig,
    load_initial_weights,
)
from tests.unit.test_training_resume import tiny_split


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tiny_split(tmp_path / "train", 8, 0)
    tiny_split(tmp_path / "val", 4, 1)
    monkeypatch.setattr(train_module, "export_beside", lambda path, model=None: {})
    return tmp_path


def config(data_dir: Path, out: str, init_from: Path | None = None, width: int = 4) -> TrainConfig:
    return TrainConfig(
        data_dir,
        data_dir / "out" / out,
        epochs=1,
        batch_size=4,
        width=width,
        temporal=8,
        init_from=init_from,
        learning_rate=FINETUNE_LEARNING_RATE if init_from else LEARNING_RATE,
    )


def save_tiny_model(folder: Path) -> Path:
    """A tiny exported CNN (.h5 and its .json recipe) whose weights no fresh build has: scaled and shifted."""
    import keras

    model = build_model(width=4, temporal=8)
    rng = np.random.default_rng(0)
    # Shifted up, so BatchNorm's variances stay positive and its zero means and biases move too.
    model.set_weights(
        [w * rng.uniform(0.9, 1.1, w.shape) + rng.uniform(0.0, 0.05, w.shape) for w in model.get_weights()]
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "first.h5"
    keras.models.save_model(model, path, include_optimizer=False)
    recipe = {"kind": KIND, "classes": list(CLASSES), "n_mels": N_MELS, "fps": FPS, "arch": "cnn", "version": 7}
    path.with_suffix(".json").write_text(json.dumps({**recipe, "config": {"width": 4, "temporal": 8}}))
    return path


@pytest.fixture
def trained(tmp_path: Path) -> Path:
    return save_tiny_model(tmp_path / "model")


def test_a_run_starts_from_the_weights_of_the_given_model(
    data_dir: Path, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras

    before_training: list[list[np.ndarray]] = []
    original = train_module._fresh_or_resumed

    def spy(config: TrainConfig, steps: int) -> tuple[Any, Any]:
        model, progress = original(config, steps)
        before_training.append([np.array(w) for w in model.get_weights()])
        return model, progress

    monkeypatch.setattr(train_module, "_fresh_or_resumed", spy)
    metadata = train_module.train(config(data_dir, "tuned.h5", init_from=trained))

    saved = keras.models.load_model(trained, compile=False).get_weights()
    assert len(before_training[0]) == len(saved)
    for start, weight in zip(before_training[0], saved, strict=True):
        np.testing.assert_array_equal(start, weight)
    assert metadata["init_from"]["file"] == "first.h5" and len(metadata["init_from"]["sha256"]) == 64
    assert metadata["init_from"]["version"] == 7
    assert metadata["config"]["learning_rate"] == FINETUNE_LEARNING_RATE
    tuned = keras.models.load_model(data_dir / "out" / "tuned.h5", compile=False).get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(tuned, saved, strict=True))  # and then it trained


def test_another_architecture_is_refused_with_the_setting_named(tmp_path: Path, trained: Path) -> None:
    wide = config(tmp_path, "wide.h5", init_from=trained, width=8)
    with pytest.raises(InitModelMismatchError, match="width=4 but this run is configured for 8"):
        load_initial_weights(build_model(width=8, temporal=8), wide)
    crnn = TrainConfig(tmp_path, tmp_path / "c.h5", width=4, temporal=8, arch="crnn", init_from=trained)
    with pytest.raises(InitModelMismatchError, match="arch='cnn' but this run is configured for 'crnn'"):
        load_initial_weights(build_model(width=4, temporal=8, arch="crnn"), crnn)


def test_changed_layers_are_refused_even_when_the_recipe_agrees(tmp_path: Path, trained: Path) -> None:
    recipe = trained.with_suffix(".json")
    metadata = json.loads(recipe.read_text())
    metadata["config"]["width"] = 8
    recipe.write_text(json.dumps(metadata))
    wide = config(tmp_path, "wide.h5", init_from=trained, width=8)
    with pytest.raises(InitModelMismatchError, match="its layers differ from the configured cnn model at layer 2"):
        load_initial_weights(build_model(width=8, temporal=8), wide)


def test_a_model_without_its_recipe_is_refused(tmp_path: Path, trained: Path) -> None:
    trained.with_suffix(".json").unlink()
    with pytest.raises(FileNotFoundError, match=r"no recipe first\.json beside it"):
        load_initial_weights(build_model(width=4, temporal=8), config(tmp_path, "t.h5", init_from=trained))


def test_fine_tuning_defaults_to_the_lower_learning_rate() -> None:
    assert learning_rate(None, None) == LEARNING_RATE
    assert learning_rate(None, Path("v3.h5")) == FINETUNE_LEARNING_RATE < LEARNING_RATE
    assert learning_rate(5e-4, Path("v3.h5")) == 5e-4
