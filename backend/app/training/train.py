"""Training loop (resumable from its last epoch), threshold choice on held-out synthetic songs, and export of
the shipped model.

`TrainConfig(init_from=PATH.h5)` (`--init-from`) starts from an exported model's weights instead of random
ones (fine-tuning), after checking that its recipe and layers match the configured architecture.

Every epoch ends by saving the whole model with its optimizer state to DATA/checkpoint-ARCH/last.keras and
the run's progress to state.json beside it; `TrainConfig(resume=True)` (`--resume`) carries on from there
with the same learning-rate schedule, best-so-far weights and time budget. A resumed run sees the epochs'
shuffles in another order than an uninterrupted one would, so the two are close, not bit-identical.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.evaluation.metrics import Counts, match_counts
from app.pipeline.prediction.frame import CLASSES, FPS, KIND, N_MELS, is_frame_model, pick_peaks
from app.training.export_onnx import export_beside, require_export_tools, sha256_of
from app.training.model import build_model

if TYPE_CHECKING:
    import keras

NEIGHBOUR_TARGET = 0.5
"""Target of the frames either side of an onset: labels are only accurate to about a frame, and a hard
0 next to the 1 punishes the network for a 5-ms disagreement."""

POSITIVE_WEIGHT = 4.0
"""Extra loss weight of onset frames: about 2 % of frames hold an onset of some class."""

THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)

LEARNING_RATE = 1e-3
"""Peak learning rate of a run from random weights."""

FINETUNE_LEARNING_RATE = 2e-4
"""Peak learning rate of a run that starts from a trained model (`init_from`): a fifth of LEARNING_RATE.
Adam's first steps move every weight by about the learning rate whatever its gradient, so the full rate
would first throw a trained model far from where it was (and lose what it knew of drums alone) before
the cosine decay lets it settle; a lower one adapts it to the new data from where it stands."""


class InitModelMismatchError(ValueError):
    """The model to start from does not have the configured architecture or the frame model's recipe."""


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (all recorded in the exported metadata)."""

    data_dir: Path
    out_path: Path
    epochs: int = 40
    batch_size: int = 16
    learning_rate: float = LEARNING_RATE
    max_minutes: float = 0.0
    """Stop after this many minutes of training (0: no limit); the best epoch so far is exported."""
    seed: int = 1234
    width: int = 16
    temporal: int = 128
    arch: str = "cnn"
    """model.ARCHITECTURES: "cnn" (v3's) or "crnn" (conv front end and a bidirectional GRU)."""
    gru_units: int = 64
    resume: bool = False
    """Carry on from the checkpoint of an interrupted run of the same architecture in data_dir, if there is one."""
    init_from: Path | None = None
    """An exported model (.h5 with its .json recipe beside it) whose weights the run starts from (fine-tuning);
    a resumed run's checkpoint takes precedence, as it already started from them."""
    notes: dict[str, Any] = field(default_factory=dict)


def soft_targets(onsets: np.ndarray) -> np.ndarray:
    """float32 targets from (…, frames, classes) 0/1 onsets: 1 at the onset, NEIGHBOUR_TARGET beside it."""
    hard = onsets.astype(np.float32)
    side = np.zeros_like(hard)
    side[..., 1:, :] = np.maximum(side[..., 1:, :], hard[..., :-1, :])
    side[..., :-1, :] = np.maximum(side[..., :-1, :], hard[..., 1:, :])
    return np.maximum(hard, NEIGHBOUR_TARGET * side)


def weighted_bce(y_true: Any, y_pred: Any) -> Any:
    """Binary cross-entropy per frame and class, onset frames weighted POSITIVE_WEIGHT times more."""
    from keras import ops

    eps = 1e-6
    y_pred = ops.clip(y_pred, eps, 1 - eps)
    loss = -(y_true * ops.log(y_pred) + (1 - y_true) * ops.log(1 - y_pred))
    weight = 1.0 + (POSITIVE_WEIGHT - 1.0) * y_true
    return ops.mean(loss * weight)


def load_split(data_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(features, onsets) of a built split."""
    folder = data_dir / split
    return np.load(folder / "features.npy"), np.load(folder / "onsets.npy")


def _dataset(features: np.ndarray, onsets: np.ndarray, batch: int, shuffle: bool, seed: int) -> Any:
    import tensorflow as tf

    targets = soft_targets(onsets)
    ds = tf.data.Dataset.from_tensor_slices((features, targets))
    if shuffle:
        ds = ds.shuffle(len(features), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=1)
    return ds.batch(batch).prefetch(2)


def class_counts(activations: np.ndarray, onsets: np.ndarray, threshold: float, k: int) -> Counts:
    """Counts of class `k` over all segments at `threshold`, matched within ±50 ms."""
    counts = Counts()
    for act, ons in zip(activations, onsets, strict=True):
        estimated = pick_peaks(act[:, k], threshold) / FPS
        reference = np.flatnonzero(ons[:, k]) / FPS
        counts.add(match_counts(reference, estimated))
    return counts


def choose_thresholds(activations: np.ndarray, onsets: np.ndarray) -> tuple[dict[str, float], dict[str, Counts]]:
    """Per class, the THRESHOLD_GRID value with the best F-measure on the held-out synthetic songs."""
    thresholds, best_counts = {}, {}
    for k, cls in enumerate(CLASSES):
        best = (-1.0, 0.5, Counts())
        for threshold in THRESHOLD_GRID:
            counts = class_counts(activations, onsets, float(threshold), k)
            if counts.f_measure > best[0]:
                best = (counts.f_measure, float(threshold), counts)
        thresholds[cls], best_counts[cls] = best[1], best[2]
    return thresholds, best_counts


def recipe_head(thresholds: dict[str, float], counts: dict[str, Counts]) -> dict[str, Any]:
    """What every exported frame model's recipe opens with: its kind and input, the thresholds folded into
    it and the F-measure they gave on the held-out windows, per class and pooled."""
    pooled = Counts()
    for c in counts.values():
        pooled.add(c)
    return {
        "kind": KIND,
        "classes": list(CLASSES),
        "n_mels": N_MELS,
        "fps": FPS,
        "thresholds_folded_into_bias": thresholds,
        "val_synthetic_f_measure": {cls: round(c.f_measure, 4) for cls, c in counts.items()},
        "val_synthetic_f_measure_all": round(pooled.f_measure, 4),
    }


def threshold_logits(thresholds: dict[str, float]) -> np.ndarray:
    """Per class (in CLASSES order), the logit of its threshold: what to take off the output bias so the
    class fires at 0.5 exactly where it fired at its threshold."""
    return np.array([np.log(thresholds[c] / (1 - thresholds[c])) for c in CLASSES], dtype=np.float32)


def fold_thresholds(model: keras.Model, thresholds: dict[str, float]) -> None:
    """Shift the output bias so each class fires at 0.5 exactly where it fired at its own threshold."""
    layer = model.get_layer("onsets")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, bias - threshold_logits(thresholds)])


@dataclass
class Progress:
    """What state.json records after each epoch: epochs done, their validation losses, minutes spent."""

    epochs_done: int = 0
    val_losses: list[float] = field(default_factory=list)
    minutes: float = 0.0


def checkpoint_dir(config: TrainConfig) -> Path:
    """Where a run of `config`'s architecture keeps its last epoch and best weights."""
    return config.data_dir / f"checkpoint-{config.arch}"


def _layer_shapes(model: keras.Model) -> list[tuple[str, list[tuple[int, ...]]]]:
    """Each layer's class name and weight shapes, in order: what must agree for weights to carry over."""
    return [(type(layer).__name__, [tuple(w.shape) for w in layer.weights]) for layer in model.layers]


def model_record(path: Path) -> dict[str, Any]:
    """What an exported recipe records of a model it was made from (the start of a fine-tuning run, an
    ensemble's member): file, checksum, and its own recipe's version and architecture (None without one)."""
    recipe_path = path.with_suffix(".json")
    recipe = json.loads(recipe_path.read_text()) if recipe_path.is_file() else {}
    return {"file": path.name, "sha256": sha256_of(path), "version": recipe.get("version"), "arch": recipe.get("arch")}


def load_initial_weights(model: keras.Model, config: TrainConfig) -> None:
    """Copy the weights of the exported model `config.init_from` into `model` (built from `config`).

    Checks the recipe beside the file (kind, classes, mel bands, frame rate, architecture and sizes) and
    then every layer's weight shapes; raises InitModelMismatchError naming the difference, or
    FileNotFoundError.
    """
    import keras

    path = config.init_from
    assert path is not None
    recipe_path = path.with_suffix(".json")
    if not path.is_file():
        raise FileNotFoundError(f"--init-from {path}: no such model file (give an exported .h5)")
    if not recipe_path.is_file():
        raise FileNotFoundError(
            f"--init-from {path}: no recipe {recipe_path.name} beside it; without it the classes and features "
            "the model was trained on are unknown (start from a model exported by `python -m app.training train`)"
        )
    recipe = json.loads(recipe_path.read_text())
    saved_config = recipe.get("config", {})
    expected = {
        "kind": (recipe.get("kind"), KIND),
        "classes": (recipe.get("classes"), list(CLASSES)),
        "n_mels": (recipe.get("n_mels"), N_MELS),
        "fps": (recipe.get("fps"), FPS),
        # Recipes from before the crnn option name no architecture: they are all cnn.
        "arch": (recipe.get("arch", "cnn"), config.arch),
        "width": (saved_config.get("width"), config.width),
        "temporal": (saved_config.get("temporal"), config.temporal),
    }
    if config.arch == "crnn":
        expected["gru_units"] = (saved_config.get("gru_units"), config.gru_units)
    for key, (found, wanted) in expected.items():
        if found != wanted:
            raise InitModelMismatchError(
                f"--init-from {path}: its recipe {recipe_path.name} has {key}={found!r} but this run is configured "
                f"for {wanted!r}; train with the settings it was trained with (--arch and sizes) or from scratch"
            )
    source = keras.models.load_model(path, compile=False)
    found_layers, wanted_layers = _layer_shapes(source), _layer_shapes(model)
    if found_layers != wanted_layers:
        first = next(
            (i for i, (a, b) in enumerate(zip(found_layers, wanted_layers, strict=False)) if a != b),
            min(len(found_layers), len(wanted_layers)),
        )
        raise InitModelMismatchError(
            f"--init-from {path}: its layers differ from the configured {config.arch} model at layer {first} "
            f"({len(found_layers)} layers against {len(wanted_layers)}); train with the settings it was trained "
            "with or from scratch"
        )
    model.set_weights(source.get_weights())


def _fresh_or_resumed(config: TrainConfig, steps: int) -> tuple[keras.Model, Progress]:
    """The model to train and the progress so far: from the checkpoint when resuming, else new and compiled."""
    import keras

    folder = checkpoint_dir(config)
    last, state = folder / "last.keras", folder / "state.json"
    if config.resume and last.is_file() and state.is_file():
        progress = Progress(**json.loads(state.read_text()))
        model = keras.models.load_model(last, custom_objects={"weighted_bce": weighted_bce})
        print(f"resuming {config.arch} after epoch {progress.epochs_done} ({progress.minutes:.1f} min)", flush=True)
        return model, progress
    if config.resume:
        print(f"no checkpoint in {folder}: starting afresh", flush=True)
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=max(steps * config.epochs, 1), alpha=0.05
    )
    model = build_model(width=config.width, temporal=config.temporal, arch=config.arch, gru_units=config.gru_units)
    if config.init_from is not None:
        load_initial_weights(model, config)
        print(f"starting from the weights of {config.init_from}", flush=True)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=weighted_bce)
    return model, Progress()


