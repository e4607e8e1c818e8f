"""DrumScribe's own frame-level drum model: log-mel frames in, one onset activation per class per frame out.

The recipe (features, classes, model signature) is stated once here; the training code under
`app/training/` imports it, never the other way round, so what the network was trained on and what it
is fed at inference cannot drift apart.

- Features: power mel spectrogram (librosa's numbers, computed by `app.pipeline.mel`) at 44.1 kHz,
  n_fft 2048, hop 441 (100 frames per second), 128 bands from 30 Hz to 17 kHz, centred frames, in dB
  clipped to [-100, 20] and scaled to about [-1, 1]. The audio is first scaled to a peak of 0.9, so
  the network sees every track at one level (training mixes are rendered at random levels around it).
- Model: any Keras model taking (None, None, N_MELS) and giving (None, None, len(CLASSES)) sigmoids,
  or its ONNX export (the same shapes), run by onnxruntime. The per-class decision thresholds chosen
  on held-out synthetic songs are folded into the output layer's bias at export time
  (sigmoid(z - logit(t)) > 0.5 exactly when sigmoid(z) > t), so the one file is the whole model and
  every class is picked at 0.5.
- Peak picking: a frame is a hit of a class when its activation is above 0.5 and the largest within
  ±PEAK_RADIUS frames; two hits of one class are at least MIN_GAP_FRAMES apart.
- Velocity: from the waveform's peak after each stroke, relative to the track's peak (as the
  onset-classifier kind does), because the activations say whether, not how hard.
- Long songs are processed in chunks of CHUNK_FRAMES with CONTEXT_FRAMES of audio on each side, so
  memory depends on the chunk, not the song; the context is wider than the network's receptive field,
  so chunked and whole-song activations agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from app.pipeline import mel
from app.pipeline.hits import Hit
from app.pipeline.prediction.base import ProgressCallback, prepare_audio
from app.pipeline.prediction.onsets import onset_peaks, peaks_to_velocities

if TYPE_CHECKING:
    import keras

KIND = "drumscribe-frame"

MODEL_SR = 44_100
HOP = 441
"""10 ms: 100 frames per second."""
FPS = MODEL_SR / HOP
N_FFT = 2_048
N_MELS = 128
FMIN = 30.0
FMAX = 17_000.0
DB_FLOOR = -100.0
DB_CEIL = 20.0
PEAK_LEVEL = 0.9
"""Audio is scaled so its largest sample is this before features are taken."""

CLASSES: tuple[str, ...] = (
    "kick",
    "snare",
    "hihat_closed",
    "hihat_open",
    "ride",
    "crash",
    "tom_high",
    "tom_mid",
    "tom_low",
)
"""The network's outputs, in order: the whole DrumScribe vocabulary."""

THRESHOLD = 0.5
"""The exported model's decision level (class thresholds are folded into its output bias)."""

PEAK_RADIUS = 2
"""A hit is the largest activation within ±2 frames (±20 ms)."""

MIN_GAP_FRAMES = 3
"""Two hits of one class closer than 30 ms are one stroke (a flam is about 30–50 ms wide)."""

CHUNK_FRAMES = 3_000
"""30 s of frames through the network at a time."""

CONTEXT_FRAMES = 100
"""One second of audio on each side of a chunk; the network sees less than half of that."""

_SILENCE = 1e-6


class FrameNetwork(Protocol):
    """A loaded frame-level network: (1, frames, N_MELS) float32 features in, (1, frames, len(CLASSES))
    activations out (anything np.asarray reads). A Keras model is one; so is an ONNX session's wrapper."""

    def __call__(self, features: np.ndarray, /) -> Any: ...


def keras_network(model: keras.Model) -> FrameNetwork:
    """`model` as a FrameNetwork that runs in inference mode (no dropout, batch norm's moving averages).

    Through `predict_on_batch`, which runs a compiled graph (traced once per chunk length): called
    eagerly, a recurrent layer steps through the frames in Python, 50 times slower for v5's GRU.
    """
    return model.predict_on_batch


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(frames, N_MELS) float32 features of mono float32 `audio` at MODEL_SR, already peak-scaled."""
    power = mel.mel_spectrogram(
        audio, n_fft=N_FFT, hop=HOP, bank=mel.mel_filterbank(MODEL_SR, N_FFT, N_MELS, FMIN, FMAX), power=2
    )
    db = 10.0 * np.log10(np.maximum(power, 1e-12))
    scaled = (np.clip(db, DB_FLOOR, DB_CEIL) - (DB_FLOOR + DB_CEIL) / 2) / ((DB_CEIL - DB_FLOOR) / 2)
    return np.ascontiguousarray(scaled, dtype=np.float32)


def n_frames(n_samples: int) -> int:
    """How many centred frames `n_samples` samples give."""
    return mel.n_frames(n_samples, HOP)


def peak_scale(audio: np.ndarray) -> np.ndarray:
    """`audio` scaled to a peak of PEAK_LEVEL; silence stays as it is."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio if peak < _SILENCE else (audio * (PEAK_LEVEL / peak)).astype(np.float32)


