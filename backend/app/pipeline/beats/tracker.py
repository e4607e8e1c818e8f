"""Beats, downbeats, metre and tempo from the drums audio, with the learned beat model.

The seam between the beat model and the notation: `track_beats(audio, sr)` returns a `BeatTrack`
that `rhythm.transcribe(..., beats=track)` quantizes the hits on instead of its own hand-tuned grid.
The notation stage takes it when BEAT_TRACKER=learned (`app.core.config`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.core.errors import TranscriptionError
from app.pipeline.beats.decode import BeatTrack, decode
from app.pipeline.beats.features import beat_features, peak_scale
from app.pipeline.beats.recipe import (
    BEAT_CLASSES,
    CONTEXT_FRAMES,
    N_FEATURES,
    OUTPUT_BEATS,
    OUTPUT_COMPOUND,
    SAMPLE_RATE,
)
from app.pipeline.prediction.base import prepare_audio

if TYPE_CHECKING:
    import keras

CHUNK_FRAMES = 6_000
"""A minute of frames through the network at a time: a 15-minute song at once would take 0.3 GB more."""

BUNDLED_BEAT_MODEL = Path(__file__).resolve().parents[1] / "models" / "bundled" / "drumscribe_beats.h5"
"""The beat model shipped in the package (backend/MODEL_CARD.md, "Beat model")."""


@lru_cache(maxsize=2)
def load_beat_model(path: Path = BUNDLED_BEAT_MODEL) -> keras.Model:
    """The beat network at `path`, loaded once per process; TranscriptionError when it is missing or
    is not a beat model (features in, "beats" and "compound" per frame out)."""
    import keras

    if not path.is_file():
        raise TranscriptionError(
            f"The beat model {path} does not exist; reinstall the package or set BEAT_TRACKER=classic."
        )
    try:
        model = keras.models.load_model(path, compile=False)
    except (ValueError, OSError) as exc:
        raise TranscriptionError(
            f"{path} is not a beat model Keras can read ({exc.__class__.__name__}); point the tracker at the "
            "bundled beat model or set BEAT_TRACKER=classic."
        ) from exc
    outputs = getattr(model, "output_names", [])
    if tuple(model.input_shape) != (None, None, N_FEATURES) or set(outputs) != {OUTPUT_BEATS, OUTPUT_COMPOUND}:
        raise TranscriptionError(
            f"{path} is not a beat model: it takes {model.input_shape} and gives {outputs}; expected "
            f"(None, None, {N_FEATURES}) features and the outputs {OUTPUT_BEATS!r} and {OUTPUT_COMPOUND!r}."
        )
    return model


def beat_activations(model: keras.Model, audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(frames, 3) [none, beat, downbeat] probabilities and (frames,) compound probabilities of mono `audio`."""
    samples = peak_scale(prepare_audio(audio, sr, SAMPLE_RATE))
    return network_outputs(model, beat_features(samples))


def network_outputs(model: keras.Model, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The network's outputs for (frames, N_FEATURES) `features`, CHUNK_FRAMES at a time with
    CONTEXT_FRAMES of features on each side (the same as one whole-song pass, with bounded memory)."""
    total = len(features)
    beats = np.zeros((total, len(BEAT_CLASSES)))
    compound = np.zeros(total)
    for first in range(0, total, CHUNK_FRAMES):
        last = min(first + CHUNK_FRAMES, total)
        lo, hi = max(first - CONTEXT_FRAMES, 0), min(last + CONTEXT_FRAMES, total)
        out = model(features[np.newaxis, lo:hi], training=False)
        part = np.asarray(out[OUTPUT_BEATS])[0]
        if part.shape != (hi - lo, len(BEAT_CLASSES)):
            raise TranscriptionError(f"the beat model gave activations of shape {part.shape} for {hi - lo} frames")
        beats[first:last] = part[first - lo : last - lo]
        compound[first:last] = np.asarray(out[OUTPUT_COMPOUND])[0, first - lo : last - lo, 0]
    return beats, compound


def track_beats(audio: np.ndarray, sr: int, model_path: Path = BUNDLED_BEAT_MODEL) -> BeatTrack:
    """Beats, bar positions and metres of the drums in `audio` (mono, at `sr` Hz)."""
    beats, compound = beat_activations(load_beat_model(model_path), audio, sr)
    return decode(beats, compound)
