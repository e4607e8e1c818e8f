"""The beat model's features and training targets, on audio and songs made in the test."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from app.core.errors import TranscriptionError
from app.pipeline.beats import recipe
from app.pipeline.beats.features import BLOCK_FRAMES, beat_features, n_frames
from app.pipeline.beats.recipe import (
    CONTEXT_FRAMES,
    FMAX,
    FMIN,
    FPS,
    HOP,
    LOG_MUL,
    N_BANDS,
    N_FEATURES,
    N_FFT,
    SAMPLE_RATE,
)
from app.pipeline.beats.tracker import CHUNK_FRAMES, BeatActivations, KerasBeatNetwork, network_outputs
from app.training.beats.dataset import frame_labels, song_generator
from app.training.beats.model import RECEPTIVE_FRAMES, build_beat_model
from app.training.beats.songs import BeatLabel, BeatSong
from app.training.beats.train import masked_tempo_crossentropy, score_on_songs, soft_beat_targets, tempo_positions
from app.training.grooves import Event


def test_features_follow_the_recipe_block_by_block_as_for_the_whole_song() -> None:
    rng = np.random.default_rng(0)
    seconds = 1.2 * BLOCK_FRAMES / FPS  # more than one block
    audio = (0.1 * rng.standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32)
    features = beat_features(audio)
    assert features.shape == (n_frames(len(audio)), N_FEATURES) and features.dtype == np.float32
    magnitude = np.abs(librosa.stft(audio, n_fft=N_FFT, hop_length=HOP, center=True, pad_mode="constant"))
    bank = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_BANDS, fmin=FMIN, fmax=FMAX)
    bands = np.log10(1 + LOG_MUL * (bank @ magnitude)).T
    assert np.allclose(features[:, :N_BANDS], bands, atol=1e-4)
    assert np.allclose(features[1:, N_BANDS:], np.maximum(np.diff(bands, axis=0), 0), atol=1e-4)


def test_a_click_shows_as_flux_at_its_frame() -> None:
    audio = np.zeros(SAMPLE_RATE * 2, dtype=np.float32)
    audio[SAMPLE_RATE : SAMPLE_RATE + 200] = np.hanning(200)
    flux = beat_features(audio)[:, N_BANDS:].sum(axis=1)
    assert abs(int(np.argmax(flux)) - FPS) <= 2


def test_frame_labels_mark_beats_downbeats_the_compound_beat_and_the_heard_part() -> None:
    beats = [BeatLabel(1.0, 1, "6/8"), BeatLabel(1.5, 2, "6/8"), BeatLabel(2.0, 1, "4/4"), BeatLabel(2.5, 2, "4/4")]
    song = BeatSong([Event(0.98, "kick", 100), Event(2.4, "snare", 100)], beats, "6/8", 120.0)
    labels, compound, mask = frame_labels(song, 400)
    assert labels[[100, 150, 200, 250]].tolist() == [2, 1, 2, 1]
    assert labels.sum() == 6
    assert compound[:200].all() and not compound[200:].any()
    assert np.flatnonzero(mask)[[0, -1]].tolist() == [48, 290]


def test_soft_targets_are_distributions_with_half_weight_beside_a_beat() -> None:
    labels = np.zeros((1, 12), dtype=np.uint8)
    labels[0, 3], labels[0, 8] = 1, 2
    mask = np.ones((1, 12), dtype=np.uint8)
    mask[0, -1] = 0
    targets = soft_beat_targets(labels, mask)
    assert targets.shape == (1, 12, 4)
    assert np.allclose(targets[..., :3].sum(axis=-1), 1.0)
    assert targets[0, 3, :3].tolist() == [0.0, 1.0, 0.0]
    assert targets[0, 2, :3].tolist() == [0.5, 0.5, 0.0] == targets[0, 4, :3].tolist()
    assert targets[0, 7, :3].tolist() == [0.5, 0.0, 0.5]
    assert targets[0, 0, :3].tolist() == [1.0, 0.0, 0.0]
    assert targets[0, :, 3].tolist() == [1.0] * 11 + [0.0]


def test_long_songs_go_through_the_network_in_chunks_as_in_one_pass() -> None:
    model = build_beat_model()
    assert RECEPTIVE_FRAMES <= CONTEXT_FRAMES
    features = np.random.default_rng(1).random((2 * CHUNK_FRAMES + 700, N_FEATURES)).astype(np.float32)
    chunked = network_outputs(KerasBeatNetwork(model), features)
    whole = model(features[np.newaxis], training=False)
    assert np.allclose(chunked.beats, np.asarray(whole["beats"])[0], atol=1e-5)
    assert np.allclose(chunked.compound, np.asarray(whole["compound"])[0, :, 0], atol=1e-5)
    assert chunked.tempo is not None
    assert np.allclose(chunked.tempo, np.asarray(whole["tempo"])[0], atol=1e-5)


def test_tempo_targets_follow_the_labelled_beats_and_their_changes() -> None:
    labels = np.zeros((1, 700), dtype=np.uint8)
    labels[0, 50:350:60] = 1  # 100 bpm
    labels[0, 350:700:40] = 1  # 150 bpm
    mask = np.ones((1, 700), dtype=np.uint8)
    mask[0, :20] = 0
    targets = tempo_positions(labels, mask)
    assert targets.shape == (1, 700, 2)
    bpm = recipe.COMPOUND_BPM[0] * recipe.TEMPO_BIN_RATIO ** targets[0, :, 0]
    assert np.allclose(bpm[:200], 100.0, rtol=1e-3)  # before the first beat: the first beat's tempo
    assert np.allclose(bpm[450:], 150.0, rtol=1e-3)
    assert 100.0 < bpm[300] < 150.0  # the beat at the change is averaged with its neighbours
    assert targets[0, :, 1].tolist() == [0.0] * 20 + [1.0] * 680


def test_a_song_with_fewer_than_two_beats_teaches_no_tempo() -> None:
    labels = np.zeros((1, 100), dtype=np.uint8)
    labels[0, 40] = 2
    assert not tempo_positions(labels, np.ones((1, 100), dtype=np.uint8))[..., 1].any()


def test_the_tempo_loss_is_lowest_on_the_labelled_bin() -> None:
    position = np.array([[[20.0, 1.0]]], dtype=np.float32)
    losses = []
    for peak in (10, 19, 20, 21, 30):
        prediction = np.full((1, 1, recipe.TEMPO_BINS), 1e-3, dtype=np.float32)
        prediction[0, 0, peak] = 1.0
        prediction /= prediction.sum()
        losses.append(float(masked_tempo_crossentropy(position, prediction)))
    assert losses[2] == min(losses)
    assert losses[1] < losses[0] and losses[3] < losses[4]


def test_generators_take_turns_song_by_song_so_each_song_stays_the_same_in_any_mix() -> None:
    assert [song_generator(k, (1, 2)) for k in range(5)] == [1, 2, 1, 2, 1]
    assert [song_generator(k, (2,)) for k in range(3)] == [2, 2, 2]
    with pytest.raises(ValueError, match="at least one version"):
        song_generator(0, ())


def test_a_tempo_output_with_other_bins_is_refused_with_what_to_do() -> None:
    class OtherBins:
        def __call__(self, features: np.ndarray, /) -> BeatActivations:
            frames = features.shape[1]
            beats = np.tile([1.0, 0.0, 0.0], (1, frames, 1))
            return BeatActivations(beats, np.zeros((1, frames)), np.full((1, frames, 30), 1 / 30))

    with pytest.raises(TranscriptionError, match=r"other tempo bins.*retrain it or use the bundled beat model"):
        network_outputs(OtherBins(), np.zeros((50, N_FEATURES), dtype=np.float32))


def test_held_out_songs_are_scored_for_a_model_with_or_without_a_tempo_output() -> None:
    import keras

    rng = np.random.default_rng(3)
    frames = 1500
    split = {"features": rng.random((2, frames, N_FEATURES)).astype(np.float16), "mask": np.ones((2, frames))}
    songs = [{"metre": "4/4", "beats": [[0.5 + 0.5 * k, k % 4 + 1, "4/4"] for k in range(28)]}] * 2
    full = build_beat_model()
    features = keras.Input(shape=(None, N_FEATURES))
    out = full(features)
    without_tempo = keras.Model(features, {"beats": out["beats"], "compound": out["compound"]})
    for model in (full, without_tempo):
        scores = score_on_songs(model, split, songs)
        assert set(scores) == {"beat_f", "downbeat_f", "metre_accuracy", "tempo_accuracy"}
        assert all(0.0 <= v <= 1.0 for v in scores.values())
