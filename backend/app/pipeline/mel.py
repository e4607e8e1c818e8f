"""Mel spectrograms with numpy and scipy.fft alone, for the drum model's and the beat model's inputs.

Both models were trained on librosa's numbers (Slaney's mel scale and filter areas, a periodic Hann
window, frames centred on their hop with zeros beyond the ends); this computes the same numbers
without importing librosa, which with the scipy.signal and numba it pulls in took about 1.3 s of a
command's start-up. Tests compare both, within float32 rounding.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft

_LINEAR_MEL_HZ = 200.0 / 3.0
"""Below 1 kHz Slaney's mel scale is linear: one mel every 66.7 Hz."""
_BREAK_HZ = 1000.0
_BREAK_MEL = _BREAK_HZ / _LINEAR_MEL_HZ
_LOG_STEP = np.log(6.4) / 27.0
"""Above 1 kHz it is logarithmic: 27 mels per factor of 6.4 in frequency."""


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, not HTK's)."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / _LINEAR_MEL_HZ
    logarithmic = _BREAK_MEL + np.log(np.maximum(hz, _BREAK_HZ) / _BREAK_HZ) / _LOG_STEP
    return np.where(hz >= _BREAK_HZ, logarithmic, linear)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """The inverse of `hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * _LINEAR_MEL_HZ
    logarithmic = _BREAK_HZ * np.exp(_LOG_STEP * (np.maximum(mel, _BREAK_MEL) - _BREAK_MEL))
    return np.where(mel >= _BREAK_MEL, logarithmic, linear)


@lru_cache(maxsize=8)
def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) float32: triangles evenly spaced in mels from `fmin` to `fmax` Hz, each
    scaled to unit area over its band in Hz (Slaney's normalisation), for spectra of `n_fft` points."""
    bins = np.linspace(0.0, sr / 2.0, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(np.array(fmin)), hz_to_mel(np.array(fmax)), n_mels + 2))
    widths = np.diff(edges)
    distance = edges[:, None] - bins[None, :]  # (n_mels + 2, bins)
    rising = -distance[:-2] / widths[:-1, None]
    falling = distance[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    bank = np.ascontiguousarray(weights.T, dtype=np.float32)
    bank.flags.writeable = False  # shared by every caller through the cache
    return bank


@lru_cache(maxsize=8)
def hann_window(n: int) -> np.ndarray:
    """The periodic Hann window of `n` points (the one spectral analysis uses, not the symmetric one)."""
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)
    window.flags.writeable = False
    return window


def n_frames(n_samples: int, hop: int) -> int:
    """How many centred frames `n_samples` samples give at `hop`."""
    return 1 + n_samples // hop


def mel_spectrogram(
    audio: np.ndarray, *, n_fft: int, hop: int, bank: np.ndarray, power: float, block_frames: int = 3_000
) -> np.ndarray:
    """(frames, bands) float32: the spectrum's magnitude to `power` (1 or 2) through the mel `bank`.

    Frame i is centred on sample i·hop, with zeros beyond the audio's ends. Computed `block_frames` at
    a time, so memory depends on the block and not on the song; every frame is the whole-song frame.
    """
    audio = np.asarray(audio, dtype=np.float32)
    total = n_frames(len(audio), hop)
    out = np.empty((total, bank.shape[1]), dtype=np.float32)
    padded = np.pad(audio, n_fft // 2, mode="constant")
    window = hann_window(n_fft)
    for first in range(0, total, block_frames):
        last = min(first + block_frames, total)
        piece = padded[first * hop : (last - 1) * hop + n_fft]
        frames = np.lib.stride_tricks.sliding_window_view(piece, n_fft)[::hop] * window
        magnitude = np.abs(scipy.fft.rfft(frames, axis=1))
        out[first:last] = (magnitude if power == 1 else magnitude**power) @ bank
    return out
