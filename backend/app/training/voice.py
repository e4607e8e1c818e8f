"""A voice-like lead: a source-filter synthesis of sung vowels on a melody.

Source: a glottal pulse train (Rosenberg's pulse shape) at the note's pitch with vibrato and jitter,
plus breath noise. Filter: five formant resonators per vowel (two-pole band-passes in parallel).
Each note is one syllable: an optional consonant (a noise burst like "t"/"k", or a hiss like "s",
which sound much like hi-hats and are the point: a transcriber must not write them) and a vowel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal

from app.pipeline.prediction.frame import MODEL_SR

FORMANTS: dict[str, tuple[tuple[float, float, float], ...]] = {
    # (centre Hz, bandwidth Hz, gain dB) per formant, after Peterson & Barney style averages.
    "a": ((800, 80, 0), (1150, 90, -6), (2900, 120, -32), (3900, 130, -20), (4950, 140, -50)),
    "e": ((400, 60, 0), (1700, 80, -14), (2600, 120, -12), (3200, 150, -14), (4950, 200, -20)),
    "i": ((270, 60, 0), (2140, 90, -12), (2950, 100, -26), (3900, 120, -26), (4950, 120, -44)),
    "o": ((450, 70, 0), (800, 80, -11), (2830, 100, -22), (3800, 130, -22), (4950, 135, -50)),
    "u": ((325, 50, 0), (700, 60, -16), (2700, 170, -35), (3800, 180, -40), (4950, 200, -60)),
}
"""Sung-vowel formants; a song scales them by its singer's vocal-tract factor."""


@dataclass(frozen=True)
class Syllable:
    """One sung note: start and length in seconds, MIDI pitch, velocity, vowel and consonant ("", "t", "s")."""

    start: float
    length: float
    pitch: int
    velocity: int
    vowel: str
    consonant: str


def glottal_source(f0: np.ndarray, open_quotient: float) -> np.ndarray:
    """Rosenberg glottal pulses following the per-sample pitch `f0`, differentiated (lip radiation)."""
    phase = np.cumsum(f0 / MODEL_SR) % 1.0
    rise = open_quotient * 0.65
    fall = open_quotient - rise
    pulse = np.where(
        phase < rise,
        0.5 * (1 - np.cos(np.pi * phase / rise)),
        np.where(phase < open_quotient, np.cos(0.5 * np.pi * (phase - rise) / fall), 0.0),
    )
    return np.diff(pulse, prepend=0.0)


def formant_filter(source: np.ndarray, vowel: str, tract: float) -> np.ndarray:
    """`source` through the vowel's formant resonators in parallel, centres scaled by `tract`."""
    out = np.zeros_like(source)
    for centre, bandwidth, gain_db in FORMANTS[vowel]:
        f = min(centre * tract, MODEL_SR / 2 - 500)
        r = np.exp(-np.pi * bandwidth / MODEL_SR)
        theta = 2 * np.pi * f / MODEL_SR
        b, a = [1 - r], [1, -2 * r * np.cos(theta), r * r]
        out += 10 ** (gain_db / 20) * scipy.signal.lfilter(b, a, source)
    return out


def _envelope(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n)
    attack, release = min(attack, n // 2), min(release, n // 2)
    env[:attack] = np.linspace(0, 1, attack)
    env[n - release :] *= np.linspace(1, 0, release)
    return env


def sing(syllables: list[Syllable], n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Mono float32 of `syllables` sung by one random singer (vocal tract, breathiness, vibrato)."""
    out = np.zeros(n_samples)
    tract = float(rng.uniform(0.9, 1.2))  # smaller tracts (higher voices) raise the formants
    breath = float(rng.uniform(0.01, 0.08))
    open_quotient = float(rng.uniform(0.45, 0.75))
    vibrato_hz, vibrato_depth = float(rng.uniform(4.5, 6.5)), float(rng.uniform(0.0, 0.5))
    for syllable in syllables:
        start = round(syllable.start * MODEL_SR)
        n = round(syllable.length * MODEL_SR)
        if n < 64 or start >= n_samples:
            continue
        t = np.arange(n) / MODEL_SR
        # Vibrato grows in after a quarter second; jitter is a slow random wobble of a few cents.
        depth = vibrato_depth * np.clip((t - 0.25) / 0.3, 0, 1)
        wobble = np.interp(t, np.linspace(0, t[-1], 8), rng.normal(0, 0.08, 8))
        semitones = syllable.pitch - 69 + depth * np.sin(2 * np.pi * vibrato_hz * t) + wobble
        f0 = 440.0 * 2 ** (semitones / 12)
        source = glottal_source(f0, open_quotient) + breath * rng.standard_normal(n) * 0.05
        voiced = formant_filter(source, syllable.vowel, tract)
        voiced *= _envelope(n, int(0.03 * MODEL_SR), int(0.06 * MODEL_SR))
        gain = (syllable.velocity / 127) ** 1.5
        note = gain * voiced / (np.max(np.abs(voiced)) + 1e-9)
        if syllable.consonant:
            note = note + gain * _consonant(syllable.consonant, min(n, int(0.12 * MODEL_SR)), rng, len(note))
        end = min(n_samples, start + len(note))
        out[start:end] += note[: end - start]
    return out.astype(np.float32)


def _consonant(kind: str, length: int, rng: np.random.Generator, n: int) -> np.ndarray:
    """A consonant at a syllable's start: "t" a short high burst, "s" a longer hiss around 5–9 kHz."""
    noise = rng.standard_normal(length)
    if kind == "s":
        band = (float(rng.uniform(4_000, 6_000)), float(rng.uniform(8_000, 11_000)))
        shaped = scipy.signal.sosfilt(scipy.signal.butter(2, band, "band", fs=MODEL_SR, output="sos"), noise)
        env = _envelope(length, length // 3, length // 3) * 0.25
    else:
        cut = float(rng.uniform(1_500, 4_000))
        shaped = scipy.signal.sosfilt(scipy.signal.butter(2, cut, "high", fs=MODEL_SR, output="sos"), noise)
        env = np.exp(-np.arange(length) / (0.008 * MODEL_SR)) * 0.4
    out = np.zeros(n)
    out[:length] = shaped * env / (np.std(shaped) + 1e-9) * 0.3
    return out


def lyric(rng: np.random.Generator) -> tuple[str, str]:
    """A random syllable: (vowel, consonant), mostly plain vowels and voiced-like starts."""
    vowel = str(rng.choice(list(FORMANTS)))
    consonant = str(rng.choice(["", "", "", "t", "s"]))
    return vowel, consonant
