"""Training runs resume from their last epoch (a tiny CRNN on a tiny random dataset; no export)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.pipeline.prediction.frame import CLASSES, N_MELS
from app.training import train as train_module
from app.training.model import build_model
from app.training.train import TrainConfig, checkpoint_dir


def tiny_split(folder: Path, segments: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    onsets = (rng.random((segments, 40, len(CLASSES))) < 0.05).astype(np.uint8)
    features = rng.standard_normal((segments, 40, N_MELS)).astype(np.float16)
    features[..., :10] += 2 * onsets[..., :1]
    folder.mkdir(parents=True)
    np.save(folder / "features.npy", features)
    np.save(folder / "onsets.npy", onsets)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tiny_split(tmp_path / "train", 8, 0)
    tiny_split(tmp_path / "val", 4, 1)
    exported: list[Path] = []

    def no_export(path: Path, model: Any = None) -> dict[str, Any]:
        exported.append(path)
        return {}

    monkeypatch.setattr(train_module, "export_beside", no_export)
    return tmp_path


def config(data_dir: Path, epochs: int, resume: bool) -> TrainConfig:
    return TrainConfig(
        data_dir,
        data_dir / "out" / "m.h5",
        epochs=epochs,
        batch_size=4,
        width=4,
        temporal=8,
        arch="crnn",
        gru_units=4,
        resume=resume,
    )


def test_a_run_resumes_after_its_last_epoch_with_its_optimizer_state(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import keras

    first = train_module.train(config(data_dir, 1, resume=False))
    assert first["epochs_run"] == 1 and first["arch"] == "crnn"
    folder = checkpoint_dir(config(data_dir, 1, False))
    state = json.loads((folder / "state.json").read_text())
    assert state["epochs_done"] == 1 and len(state["val_losses"]) == 1
    saved = keras.models.load_model(folder / "last.keras", custom_objects={"weighted_bce": train_module.weighted_bce})
    steps_after_one = int(saved.optimizer.iterations.numpy())
    assert steps_after_one == 2  # 8 segments in batches of 4

    capsys.readouterr()
    second = train_module.train(config(data_dir, 3, resume=True))
    printed = capsys.readouterr().out
    assert "resuming crnn after epoch 1" in printed and "epoch 2:" in printed and "epoch 1:" not in printed
    assert second["epochs_run"] == 3
    state = json.loads((folder / "state.json").read_text())
    assert state["epochs_done"] == 3 and len(state["val_losses"]) == 3
    resumed = keras.models.load_model(folder / "last.keras", custom_objects={"weighted_bce": train_module.weighted_bce})
    assert int(resumed.optimizer.iterations.numpy()) == 3 * steps_after_one  # counted on, not from zero
    assert keras.models.load_model(data_dir / "out" / "m.h5", compile=False).count_params() == saved.count_params()


def test_an_unknown_architecture_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model architecture 'rnn'"):
        build_model(arch="rnn")
