"""Audio augmentations that make clean rendered drums sound like drums in real songs.

All take and return mono float32 at MODEL_SR and draw their parameters from the given generator, so a
song's seed fixes its whole rendering. `augment` chains them with per-effect probabilities.
"""

from __future__ import annotations

import numpy as np
import scipy.signal
import soxr

from app.pipeline.prediction.frame import MODEL_SR


def synthetic_ir(rng: np.random.Generator, rt60_s: float, sr: int = MODEL_SR) -> np.ndarray:
    """A room impulse response: a direct click, a few early reflections, then exponentially decaying noise.

    The tail is low-passed more as it decays (air and walls absorb highs first).
    """
    n = max(int(rt60_s * 1.2 * sr), 64)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s)
    # Darken the tail over time: mix a low-passed copy in increasingly.
    sos = scipy.signal.butter(2, float(rng.uniform(2_000, 8_000)), "low", fs=sr, output="sos")
    dark = scipy.signal.sosfilt(sos, tail)
    blend = np.clip(t / max(rt60_s, 1e-3), 0.0, 1.0)
    tail = (1 - blend) * tail + blend * dark
    predelay = int(rng.uniform(0.002, 0.02) * sr)
    ir = np.zeros(n + predelay)
    ir[predelay:] = tail * 0.3
    for _ in range(int(rng.integers(2, 7))):
        ir[predelay + int(rng.uniform(0.001, 0.03) * sr)] += float(rng.uniform(-0.5, 0.5))
    ir[0] = 1.0
    return (ir / np.sqrt(np.sum(ir**2))).astype(np.float32)


def reverb(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Room reverb with RT60 0.15–1.8 s at a random wet level; the dry signal stays (close mics)."""
    ir = synthetic_ir(rng, float(rng.uniform(0.15, 1.8)))
    wet = scipy.signal.fftconvolve(x, ir)[: len(x)].astype(np.float32)
    mix = float(rng.uniform(0.1, 0.7))
    return (1 - mix) * x + mix * wet * (np.std(x) / (np.std(wet) + 1e-9))


def equalise(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random high-pass, low-pass and one peaking band (±9 dB), like a mix engineer's or a bad phone's EQ."""
    y = x.astype(np.float64)
    if rng.random() < 0.5:
        y = scipy.signal.sosfilt(
            scipy.signal.butter(2, float(rng.uniform(20, 150)), "high", fs=MODEL_SR, output="sos"), y
        )
    if rng.random() < 0.5:
        y = scipy.signal.sosfilt(
            scipy.signal.butter(2, float(rng.uniform(3_000, 18_000)), "low", fs=MODEL_SR, output="sos"), y
        )
    # Peaking band: a band-passed copy added or subtracted.
    centre = float(np.exp(rng.uniform(np.log(80), np.log(10_000))))
    low, high = centre / 1.5, min(centre * 1.5, MODEL_SR / 2 - 100)
    band = scipy.signal.sosfilt(scipy.signal.butter(2, [low, high], "band", fs=MODEL_SR, output="sos"), y)
    gain = 10 ** (float(rng.uniform(-9, 9)) / 20) - 1
    return (y + gain * band).astype(np.float32)


def compress(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A feed-forward compressor: threshold -30 to -6 dB below the peak, ratio 2–10, attack 1–20 ms."""
    peak = float(np.max(np.abs(x))) or 1.0
    threshold = peak * 10 ** (float(rng.uniform(-30, -6)) / 20)
    ratio = float(rng.uniform(2, 10))
    attack = float(rng.uniform(0.001, 0.02))
    # One-pole envelope of |x| (attack-only smoothing keeps it a single lfilter call).
    a = np.exp(-1.0 / (attack * MODEL_SR))
    envelope = scipy.signal.lfilter([1 - a], [1, -a], np.abs(x))
    over = np.maximum(envelope / threshold, 1.0)
    gain = over ** (1 / ratio - 1)
    return (x * gain).astype(np.float32)


def saturate(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """tanh soft clipping with drive 1.5–8 (tape, an overdriven preamp, loudness-war masters)."""
    drive = float(rng.uniform(1.5, 8))
    peak = float(np.max(np.abs(x))) or 1.0
    return (np.tanh(drive * x / peak) / np.tanh(drive) * peak).astype(np.float32)


def add_noise(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """White or pink-ish noise 60–25 dB below the signal's RMS."""
    noise = rng.standard_normal(len(x))
    if rng.random() < 0.5:
        noise = scipy.signal.lfilter([1.0], [1.0, -0.97], noise)
    rms = float(np.sqrt(np.mean(x**2))) or 1e-3
    level = rms * 10 ** (float(rng.uniform(-60, -25)) / 20)
    return (x + level * noise / (np.std(noise) + 1e-9)).astype(np.float32)


def band_limit(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Down- and up-sampling through 16, 22.05 or 32 kHz: the bandwidth of low-rate sources and codecs."""
    rate = int(rng.choice([16_000, 22_050, 32_000]))
    y = soxr.resample(soxr.resample(x, MODEL_SR, rate), rate, MODEL_SR)[: len(x)]
    return np.pad(y, (0, len(x) - len(y))).astype(np.float32)


def mix_background(x: np.ndarray, background: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add other instruments 30 to 0 dB below the drums (bleed and imperfect separation)."""
    if len(background) < len(x):
        background = np.tile(background, int(np.ceil(len(x) / max(len(background), 1))))
    start = int(rng.integers(0, len(background) - len(x) + 1))
    piece = background[start : start + len(x)]
    drum_rms = float(np.sqrt(np.mean(x**2))) or 1e-3
    piece_rms = float(np.sqrt(np.mean(piece**2))) or 1e-3
    level = float(rng.uniform(-30, 0))
    return (x + piece * (drum_rms / piece_rms) * 10 ** (level / 20)).astype(np.float32)


def drum_bus(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The drums' own chain, each effect with its own probability: room, desk EQ, compression."""
    y = x
    if rng.random() < 0.6:
        y = reverb(y, rng)
    if rng.random() < 0.6:
        y = equalise(y, rng)
    if rng.random() < 0.4:
        y = compress(y, rng)
    return y


def finish(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """After the master: the bandwidth of low-rate sources and codecs, and noise, each now and then."""
    y = x
    if rng.random() < 0.15:
        y = band_limit(y, rng)
    if rng.random() < 0.4:
        y = add_noise(y, rng)
    return np.nan_to_num(y).astype(np.float32)


def augment(x: np.ndarray, rng: np.random.Generator, backgrounds: list[np.ndarray] | None = None) -> np.ndarray:
    """The whole chain for drums without a band, each effect with its own probability; order follows a signal
    path (room, desk, bleed of other instruments, master)."""
    y = drum_bus(x, rng)
    if backgrounds and rng.random() < 0.6:
        y = mix_background(y, backgrounds[int(rng.integers(len(backgrounds)))], rng)
    if rng.random() < 0.25:
        y = saturate(y, rng)
    return finish(y, rng)
