"""The mel spectrograms the drum and beat models are fed: librosa's numbers, without librosa."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from app.pipeline import mel
from app.pipeline.beats import recipe as beat_recipe
from app.pipeline.prediction import frame


@pytest.mark.parametrize(
    ("n_mels", "fmin", "fmax"),
    [
        (frame.N_MELS, frame.FMIN, frame.FMAX),
        (beat_recipe.N_BANDS, beat_recipe.FMIN, beat_recipe.FMAX),
        (40, 0.0, 8000.0),
    ],
)
def test_the_filterbank_is_librosas_slaney_filterbank(n_mels: int, fmin: float, fmax: float) -> None:
    theirs = librosa.filters.mel(sr=44_100, n_fft=2_048, n_mels=n_mels, fmin=fmin, fmax=fmax).T
    ours = mel.mel_filterbank(44_100, 2_048, n_mels, fmin, fmax)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-7)


def test_the_mel_scale_is_linear_below_1_khz_and_logarithmic_above() -> None:
    hz = np.array([0.0, 200.0, 999.0, 1000.0, 4000.0, 16000.0])
    np.testing.assert_allclose(mel.hz_to_mel(hz), librosa.hz_to_mel(hz), rtol=1e-12)
    np.testing.assert_allclose(mel.mel_to_hz(mel.hz_to_mel(hz)), hz, rtol=1e-9, atol=1e-9)


def test_the_window_is_the_periodic_hann_window() -> None:
    np.testing.assert_allclose(mel.hann_window(2_048), np.hanning(2_049)[:-1], atol=1e-7)


def test_the_drum_models_features_match_librosas_power_mel_spectrogram() -> None:
    rng = np.random.default_rng(3)
    audio = (0.2 * rng.standard_normal(44_100 * 4 + 77)).astype(np.float32)
    theirs = librosa.feature.melspectrogram(
        y=audio, sr=44_100, n_fft=2_048, hop_length=441, n_mels=128, fmin=30.0, fmax=17_000.0, center=True
    ).T
    ours = mel.mel_spectrogram(
        audio, n_fft=2_048, hop=441, bank=mel.mel_filterbank(44_100, 2_048, 128, 30.0, 17_000.0), power=2
    )
    assert ours.shape == theirs.shape == (frame.n_frames(len(audio)), 128)
    np.testing.assert_allclose(10 * np.log10(ours), 10 * np.log10(theirs), atol=1e-3)


def test_blocks_give_the_whole_songs_frames() -> None:
    rng = np.random.default_rng(4)
    audio = rng.standard_normal(44_100 * 3).astype(np.float32)
    bank = mel.mel_filterbank(44_100, 2_048, 40, 30.0, 17_000.0)
    whole = mel.mel_spectrogram(audio, n_fft=2_048, hop=441, bank=bank, power=1, block_frames=10_000)
    blocked = mel.mel_spectrogram(audio, n_fft=2_048, hop=441, bank=bank, power=1, block_frames=37)
    np.testing.assert_allclose(blocked, whole, rtol=1e-5)  # the FFT's batch size moves float32 rounding only
