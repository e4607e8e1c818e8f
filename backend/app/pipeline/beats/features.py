"""The beat model's input: a log-compressed mel spectrogram and its positive flux, at FPS frames per second.

The recipe is `recipe.py`'s. Long songs are computed in blocks with an FFT's worth of context on each
side, so memory depends on the block, not the song, and every frame is the whole-song frame.
"""

from __future__ import annotations

import numpy as np

from app.pipeline import mel
from app.pipeline.beats.recipe import FMAX, FMIN, HOP, LOG_MUL, N_BANDS, N_FFT, PEAK_LEVEL, SAMPLE_RATE

BLOCK_FRAMES = 3_000
"""30 s of frames at a time: the complex STFT of a whole 15-minute song would take 0.7 GB."""

_SILENCE = 1e-6


def n_frames(n_samples: int) -> int:
    """How many centred frames `n_samples` samples give."""
    return mel.n_frames(n_samples, HOP)


def peak_scale(audio: np.ndarray) -> np.ndarray:
    """`audio` scaled to a peak of PEAK_LEVEL; silence stays as it is."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio if peak < _SILENCE else (audio * (PEAK_LEVEL / peak)).astype(np.float32)


def beat_features(audio: np.ndarray) -> np.ndarray:
    """(frames, N_FEATURES) float32 features of mono float32 `audio` at SAMPLE_RATE, already peak-scaled."""
    magnitude = mel.mel_spectrogram(
        audio,
        n_fft=N_FFT,
        hop=HOP,
        bank=mel.mel_filterbank(SAMPLE_RATE, N_FFT, N_BANDS, FMIN, FMAX),
        power=1,
        block_frames=BLOCK_FRAMES,
    )
    bands = np.log10(1.0 + LOG_MUL * magnitude)
    flux = np.zeros_like(bands)
    flux[1:] = np.maximum(bands[1:] - bands[:-1], 0.0)
    return np.concatenate([bands, flux], axis=1)
