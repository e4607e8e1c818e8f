"""Training the beat model: resumable from checkpoints, scored by decoding the held-out songs.

Each epoch leaves DATA/beats/checkpoint.keras (model and optimizer) and checkpoint.json (epochs done,
best validation loss, minutes), so a run stopped by --max-minutes, a crash or Ctrl-C continues where
it stopped when started again with the same data folder. The best epoch's weights are kept apart
(best.weights.h5) and exported, without the optimizer, as the bundled .h5 with its recipe JSON.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.pipeline.beats import recipe
from app.pipeline.beats.decode import decode
from app.pipeline.beats.tracker import KerasBeatNetwork, network_outputs
from app.training.beats.model import RECEPTIVE_FRAMES, build_beat_model

if TYPE_CHECKING:
    import keras

NEIGHBOUR_TARGET = 0.5
"""The frames either side of a beat are half beat, half none: labels are only good to a frame."""
BEAT_TOLERANCE_S = 0.07
"""±70 ms, the usual beat F-measure window (mir_eval's default)."""
TEMPO_TARGET_WIDTH = 1.0
"""The tempo target is a Gaussian over the bins, this many bins wide (one standard deviation): the
labelled tempo is only good to the frame that rounds each beat, and a bin off is nearly right."""
TEMPO_LOSS_WEIGHT = 0.2


@dataclass
class BeatTrainConfig:
    """Hyper-parameters of one training run (all recorded in the exported metadata)."""

    data_dir: Path
    out_path: Path
    epochs: int = 30
    batch_size: int = 8
    learning_rate: float = 2e-3
    max_minutes: float = 0.0
    """Stop after this many minutes of this session (0: no limit); a later run resumes."""
    seed: int = 1234
    width: int = 32
    notes: dict[str, Any] = field(default_factory=dict)


def soft_beat_targets(labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(…, frames, 4) float32: [none, beat, downbeat] targets and the loss mask as a 4th column.

    A beat's frame is all its class; a frame beside one (and no beat itself) is half none, half that
    class (NEIGHBOUR_TARGET).
    """
    targets = np.eye(3, dtype=np.float32)[labels]
    for shift in (1, -1):
        neighbour = np.zeros_like(labels)
        if shift == 1:
            neighbour[..., 1:] = labels[..., :-1]
        else:
            neighbour[..., :-1] = labels[..., 1:]
        beside = (labels == 0) & (neighbour > 0)
        half = (1 - NEIGHBOUR_TARGET) * np.eye(3, dtype=np.float32)[0] + NEIGHBOUR_TARGET * np.eye(3, dtype=np.float32)[
            neighbour
        ]
        targets = np.where(beside[..., None], half, targets)
    return np.concatenate([targets, mask[..., None].astype(np.float32)], axis=-1)


def tempo_positions(labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(…, frames, 2) float32: per frame the tempo output's bin position (fractional) of the counted
    tempo there, and the loss mask (0 where the mask is, or where fewer than two beats are labelled).

    A frame's tempo is that of the beat it lies in (before the first beat, the first's; after the last,
    the last's): its period averaged with its neighbours' (frame rounding would jitter it by 2 %).
    """
    out = np.zeros((*labels.shape, 2), dtype=np.float32)
    frames = labels.shape[-1]
    flat_out = out.reshape(-1, frames, 2)
    songs = zip(labels.reshape(-1, frames), mask.reshape(-1, frames), strict=True)
    for song, (song_labels, song_mask) in enumerate(songs):
        beats = np.flatnonzero(song_labels)
        if len(beats) < 2:
            continue
        periods = np.diff(beats).astype(np.float64)
        smooth = np.convolve(np.pad(periods, 1, mode="edge"), np.ones(3) / 3, mode="valid")
        which = np.clip(np.searchsorted(beats, np.arange(len(song_labels)), side="right") - 1, 0, len(smooth) - 1)
        bpm = 60.0 * recipe.FPS / smooth[which]
        flat_out[song, :, 0] = recipe.tempo_bin_position(bpm)
        flat_out[song, :, 1] = song_mask
    return out


def masked_crossentropy(y_true: Any, y_pred: Any) -> Any:
    """Cross-entropy of the beat softmax over the frames the mask (y_true's last column) keeps."""
    from keras import ops

    target, mask = y_true[..., :3], y_true[..., 3]
    loss = -ops.sum(target * ops.log(ops.clip(y_pred, 1e-7, 1.0)), axis=-1)
    return ops.sum(loss * mask) / (ops.sum(mask) + 1.0)


def masked_binary_crossentropy(y_true: Any, y_pred: Any) -> Any:
    """Binary cross-entropy of the compound output over the kept frames (y_true: [target, mask])."""
    from keras import ops

    target, mask = y_true[..., 0], y_true[..., 1]
    p = ops.clip(y_pred[..., 0], 1e-7, 1 - 1e-7)
    loss = -(target * ops.log(p) + (1 - target) * ops.log(1 - p))
    return ops.sum(loss * mask) / (ops.sum(mask) + 1.0)


def masked_tempo_crossentropy(y_true: Any, y_pred: Any) -> Any:
    """Cross-entropy of the tempo softmax against a Gaussian around the labelled bin position, over the
    kept frames (y_true: [position, mask])."""
    from keras import ops

    position, mask = y_true[..., 0:1], y_true[..., 1]
    bins = ops.cast(ops.arange(recipe.TEMPO_BINS), "float32")
    target = ops.softmax(-0.5 * ops.square((bins - position) / TEMPO_TARGET_WIDTH), axis=-1)
    loss = -ops.sum(target * ops.log(ops.clip(y_pred, 1e-7, 1.0)), axis=-1)
    return ops.sum(loss * mask) / (ops.sum(mask) + 1.0)


def load_beat_split(data_dir: Path, split: str) -> dict[str, np.ndarray]:
    """The arrays of a built split (see `dataset.py`)."""
    folder = data_dir / "beats" / split
    return {name: np.load(folder / f"{name}.npy") for name in ("features", "labels", "compound", "mask")}


def _targets(split: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    compound = np.stack([split["compound"], split["mask"]], axis=-1).astype(np.float32)
    return {
        recipe.OUTPUT_BEATS: soft_beat_targets(split["labels"], split["mask"]),
        recipe.OUTPUT_COMPOUND: compound,
        recipe.OUTPUT_TEMPO: tempo_positions(split["labels"], split["mask"]),
    }


def _dataset(split: dict[str, np.ndarray], batch: int, shuffle: bool, seed: int) -> Any:
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((split["features"], _targets(split)))
    if shuffle:
        ds = ds.shuffle(len(split["features"]), seed=seed, reshuffle_each_iteration=True)
    return ds.map(lambda x, y: (tf.cast(x, tf.float32), y)).batch(batch).prefetch(2)


def _custom_objects() -> dict[str, Any]:
    return {
        "masked_crossentropy": masked_crossentropy,
        "masked_binary_crossentropy": masked_binary_crossentropy,
        "masked_tempo_crossentropy": masked_tempo_crossentropy,
    }


def _compiled(config: BeatTrainConfig, steps_per_epoch: int) -> keras.Model:
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=max(steps_per_epoch * config.epochs, 1), alpha=0.05
    )
    model = build_beat_model(width=config.width)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0),
        loss={
            recipe.OUTPUT_BEATS: masked_crossentropy,
            recipe.OUTPUT_COMPOUND: masked_binary_crossentropy,
            recipe.OUTPUT_TEMPO: masked_tempo_crossentropy,
        },
        loss_weights={recipe.OUTPUT_BEATS: 1.0, recipe.OUTPUT_COMPOUND: 0.2, recipe.OUTPUT_TEMPO: TEMPO_LOSS_WEIGHT},
    )
    return model


