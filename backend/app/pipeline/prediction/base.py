"""What every drum-hit predictor offers the predict_hits stage, whatever kind of model it wraps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import soxr

from app.pipeline.hits import Hit

ProgressCallback = Callable[[float], None]
"""Called with the fraction of the work done, 0–1."""


class HitPredictor(Protocol):
    """Turns a drum track into drum hits.

    Implementations: `AnnoteatorPredictor` (an onset classifier: detect onsets, classify a clip per
    onset). A frame-level model (activations per class at a fixed frame rate, then peak picking) fits
    the same interface.
    """

    @property
    def name(self) -> str:
        """The model kind written to hits.json, e.g. "annoteator-cnn"."""
        ...

    def predict(self, audio: np.ndarray, sr: int, progress: ProgressCallback | None = None) -> list[Hit]:
        """All hits in `audio` (mono float32 at `sr` Hz), in no particular order."""
        ...


def prepare_audio(audio: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """`audio` as contiguous mono float32 at `target_sr`, resampled when `sr` differs."""
    samples = np.ascontiguousarray(audio, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"expected mono audio (one dimension), got shape {samples.shape}")
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if sr != target_sr and samples.size:
        samples = soxr.resample(samples, sr, target_sr).astype(np.float32)
    return samples
