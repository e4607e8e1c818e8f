"""Drums and band into one master: the band's level against the drums, bus compression, loudness and a limiter.

No stage delays the signal (the limiter looks ahead by computing its gain from future samples, not by
delaying the audio), so the drum labels stay exactly where the drums were rendered.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

from app.pipeline.prediction.frame import MODEL_SR

BAND_LEVEL_DB = (-10.0, 10.0)
"""The band's RMS level against the drums' RMS, as issue 13 asks (10 dB under to 10 dB over)."""

LOUDNESS_LUFS = (-16.0, -7.0)
"""Target loudness of masters, from a gentle mix to a loudness-war single."""

CEILING_DBFS = (-1.0, -0.1)
"""The limiter's ceiling: no master sample goes above it."""


def rms(x: np.ndarray) -> float:
    """Root mean square of `x` (0 for an empty array)."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def mix_at_level(drums: np.ndarray, band: np.ndarray, level_db: float) -> np.ndarray:
    """drums + band, the band scaled so that its RMS is `level_db` above the drums' RMS (silent band: drums alone)."""
    band_rms, drum_rms = rms(band), rms(drums)
    if band_rms < 1e-9 or drum_rms < 1e-9:
        return drums.astype(np.float32)
    gain = drum_rms / band_rms * 10 ** (level_db / 20)
    return (drums + gain * band).astype(np.float32)


def k_weighted(x: np.ndarray) -> np.ndarray:
    """`x` through ITU-R BS.1770's K-weighting: a +4 dB shelf above ~1.5 kHz and a high-pass near 38 Hz."""
    shelf = scipy.signal.butter(1, 1_500, "high", fs=MODEL_SR, output="sos")
    y = x + (10 ** (4 / 20) - 1) * scipy.signal.sosfilt(shelf, x)
    return scipy.signal.sosfilt(scipy.signal.butter(2, 38, "high", fs=MODEL_SR, output="sos"), y)


def loudness_lufs(x: np.ndarray) -> float:
    """Integrated loudness, simplified BS.1770: K-weighted mean square over 400-ms blocks above a -70 LUFS gate."""
    y = k_weighted(x.astype(np.float64))
    block = int(0.4 * MODEL_SR)
    hop = block // 4
    powers = np.array([np.mean(y[i : i + block] ** 2) for i in range(0, max(len(y) - block, 0) + 1, hop)])
    lufs = -0.691 + 10 * np.log10(np.maximum(powers, 1e-12))
    gated = powers[lufs > -70]
    if not gated.size:
        return -70.0
    relative = -0.691 + 10 * np.log10(np.mean(gated)) - 10
    kept = gated[-0.691 + 10 * np.log10(gated) > relative]
    return float(-0.691 + 10 * np.log10(np.mean(kept if kept.size else gated)))


def bus_compress(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A mix-bus compressor: RMS detector, threshold 4–16 dB under the mix's RMS peak, ratio 1.5–4, make-up gain."""
    attack_s, release_s = float(rng.uniform(0.005, 0.03)), float(rng.uniform(0.05, 0.3))
    ratio = float(rng.uniform(1.5, 4.0))
    power = x.astype(np.float64) ** 2
    # One-pole smoothing of the power with separate attack and release, applied as two passes of lfilter
    # is not exact; a single time constant between them is close enough for a bus compressor.
    tau = np.sqrt(attack_s * release_s)
    a = np.exp(-1.0 / (tau * MODEL_SR))
    level = np.sqrt(scipy.signal.lfilter([1 - a], [1, -a], power))
    threshold = float(np.max(level)) * 10 ** (-float(rng.uniform(4, 16)) / 20)
    over = np.maximum(level / max(threshold, 1e-9), 1.0)
    gain = over ** (1 / ratio - 1)
    y = x * gain
    return (y * (rms(x) / max(rms(y), 1e-12))).astype(np.float32)


def limit(x: np.ndarray, ceiling: float, lookahead_s: float = 0.005, release_s: float = 0.08) -> np.ndarray:
    """A look-ahead peak limiter: `x` with no sample above `ceiling`, gain reductions smoothed around each peak."""
    need = np.minimum(1.0, ceiling / np.maximum(np.abs(x.astype(np.float64)), 1e-12))
    ahead = max(1, int(lookahead_s * MODEL_SR))
    # The gain at each sample is the smallest any sample in the next `ahead` samples needs (a look-ahead
    # without delaying the audio), then it recovers with the release time constant.
    gain = scipy.ndimage.minimum_filter1d(need, size=2 * ahead + 1, mode="nearest")
    a = np.exp(-1.0 / (release_s * MODEL_SR))
    smoothed = 1.0 - scipy.signal.lfilter([1 - a], [1, -a], 1.0 - gain)
    gain = np.minimum(gain, np.maximum(smoothed, 0.0)) if smoothed.size else gain
    y = x * gain
    # What the smoothing lets through (rarely more than a hair) is clipped hard: the ceiling is a promise.
    return np.clip(y, -ceiling, ceiling).astype(np.float32)


def master(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bus compression (most songs), gain to a target loudness, then the limiter at a ceiling under 0 dBFS."""
    y = bus_compress(x, rng) if rng.random() < 0.8 else x.astype(np.float32)
    target = float(rng.uniform(*LOUDNESS_LUFS))
    ceiling = 10 ** (float(rng.uniform(*CEILING_DBFS)) / 20)
    current = loudness_lufs(y)
    y = y * np.float32(10 ** ((target - current) / 20)) if current > -70 else y
    return limit(y, ceiling)
