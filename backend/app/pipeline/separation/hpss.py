"""Harmonic–percussive separation: a light, weight-free drum extractor (SEPARATOR=hpss)."""

from __future__ import annotations

from collections.abc import Callable

import librosa
import numpy as np
import soundfile as sf

from app.pipeline.constants import SAMPLE_RATE
from app.pipeline.separation.windows import process_in_windows

N_FFT = 2048
HOP_LENGTH = 512
KERNEL_SIZE = 31
"""Median-filter length in frames (about 0.36 s): sounds steadier than this count as harmonic."""
HARMONIC_MARGIN = 2.0
"""The harmonic mask weighs the steady part against twice the percussive part, so only clearly tonal
energy is removed and the doubtful rest stays with the drums: transcription misses strokes it cannot
hear, but shrugs off some tonal bleed."""
CHUNK_SECONDS = 20.0
CONTEXT_SECONDS = 1.0
"""Far more than the filters reach (half a kernel plus one FFT frame, about 0.2 s)."""


def percussive(block: np.ndarray) -> np.ndarray:
    """The percussive part of a (channels, frames) block, same shape."""
    spectrum = librosa.stft(block, n_fft=N_FFT, hop_length=HOP_LENGTH)
    harmonic_mask, _ = librosa.decompose.hpss(
        spectrum, kernel_size=KERNEL_SIZE, margin=(HARMONIC_MARGIN, 1.0), mask=True
    )
    drums = librosa.istft(spectrum * (1.0 - harmonic_mask), n_fft=N_FFT, hop_length=HOP_LENGTH, length=block.shape[-1])
    return drums.astype(np.float32, copy=False)


def separate_hpss(src: sf.SoundFile, sink: sf.SoundFile, *, progress: Callable[[float], None] | None = None) -> None:
    """Write the percussive part of `src` to `sink`, chunk by chunk."""
    # Whole STFT hops for the chunk and context keep every window's frames on the whole song's frame
    # grid, so the chunked result equals a single pass except for floating-point rounding.
    hop = _whole_hops(CHUNK_SECONDS)
    context = _whole_hops(CONTEXT_SECONDS)
    process_in_windows(src, sink, percussive, hop=hop, context=context, progress=progress)


def _whole_hops(seconds: float) -> int:
    return max(1, round(seconds * SAMPLE_RATE / HOP_LENGTH)) * HOP_LENGTH