def is_frame_model(model: keras.Model) -> bool:
    """Whether `model` takes (None, None, N_MELS) frames and gives (None, None, len(CLASSES)) activations."""
    try:
        input_shape, output_shape = model.input_shape, model.output_shape
    except (AttributeError, ValueError):
        return False
    return tuple(input_shape) == (None, None, N_MELS) and tuple(output_shape) == (None, None, len(CLASSES))


def pick_peaks(activation: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Frame indices of the hits in one class's activation curve (1-D), ascending."""
    if activation.size == 0:
        return np.empty(0, dtype=np.int64)
    padded = np.pad(activation, PEAK_RADIUS, mode="constant", constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * PEAK_RADIUS + 1)
    is_peak = (activation >= windows.max(axis=1)) & (activation > threshold)
    kept: list[int] = []
    for frame in np.flatnonzero(is_peak):  # plateaus give several equal maxima: keep the first
        if not kept or frame - kept[-1] >= MIN_GAP_FRAMES:
            kept.append(int(frame))
    return np.asarray(kept, dtype=np.int64)


def activations_to_hits(
    activations: np.ndarray, audio: np.ndarray | None = None, threshold: float = THRESHOLD
) -> list[Hit]:
    """Hits from (frames, len(CLASSES)) activations; velocities from `audio` (peak-scaled) when given."""
    found: list[tuple[float, int, float]] = []
    for k in range(activations.shape[1]):
        for frame in pick_peaks(activations[:, k], threshold):
            found.append((frame / FPS, k, float(activations[frame, k])))
    found.sort()
    if not found:
        return []
    times = np.array([t for t, _, _ in found])
    if audio is not None and audio.size:
        # Peak after each distinct onset time, then each hit takes its time's velocity.
        unique_times, index = np.unique(times, return_inverse=True)
        peaks = onset_peaks(audio, MODEL_SR, unique_times)
        velocities = peaks_to_velocities(peaks, float(np.max(np.abs(audio))))[index]
    else:
        velocities = np.full(len(found), 100)
    return [
        Hit(time=t, instrument=CLASSES[k], velocity=int(v), confidence=float(np.clip(p, 0.0, 1.0)))
        for (t, k, p), v in zip(found, velocities, strict=True)
    ]


def frame_activations(network: FrameNetwork, audio: np.ndarray, progress: ProgressCallback | None = None) -> np.ndarray:
    """(n_frames, len(CLASSES)) activations of peak-scaled mono `audio` at MODEL_SR, chunk by chunk."""
    total = n_frames(len(audio))
    out = np.zeros((total, len(CLASSES)), dtype=np.float32)
    for first in range(0, total, CHUNK_FRAMES):
        last = min(first + CHUNK_FRAMES, total)
        lo = max(first - CONTEXT_FRAMES, 0)
        hi = min(last + CONTEXT_FRAMES, total)
        # Frame i is centred on sample i * HOP; a chunk starting at a frame boundary keeps the grid.
        segment = audio[lo * HOP : (hi - 1) * HOP + 1]
        features = log_mel(segment)[: hi - lo]
        predicted = np.asarray(network(features[np.newaxis]))[0]
        out[first:last] = predicted[first - lo : last - lo]
        if progress is not None:
            progress(last / total)
    return out


class FramePredictor:
    """Peak-scaled audio → log-mel frames → the network's activations per class → peak-picked Hits."""

    name = KIND

    def __init__(self, network: FrameNetwork) -> None:
        self.network = network

    def predict(self, audio: np.ndarray, sr: int, progress: ProgressCallback | None = None) -> list[Hit]:
        """All hits in mono `audio` at `sr` Hz; several classes may hit at one time."""
        report = progress or (lambda _fraction: None)
        samples = prepare_audio(audio, sr, MODEL_SR)
        if samples.size == 0 or float(np.max(np.abs(samples))) < _SILENCE:
            report(1.0)
            return []
        samples = peak_scale(samples)
        activations = frame_activations(self.network, samples, lambda f: report(0.9 * f))
        hits = activations_to_hits(activations, samples)
        report(1.0)
        return hits
