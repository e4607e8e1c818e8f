"""Harmonic–percussive separation: a light, weight-free drum extractor (SEPARATOR=hpss)."""

from __future__ import annotations

from collections.abc import Callable

import librosa
import numpy as np
import soundfile as sf

from app.pipeline.constants import SAMPLE_RATE
from app.pipeline.separation.windows import Sink, process_in_windows

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


def percussive_and_rest(block: np.ndarray) -> np.ndarray:
    """The percussive part of a (channels, frames) block stacked on the rest (the harmonic part).

    The rest is the block minus its percussive part, so the two add up to the block exactly.
    """
    drums = percussive(block)
    return np.concatenate([drums, block - drums])


def separate_hpss(
    src: sf.SoundFile,
    sink: Sink,
    *,
    with_band: bool = False,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Write the percussive part of `src` to `sink`, chunk by chunk; with `with_band`, each block holds the
    percussive channels followed by the harmonic ones (for `StemSinks`)."""
    # Whole STFT hops for the chunk and context keep every window's frames on the whole song's frame
    # grid, so the chunked result equals a single pass except for floating-point rounding.
    hop = _whole_hops(CHUNK_SECONDS)
    context = _whole_hops(CONTEXT_SECONDS)
    process = percussive_and_rest if with_band else percussive
    process_in_windows(src, sink, process, hop=hop, context=context, progress=progress)


def _whole_hops(seconds: float) -> int:
    return max(1, round(seconds * SAMPLE_RATE / HOP_LENGTH)) * HOP_LENGTH