def train_beats(config: BeatTrainConfig) -> dict[str, Any]:
    """Train (or resume), export the best epoch to `config.out_path` with its metadata, return that."""
    import keras

    keras.utils.set_random_seed(config.seed)
    train_split = load_beat_split(config.data_dir, "train")
    val_split = load_beat_split(config.data_dir, "val")
    folder = config.data_dir / "beats"
    checkpoint, state_path, best_path = (
        folder / "checkpoint.keras",
        folder / "checkpoint.json",
        folder / "best.weights.h5",
    )
    state = json.loads(state_path.read_text()) if state_path.is_file() and checkpoint.is_file() else {}
    steps = int(np.ceil(len(train_split["features"]) / config.batch_size))
    if state:
        model = keras.models.load_model(checkpoint, custom_objects=_custom_objects())
        print(f"resuming after epoch {state['epochs']} (best val loss {state['best_val_loss']:.4f})", flush=True)
    else:
        model = _compiled(config, steps)
        state = {"epochs": 0, "best_val_loss": float("inf"), "minutes": 0.0}
    started = time.monotonic()
    minutes_before = float(state["minutes"])

    class _Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            logs = logs or {}
            loss = float(logs.get("val_loss", np.inf))
            if loss < state["best_val_loss"]:
                state["best_val_loss"] = loss
                self.model.save_weights(best_path)
            self.model.save(checkpoint)
            minutes = (time.monotonic() - started) / 60
            state.update(epochs=epoch + 1, minutes=round(minutes_before + minutes, 1))
            state_path.write_text(json.dumps(state))
            print(f"epoch {epoch + 1}: {minutes:.1f} min this run, {logs}", flush=True)
            if config.max_minutes and minutes > config.max_minutes:
                self.model.stop_training = True

    if state["epochs"] < config.epochs:
        model.fit(
            _dataset(train_split, config.batch_size, True, config.seed),
            validation_data=_dataset(val_split, config.batch_size, False, config.seed),
            epochs=config.epochs,
            initial_epoch=int(state["epochs"]),
            verbose=0,
            callbacks=[_Progress()],
        )
    model.load_weights(best_path)
    scores = score_on_songs(model, val_split, json.loads((folder / "val" / "songs.json").read_text()))
    config.out_path.parent.mkdir(parents=True, exist_ok=True)
    keras.models.save_model(model, config.out_path, include_optimizer=False)
    metadata = {
        "kind": recipe.KIND,
        "fps": recipe.FPS,
        "features": {
            "sample_rate": recipe.SAMPLE_RATE,
            "n_fft": recipe.N_FFT,
            "hop": recipe.HOP,
            "mel_bands": recipe.N_BANDS,
            "fmin": recipe.FMIN,
            "fmax": recipe.FMAX,
            "log_mul": recipe.LOG_MUL,
            "layout": "log10(1 + log_mul * mel magnitude), then its positive first difference",
        },
        "outputs": {
            recipe.OUTPUT_BEATS: list(recipe.BEAT_CLASSES),
            recipe.OUTPUT_COMPOUND: "P(beat divides in three)",
            recipe.OUTPUT_TEMPO: [round(float(b), 2) for b in recipe.tempo_bin_bpm()],
        },
        "receptive_field_frames": RECEPTIVE_FRAMES,
        "parameters": int(model.count_params()),
        "val_synthetic": scores,
        "epochs_run": int(state["epochs"]),
        "best_val_loss": round(float(state["best_val_loss"]), 5),
        "train_minutes": state["minutes"],
        "train_songs": len(train_split["features"]),
        "val_songs": len(val_split["features"]),
        "generators": json.loads((folder / "train" / "build.json").read_text())["generators"],
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
    }
    config.out_path.with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def score_on_songs(model: keras.Model, split: dict[str, np.ndarray], songs: list[dict[str, Any]]) -> dict[str, float]:
    """Decode every held-out song and score it as `drumscribe evaluate` would: beat and downbeat
    F-measure (±70 ms, pooled), the share of songs whose metre and tempo (±4 %) are right."""
    from app.evaluation.metrics import Counts, match_counts

    network = KerasBeatNetwork(model)
    beats, downbeats = Counts(), Counts()
    metre_right = tempo_right = 0
    for features, mask, song in zip(split["features"], split["mask"], songs, strict=True):
        track = decode(*network_outputs(network, features))
        # Only beats where drums play or ring out (the loss mask): none can be heard in the silence before.
        heard = [b for b in song["beats"] if round(b[0] * recipe.FPS) < len(mask) and mask[round(b[0] * recipe.FPS)]]
        reference = np.array([b[0] for b in heard])
        reference_down = np.array([b[0] for b in heard if b[1] == 1])
        beats.add(match_counts(reference, track.times, BEAT_TOLERANCE_S))
        downbeats.add(match_counts(reference_down, track.downbeats, BEAT_TOLERANCE_S))
        metre_right += track.metre == song["metre"]
        played = 60.0 / float(np.median(np.diff(reference))) if len(reference) > 1 else 0.0
        tempo_right += played > 0 and abs(track.tempo_bpm / played - 1) < 0.04
    n = max(len(songs), 1)
    return {
        "beat_f": round(beats.f_measure, 4),
        "downbeat_f": round(downbeats.f_measure, 4),
        "metre_accuracy": round(metre_right / n, 4),
        "tempo_accuracy": round(tempo_right / n, 4),
    }
