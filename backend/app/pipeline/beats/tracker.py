"""Beats, downbeats, metre and tempo from the drums audio, with the learned beat model.

The seam between the beat model and the notation: `track_beats(audio, sr, hits)` returns a `BeatTrack`
that `rhythm.transcribe(..., beats=track)` quantizes the hits on instead of its own hand-tuned grid.
The notation stage takes it when BEAT_TRACKER=learned (`app.core.config`).

The network runs in onnxruntime from the bundled ONNX file (`drumscribe_beats.onnx`), so tracking
beats imports neither TensorFlow nor Keras. The Keras .h5 beside it is the training format, from which
`python -m app.training.beats export-onnx` makes the ONNX file; `load_beat_model` reads either.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

from app.core.errors import TranscriptionError
from app.pipeline.beats.bars import recount_bars
from app.pipeline.beats.decode import BeatTrack, decode
from app.pipeline.beats.features import beat_features, peak_scale
from app.pipeline.beats.recipe import (
    BEAT_CLASSES,
    CONTEXT_FRAMES,
    N_FEATURES,
    OUTPUT_BEATS,
    OUTPUT_COMPOUND,
    OUTPUT_TEMPO,
    SAMPLE_RATE,
    TEMPO_BINS,
)
from app.pipeline.hits import Hit
from app.pipeline.prediction.base import prepare_audio

if TYPE_CHECKING:
    import keras
    import onnxruntime

CHUNK_FRAMES = 6_000
"""A minute of frames through the network at a time: a 15-minute song at once would take 0.3 GB more."""

_BUNDLED = Path(__file__).resolve().parents[1] / "models" / "bundled"
BUNDLED_BEAT_MODEL = _BUNDLED / "drumscribe_beats.onnx"
"""The beat model shipped in the package, as onnxruntime runs it (backend/MODEL_CARD.md, "Beat model")."""
BUNDLED_BEAT_KERAS = _BUNDLED / "drumscribe_beats.h5"
"""The same model in its training format (Keras); the ONNX file is exported from it."""


class BeatActivations(NamedTuple):
    """What the beat network says per frame; `decode(*activations)` reads them in this order."""

    beats: np.ndarray
    """(frames, 3) [none, beat, downbeat] probabilities."""
    compound: np.ndarray
    """(frames,) P(the beat divides in three)."""
    tempo: np.ndarray | None
    """(frames, TEMPO_BINS) probabilities of the counted tempo; None from a model without a tempo output."""


class BeatNetwork(Protocol):
    """The beat network in some runtime: (1, frames, N_FEATURES) features in, per-frame outputs out."""

    def __call__(self, features: np.ndarray, /) -> BeatActivations:
        """The outputs for one batch of one song: (1, frames, …) arrays (see `BeatActivations`)."""
        ...


class OnnxBeatNetwork:
    """The beat network run by an onnxruntime session (no TensorFlow)."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self.session = session
        self._input = session.get_inputs()[0].name
        names = {o.name for o in session.get_outputs()}
        self._outputs = [OUTPUT_BEATS, OUTPUT_COMPOUND] + ([OUTPUT_TEMPO] if OUTPUT_TEMPO in names else [])

    def __call__(self, features: np.ndarray, /) -> BeatActivations:
        """See `BeatNetwork`."""
        feed = {self._input: np.ascontiguousarray(features, dtype=np.float32)}
        beats, compound, *tempo = self.session.run(self._outputs, feed)
        return BeatActivations(np.asarray(beats), np.asarray(compound)[..., 0], np.asarray(tempo[0]) if tempo else None)


