"""The AnNOTEator CNN: an onset classifier, fed one 0.2-second clip per detected onset.

Feature recipe, taken from the upstream project (github.com/cb-42/AnNOTEator) so that the input
matches what the weights were trained on:

- Clips (model_development/data_preparation.py, run with `pad_before=0.02, fix_length=0.2` as its
  tutorial does): each starts 20 ms before the labelled note and lasts exactly 0.2 s of 44.1 kHz
  E-GMD audio, i.e. 8820 samples; training never resampled a clip.
- Features (tutorials/Model_Development_1 and inference/prediction.py): librosa's power mel
  spectrogram with `n_mels=128, fmax=8000` and its defaults otherwise (n_fft 2048, hop 512, centred
  frames), giving (128, 18). No dB scaling and no normalisation. Upstream pinned librosa 0.8.0, whose
  STFT pads the centred frames by reflection (0.9 and later pad with zeros), so reflection is asked for.
- Outputs: 6 independent sigmoids (snare, hi-hat, kick, ride, tom, crash), each rounded, so it fires
  above 0.5; when none fires, the most likely one is kept.

Upstream's inference code instead cuts from 20 ms before the onset to a 16th note after it (from a
tempo estimate) and resamples that to 8820 samples, which stretches the sound. Measured, that loses:
kick recall on rendered grooves fell from 0.8 to 0.2 or less, and the overall onset F-measure on the
mdb-dev recordings from 0.51 to 0.45. So the training recipe is used; it needs no tempo either.

The network sees raw power, so its answers depend on the level of the track. Upstream feeds the
separated stem as it is, and so does this; scaling every track to a peak of 0.9 first scored lower on
mdb-dev (0.45).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from app.pipeline.hits import Hit
from app.pipeline.prediction.base import ProgressCallback, prepare_audio
from app.pipeline.prediction.onsets import detect_onsets, onset_peaks, peaks_to_velocities

if TYPE_CHECKING:
    import keras

KIND = "annoteator-cnn"

MODEL_SR = 44_100
"""E-GMD's sample rate: the rate of every training clip."""

CLIP_SAMPLES = 8_820
"""0.2 s at MODEL_SR."""

PRE_ONSET_S = 0.02
"""A clip starts this long before its onset, as in training."""

N_MELS = 128
FMAX = 8_000.0
MEL_N_FFT = 2_048
MEL_HOP = 512
INPUT_SHAPE = (N_MELS, 1 + CLIP_SAMPLES // MEL_HOP, 1)
"""(128, 18, 1): what the network takes per clip."""

OUTPUT_INSTRUMENTS: tuple[str, ...] = ("snare", "hihat_closed", "kick", "ride", "tom_mid", "crash")
"""DrumScribe's name for each of the network's outputs, in output order (the CNN has one tom and one
hi-hat class, so they map to the middle tom and the closed hi-hat)."""

THRESHOLD = 0.5

_FEATURE_BATCH = 512
"""Clips turned into features at a time: the STFTs of all of a long track's clips at once would need
about 150 kB each, over a gigabyte for a busy 15-minute song."""


def is_annoteator_model(model: keras.Model) -> bool:
    """Whether `model` takes (None, 128, 18, 1) and gives 6 outputs, like complete_network.h5."""
    try:
        input_shape, output_shape = model.input_shape, model.output_shape
    except (AttributeError, ValueError):  # a model that was never built has no shapes
        return False
    # A model with several inputs or outputs reports a list of shapes, which never matches.
    return tuple(input_shape) == (None, *INPUT_SHAPE) and tuple(output_shape) == (None, len(OUTPUT_INSTRUMENTS))


def extract_clips(audio: np.ndarray, onset_times: np.ndarray, sr: int = MODEL_SR) -> np.ndarray:
    """One CLIP_SAMPLES-long clip per onset, starting PRE_ONSET_S before it; zero-padded at the edges."""
    clips = np.zeros((len(onset_times), CLIP_SAMPLES), dtype=np.float32)
    for i, t in enumerate(onset_times):
        start = round((t - PRE_ONSET_S) * sr)
        lo, hi = max(start, 0), min(start + CLIP_SAMPLES, len(audio))
        if hi > lo:
            clips[i, lo - start : hi - start] = audio[lo:hi]
    return clips


def clip_features(clips: np.ndarray, sr: int = MODEL_SR) -> np.ndarray:
    """Power mel spectrograms of (n, CLIP_SAMPLES) clips, shaped (n, 128, 18, 1) for the network."""
    import librosa  # here, not at the top: a second of start-up that the bundled model does not need

    mel = librosa.feature.melspectrogram(
        y=clips, sr=sr, n_fft=MEL_N_FFT, hop_length=MEL_HOP, n_mels=N_MELS, fmax=FMAX, pad_mode="reflect"
    )
    return mel[..., np.newaxis].astype(np.float32)


def outputs_to_hits(
    times: np.ndarray, probabilities: np.ndarray, velocities: np.ndarray, threshold: float = THRESHOLD
) -> list[Hit]:
    """Hits for every output above `threshold`; the most likely output where none is.

    Several outputs may fire on one onset (kick and hi-hat together): each becomes a Hit at that time.
    Confidence is the sigmoid itself.
    """
    hits = []
    for t, row, velocity in zip(times, probabilities, velocities, strict=True):
        fired = np.flatnonzero(row > threshold)
        for k in fired if fired.size else [int(np.argmax(row))]:
            hits.append(
                Hit(
                    time=float(t),
                    instrument=OUTPUT_INSTRUMENTS[k],
                    velocity=int(velocity),
                    confidence=float(np.clip(row[k], 0.0, 1.0)),
                )
            )
    return hits


class AnnoteatorPredictor:
    """Onsets → 0.2 s clips → mel spectrograms → the CNN's 6 sigmoids → Hits."""

    name = KIND

    def __init__(self, model: keras.Model) -> None:
        self.model = model

    def predict(self, audio: np.ndarray, sr: int, progress: ProgressCallback | None = None) -> list[Hit]:
        """All hits in mono `audio` at `sr` Hz; several per onset where several drums sound together."""
        report = progress or (lambda _fraction: None)
        samples = prepare_audio(audio, sr, MODEL_SR)
        track_peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        times = detect_onsets(samples, MODEL_SR)
        report(0.4)
        if times.size == 0:
            report(1.0)
            return []
        velocities = peaks_to_velocities(onset_peaks(samples, MODEL_SR, times), track_peak)
        features = np.concatenate(
            [
                clip_features(extract_clips(samples, times[first : first + _FEATURE_BATCH]))
                for first in range(0, len(times), _FEATURE_BATCH)
            ]
        )
        report(0.7)
        probabilities = np.asarray(self.model.predict(features, batch_size=256, verbose=0))
        report(1.0)
        return outputs_to_hits(times, probabilities, velocities)
