"""The beat model's input: a log-compressed mel spectrogram and its positive flux, at FPS frames per second.

The recipe is `recipe.py`'s. Long songs are computed in blocks with an FFT's worth of context on each
side, so memory depends on the block, not the song, and every frame is the whole-song frame.
"""

from __future__ import annotations

from functools import lru_cache

import librosa
import numpy as np
import scipy.fft
import scipy.signal

from app.pipeline.beats.recipe import FMAX, FMIN, HOP, LOG_MUL, N_BANDS, N_FFT, PEAK_LEVEL, SAMPLE_RATE

BLOCK_FRAMES = 3_000
"""30 s of frames at a time: the complex STFT of a whole 15-minute song would take 0.7 GB."""

_SILENCE = 1e-6


@lru_cache(maxsize=1)
def _filterbank() -> np.ndarray:
    """(N_FFT // 2 + 1, N_BANDS): magnitude bins to mel bands (librosa's Slaney-style filters)."""
    bank = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_BANDS, fmin=FMIN, fmax=FMAX)
    return np.ascontiguousarray(bank.T, dtype=np.float32)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    return scipy.signal.get_window("hann", N_FFT, fftbins=True).astype(np.float32)


def n_frames(n_samples: int) -> int:
    """How many centred frames `n_samples` samples give."""
    return 1 + n_samples // HOP


def peak_scale(audio: np.ndarray) -> np.ndarray:
    """`audio` scaled to a peak of PEAK_LEVEL; silence stays as it is."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio if peak < _SILENCE else (audio * (PEAK_LEVEL / peak)).astype(np.float32)


def beat_features(audio: np.ndarray) -> np.ndarray:
    """(frames, N_FEATURES) float32 features of mono float32 `audio` at SAMPLE_RATE, already peak-scaled."""
    audio = np.asarray(audio, dtype=np.float32)
    total = n_frames(len(audio))
    bands = np.empty((total, N_BANDS), dtype=np.float32)
    padded = np.pad(audio, N_FFT // 2, mode="constant")
    for first in range(0, total, BLOCK_FRAMES):
        last = min(first + BLOCK_FRAMES, total)
        # Frame i of the centred STFT covers padded[i*HOP : i*HOP + N_FFT].
        piece = padded[first * HOP : (last - 1) * HOP + N_FFT]
        frames = np.lib.stride_tricks.sliding_window_view(piece, N_FFT)[::HOP] * _window()
        # scipy's FFT directly: librosa.stft gives the same numbers some 30 times slower here.
        magnitude = np.abs(scipy.fft.rfft(frames, axis=1))
        bands[first:last] = np.log10(1.0 + LOG_MUL * (magnitude @ _filterbank()))
    flux = np.zeros_like(bands)
    flux[1:] = np.maximum(bands[1:] - bands[:-1], 0.0)
    return np.concatenate([bands, flux], axis=1)