class KerasBeatNetwork:
    """The beat network as a Keras model (training, and checking the ONNX export against it)."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model

    def __call__(self, features: np.ndarray, /) -> BeatActivations:
        """See `BeatNetwork`."""
        out = self.model(np.asarray(features, dtype=np.float32), training=False)
        tempo = np.asarray(out[OUTPUT_TEMPO]) if OUTPUT_TEMPO in out else None
        return BeatActivations(np.asarray(out[OUTPUT_BEATS]), np.asarray(out[OUTPUT_COMPOUND])[..., 0], tempo)


@lru_cache(maxsize=2)
def load_beat_model(path: Path = BUNDLED_BEAT_MODEL) -> BeatNetwork:
    """The beat network at `path` (.onnx for onnxruntime, .h5 for Keras), loaded once per process;
    TranscriptionError when it is missing or is not a beat model (features in, "beats" and "compound"
    per frame out, and "tempo" where the model has it)."""
    if not path.is_file():
        raise TranscriptionError(
            f"The beat model {path} does not exist; reinstall the package or set BEAT_TRACKER=classic."
        )
    if path.suffix == ".onnx":
        return _load_onnx(path)
    return _load_keras(path)


def _load_onnx(path: Path) -> OnnxBeatNetwork:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1
    # Idle threads sleep rather than spin: the notation stage shares its cores with other work.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own unexported exception types for unreadable files
        raise TranscriptionError(
            f"{path} is not an ONNX model onnxruntime can read ({exc.__class__.__name__}); export it again with "
            "`python -m app.training.beats export-onnx` or set BEAT_TRACKER=classic."
        ) from exc
    inputs, outputs = session.get_inputs(), {o.name: o.shape for o in session.get_outputs()}
    if len(inputs) != 1 or inputs[0].shape[-1] != N_FEATURES or not has_beat_outputs(set(outputs)):
        raise TranscriptionError(
            f"{path} is not a beat model: it takes {[i.shape for i in inputs]} and gives {outputs}; expected "
            f"[batch, frames, {N_FEATURES}] features and the outputs {OUTPUT_BEATS!r} and {OUTPUT_COMPOUND!r} "
            f"(and {OUTPUT_TEMPO!r} or not)."
        )
    return OnnxBeatNetwork(session)


def has_beat_outputs(names: set[str]) -> bool:
    """Whether a model's output names are a beat model's: beats and compound, and tempo or not."""
    return names in ({OUTPUT_BEATS, OUTPUT_COMPOUND}, {OUTPUT_BEATS, OUTPUT_COMPOUND, OUTPUT_TEMPO})


def _load_keras(path: Path) -> KerasBeatNetwork:
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except (ValueError, OSError) as exc:
        raise TranscriptionError(
            f"{path} is not a beat model Keras can read ({exc.__class__.__name__}); point the tracker at the "
            "bundled beat model or set BEAT_TRACKER=classic."
        ) from exc
    outputs = getattr(model, "output_names", [])
    if tuple(model.input_shape) != (None, None, N_FEATURES) or not has_beat_outputs(set(outputs)):
        raise TranscriptionError(
            f"{path} is not a beat model: it takes {model.input_shape} and gives {outputs}; expected "
            f"(None, None, {N_FEATURES}) features and the outputs {OUTPUT_BEATS!r} and {OUTPUT_COMPOUND!r} "
            f"(and {OUTPUT_TEMPO!r} or not)."
        )
    return KerasBeatNetwork(model)


def beat_activations(network: BeatNetwork, audio: np.ndarray, sr: int) -> BeatActivations:
    """What the beat network says on every frame of mono `audio` at `sr` Hz."""
    samples = peak_scale(prepare_audio(audio, sr, SAMPLE_RATE))
    return network_outputs(network, beat_features(samples))


def network_outputs(network: BeatNetwork, features: np.ndarray) -> BeatActivations:
    """The network's outputs for (frames, N_FEATURES) `features`, CHUNK_FRAMES at a time with
    CONTEXT_FRAMES of features on each side (the same as one whole-song pass, with bounded memory)."""
    total = len(features)
    beats = np.zeros((total, len(BEAT_CLASSES)))
    compound = np.zeros(total)
    tempo: np.ndarray | None = None
    for first in range(0, total, CHUNK_FRAMES):
        last = min(first + CHUNK_FRAMES, total)
        lo, hi = max(first - CONTEXT_FRAMES, 0), min(last + CONTEXT_FRAMES, total)
        part = network(features[np.newaxis, lo:hi])
        if part.beats.shape != (1, hi - lo, len(BEAT_CLASSES)):
            raise TranscriptionError(f"the beat model gave beats of shape {part.beats.shape} for {hi - lo} frames")
        keep = slice(first - lo, last - lo)
        beats[first:last] = part.beats[0, keep]
        compound[first:last] = part.compound[0, keep]
        if part.tempo is not None:
            if part.tempo.shape != (1, hi - lo, TEMPO_BINS):
                raise TranscriptionError(
                    f"the beat model gave a tempo output of shape {part.tempo.shape}, not (1, {hi - lo}, "
                    f"{TEMPO_BINS}): it was trained with other tempo bins than this DrumScribe reads "
                    "(recipe.TEMPO_BINS); retrain it or use the bundled beat model"
                )
            tempo = np.zeros((total, TEMPO_BINS)) if tempo is None else tempo
            tempo[first:last] = part.tempo[0, keep]
    return BeatActivations(beats, compound, tempo)


def track_beats(
    audio: np.ndarray, sr: int, hits: Sequence[Hit] = (), model_path: Path = BUNDLED_BEAT_MODEL
) -> BeatTrack:
    """Beats, bar positions and metres of the drums in `audio` (mono, at `sr` Hz); with the drums'
    `hits`, the bars are counted again with them as evidence (`bars.recount_bars`)."""
    activations = beat_activations(load_beat_model(model_path), audio, sr)
    return recount_bars(decode(*activations), activations.beats, hits)
