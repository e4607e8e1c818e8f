"""One frame model out of several trained ones: per frame and class, the mean of their logits.

Models of different architectures err differently (the CNN sees ±0.3 s around a frame, the CRNN's GRU a
whole window), so their mean is steadier than either. The ensemble is an ordinary drumscribe-frame
model: each member is rebuilt to end in its logits (its "onsets" layer without the sigmoid, same
weights), the logits are averaged and a sigmoid named "onsets" gives the activations. Only built-in
Keras layers, so `keras.models.load_model(path, compile=False)` reads it with no custom objects, and it
exports to ONNX through the same path as a single model (export_onnx.py).

Each member's own thresholds are already folded into its bias; the ensemble's are chosen again on the
held-out windows and folded into every member's last bias (shifting each logit by the same amount
shifts their mean by it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.pipeline.prediction.frame import CLASSES, N_MELS, is_frame_model
from app.training.export_onnx import export_beside
from app.training.train import choose_thresholds, load_split, model_record, recipe_head, threshold_logits

if TYPE_CHECKING:
    import keras

MEMBER_LOGITS = "logits"
"""The name of each member's last layer in the ensemble (the member's "onsets" layer without the sigmoid)."""


class EnsembleError(ValueError):
    """The models given cannot be averaged into one drumscribe-frame model."""


def _member_logits(model: keras.Model, index: int, name: str) -> keras.Model:
    """`model` ending in its logits: its "onsets" Dense layer again, with the same weights and no sigmoid."""
    import keras
    from keras import layers

    try:
        onsets = model.get_layer("onsets")
    except ValueError as exc:
        raise EnsembleError(f"member {index + 1} ({model.name}) has no 'onsets' layer to average") from exc
    linear = layers.Dense(len(CLASSES), name=MEMBER_LOGITS)
    member = keras.Model(model.input, linear(onsets.input), name=name)
    linear.set_weights(onsets.get_weights())
    return member


def _logit_members(model: keras.Model, index: int, first: int) -> list[keras.Model]:
    """The members `model` adds to an ensemble, numbered from `first`, each ending in its logits: an
    ensemble's own members (copies, so averaging an ensemble with a new model weighs every member
    equally and leaves `model` as it was), or the model itself."""
    import keras

    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if not nested or any(member.layers[-1].name != MEMBER_LOGITS for member in nested):
        return [_member_logits(model, index, f"member_{first}_{model.name}")]
    copies = []
    for number, member in enumerate(nested, first):
        copy = keras.models.clone_model(member)
        copy.set_weights(member.get_weights())
        name = f"member_{number}_{re.sub(r'^member_[0-9]+_', '', member.name)}"
        copies.append(keras.Model(copy.input, copy.output, name=name))
    return copies


def build_ensemble(models: Sequence[keras.Model]) -> keras.Model:
    """A drumscribe-frame model whose logits are the mean of `models`' logits (two or more frame models).

    A model that is itself an ensemble counts as its members, so every member has the same weight.
    """
    import keras
    from keras import layers

    if len(models) < 2:
        raise EnsembleError(f"an ensemble needs at least two models, got {len(models)}")
    for index, model in enumerate(models):
        if not is_frame_model(model):
            raise EnsembleError(
                f"member {index + 1} ({model.name}) maps {model.input_shape} to {model.output_shape}, "
                f"not log-mel frames (None, None, {N_MELS}) to {len(CLASSES)} classes"
            )
    frames = keras.Input(shape=(None, N_MELS), name="log_mel")
    members: list[keras.Model] = []
    for index, model in enumerate(models):
        members += _logit_members(model, index, first=len(members) + 1)
    logits = [member(frames) for member in members]
    onsets = layers.Activation("sigmoid", name="onsets")(layers.Average()(logits))
    return keras.Model(frames, onsets, name="drumscribe_frame_ensemble")


def fold_ensemble_thresholds(ensemble: keras.Model, thresholds: dict[str, float]) -> None:
    """Shift every member's logits so each class fires at 0.5 exactly where it fired at its threshold."""
    import keras

    shift = threshold_logits(thresholds)
    for layer in ensemble.layers:
        if isinstance(layer, keras.Model):
            last = layer.get_layer(MEMBER_LOGITS)
            kernel, bias = last.get_weights()
            last.set_weights([kernel, bias - shift])


def make_ensemble(member_paths: Sequence[Path], data_dir: Path, out_path: Path) -> dict[str, Any]:
    """Average the .h5 models at `member_paths`, choose its thresholds on data_dir's held-out windows,
    and write it as `out_path` (.h5), its recipe (.json) and its checked ONNX form beside it."""
    import keras
    import tensorflow as tf

    models = [keras.models.load_model(path, compile=False) for path in member_paths]
    ensemble = build_ensemble(models)
    val_x, val_y = load_split(data_dir, "val")
    activations = np.asarray(ensemble.predict(tf.cast(val_x, tf.float32), batch_size=32, verbose=0))
    thresholds, counts = choose_thresholds(activations, val_y)
    fold_ensemble_thresholds(ensemble, thresholds)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    keras.models.save_model(ensemble, out_path, include_optimizer=False)
    loaded = keras.models.load_model(out_path, compile=False)
    metadata: dict[str, Any] = {
        **recipe_head(thresholds, counts),
        "arch": "ensemble",
        "members": [model_record(path) for path in member_paths],
        "parameters": int(ensemble.count_params()),
        "val_segments": len(val_x),
        "val_data": str(data_dir),
    }
    out_path.with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n")
    metadata.update(export_beside(out_path, loaded))
    return metadata
