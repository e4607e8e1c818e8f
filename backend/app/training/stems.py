"""Examples that sound like a separator's drum stem: the drums, a little of the band leaking through, and the
artefacts of a spectral soft mask that is sometimes wrong.

A separator such as Demucs gives the model a drum stem with the bass and guitars faintly left in,
cymbal tails thinned where the mask doubted, and a "watery" texture where the mask flickers. The
imitation mixes drums and band, computes an ideal ratio mask from the two, spoils it (noise in the
log domain, smearing over time and frequency, a floor, holes in the high band) and applies it to the
mix. The STFT is centred and inverted to the input's length, so nothing moves in time.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

from app.pipeline.prediction.frame import MODEL_SR
from app.training.mastering import mix_at_level

LEAK_DB = (-40.0, -12.0)
"""Band level in the mix the mask is applied to, against the drums (a separator sees the whole band)."""

N_FFT = 2_048
HOP = 512


def spoilt_mask(drums_mag: np.ndarray, band_mag: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An ideal ratio mask of the drums over (freq, frames) magnitudes, with a separator's kinds of error."""
    power = float(rng.uniform(1.0, 2.0))
    ideal = drums_mag**power / (drums_mag**power + band_mag**power + 1e-12)
    # Estimation errors: log-normal noise, smeared so that errors come in blobs as a network's do.
    noise = scipy.ndimage.gaussian_filter(rng.standard_normal(ideal.shape), sigma=(3, 2))
    noise *= float(rng.uniform(0.5, 2.5)) / (np.std(noise) + 1e-9)
    logit = np.log(ideal + 1e-4) - np.log1p(-ideal + 1e-4) + noise
    mask = 1 / (1 + np.exp(-logit))
    mask = scipy.ndimage.uniform_filter(mask, size=(1, int(rng.integers(1, 4))))
    if rng.random() < 0.5:
        # Holes above a few kHz: a separator that lost cymbal energy in places.
        cut = int(mask.shape[0] * float(rng.uniform(0.2, 0.5)))
        holes = scipy.ndimage.gaussian_filter(rng.random(mask.shape), sigma=(6, 4)) < float(rng.uniform(0.45, 0.5))
        mask[cut:][holes[cut:]] *= float(rng.uniform(0.1, 0.5))
    floor = float(rng.uniform(0.0, 0.08))
    return np.clip(np.maximum(mask, floor), 0.0, 1.0)


def imitate_stem(drums: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A drum "stem" of the mix of `drums` and `band` (same length): masked mix with leaked band, float32."""
    leak_db = float(rng.uniform(*LEAK_DB))
    mix = mix_at_level(drums, band, leak_db + 25)  # the mask sees the band loud …
    residue_gain = 10 ** (-25 / 20)
    band_in_mix = mix - drums
    _, _, drum_spec = scipy.signal.stft(drums, MODEL_SR, nperseg=N_FFT, noverlap=N_FFT - HOP)
    _, _, band_spec = scipy.signal.stft(band_in_mix, MODEL_SR, nperseg=N_FFT, noverlap=N_FFT - HOP)
    mask = spoilt_mask(np.abs(drum_spec), np.abs(band_spec), rng)
    # … and the stem keeps what leaks through the mask, lowered to the leak level.
    stem_spec = mask * (drum_spec + residue_gain * band_spec)
    _, stem = scipy.signal.istft(stem_spec, MODEL_SR, nperseg=N_FFT, noverlap=N_FFT - HOP)
    stem = stem[: len(drums)]
    return np.pad(stem, (0, len(drums) - len(stem))).astype(np.float32)