def train(config: TrainConfig) -> dict[str, Any]:
    """Train (or resume), choose thresholds on the val split, export the model (.h5 and .onnx) and its metadata."""
    import keras
    import tensorflow as tf

    require_export_tools()
    train_x, train_y = load_split(config.data_dir, "train")
    val_x, val_y = load_split(config.data_dir, "val")
    print(f"train segments {len(train_x)}, val segments {len(val_x)}", flush=True)
    steps = int(np.ceil(len(train_x) / config.batch_size))
    keras.utils.set_random_seed(config.seed)
    model, progress = _fresh_or_resumed(config, steps)
    # Another seed per resumption, so a resumed run does not replay the first epochs' shuffles.
    keras.utils.set_random_seed(config.seed + progress.epochs_done)
    folder = checkpoint_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    best_path = folder / "best.weights.h5"
    started = time.monotonic()
    spent_before = progress.minutes

    class _Progress(keras.callbacks.Callback):
        """Saves the last epoch and state.json, and stops when the run's total time is over its budget."""

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            minutes = spent_before + (time.monotonic() - started) / 60
            progress.epochs_done = epoch + 1
            progress.val_losses.append(float((logs or {}).get("val_loss", np.nan)))
            progress.minutes = round(minutes, 2)
            self.model.save(folder / "last.tmp.keras")
            (folder / "last.tmp.keras").replace(folder / "last.keras")
            (folder / "state.json").write_text(json.dumps(asdict(progress)))
            print(f"epoch {epoch + 1}: {minutes:.1f} min, {logs}", flush=True)
            if config.max_minutes and minutes > config.max_minutes:
                self.model.stop_training = True

    best_so_far = min(progress.val_losses, default=None)
    model.fit(
        _dataset(train_x, train_y, config.batch_size, True, config.seed + progress.epochs_done),
        validation_data=_dataset(val_x, val_y, config.batch_size, False, config.seed),
        epochs=config.epochs,
        initial_epoch=progress.epochs_done,
        verbose=0,
        callbacks=[
            keras.callbacks.ModelCheckpoint(
                best_path, save_best_only=True, save_weights_only=True, initial_value_threshold=best_so_far
            ),
            _Progress(),
        ],
    )
    if not best_path.is_file():
        raise FileNotFoundError(f"no best weights in {best_path}: the run trained no epoch (raise --epochs)")
    model.load_weights(best_path)
    activations = np.asarray(model.predict(tf.cast(val_x, tf.float32), batch_size=32, verbose=0))
    thresholds, counts = choose_thresholds(activations, val_y)
    fold_thresholds(model, thresholds)
    config.out_path.parent.mkdir(parents=True, exist_ok=True)
    # Without the optimizer's state: a third of the size, and inference never needs it.
    keras.models.save_model(model, config.out_path, include_optimizer=False)
    loaded = keras.models.load_model(config.out_path, compile=False)
    if not is_frame_model(loaded):
        raise RuntimeError(f"the exported model {config.out_path} does not look like a {KIND} model")
    metadata = {
        **recipe_head(thresholds, counts),
        "arch": config.arch,
        "parameters": int(model.count_params()),
        "epochs_run": progress.epochs_done,
        "best_val_loss": float(min(progress.val_losses)),
        "train_minutes": round(progress.minutes, 1),
        "train_segments": len(train_x),
        "val_segments": len(val_x),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
    }
    if config.init_from is not None:
        # The starting model's file and checksum, so a fine-tuned model's lineage can be checked.
        metadata["init_from"] = model_record(config.init_from)
    config.out_path.with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n")
    # The ONNX form is what workers run; it is checked against the Keras form before it is written.
    metadata.update(export_beside(config.out_path, loaded))
    return metadata
