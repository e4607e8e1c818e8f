"""The band around training grooves: arrangement on the bar grid, parts, mastering and stem imitation (short clips)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.pipeline.prediction.frame import CLASSES, MODEL_SR
from app.synth.kits import SynthKit
from app.training import dataset
from app.training.arrangement import BEATS_PER_BAR, arrange, section_bounds
from app.training.band import amp, render_band
from app.training.grooves import Song, random_song_on_grid
from app.training.instruments import Instrument, synthetic_set
from app.training.mastering import BAND_LEVEL_DB, loudness_lufs, master, mix_at_level, rms
from app.training.samples import SampleBank, Variant
from app.training.stems import imitate_stem
from app.training.voice import Syllable, sing

SET = synthetic_set()


def clicks(seconds: float, times: list[float]) -> np.ndarray:
    """Short decaying noise bursts at `times`."""
    x = np.zeros(int(seconds * MODEL_SR), dtype=np.float32)
    burst = (np.random.default_rng(0).standard_normal(400) * np.exp(-np.arange(400) / 60)).astype(np.float32)
    for t in times:
        start = int(t * MODEL_SR)
        x[start : start + 400] += burst[: len(x) - start]
    return x


def lag_of(reference: np.ndarray, processed: np.ndarray) -> int:
    """Samples by which `processed` lags `reference` (cross-correlation peak within ±200 samples)."""
    lags = range(-200, 201)
    scores = [float(np.dot(reference[200:-200], np.roll(processed, -lag)[200:-200])) for lag in lags]
    return lags[int(np.argmax(scores))]


@pytest.mark.parametrize("seed", range(8))
def test_sections_change_on_bar_lines_after_the_drummers_phrases(seed: int) -> None:
    song = random_song_on_grid(np.random.default_rng(seed), 12.0)
    arr = arrange(np.random.default_rng([seed, 1]), song, 12.0)
    assert arr == arrange(np.random.default_rng([seed, 1]), song, 12.0)
    if song.bpm:
        assert arr.bpm == song.bpm and arr.first_downbeat_s == song.first_downbeat_s
    covered = [bar for s in arr.sections for bar in range(s.first_bar, s.first_bar + s.bars)]
    assert covered == list(range(arr.bars)) and len(arr.chords) == 2 * arr.bars
    for section in arr.sections[1:]:
        assert section.first_bar % song.phrase_bars == 0 or section.first_bar == song.change_bar
    assert arr.time_of(1, 0) - arr.time_of(0, 0) == pytest.approx(BEATS_PER_BAR * 60 / arr.bpm)


def test_section_bounds_follow_phrases_and_the_style_change() -> None:
    assert section_bounds(10, 4, 5, 4) == [0, 4, 5, 8]
    assert section_bounds(8, 2, 4, 8) == [0, 4]
    assert section_bounds(6, 4, 0, 2) == [0, 4]  # never shorter than a phrase


def test_the_band_is_the_same_for_the_same_seed_and_differs_across_seeds() -> None:
    song = random_song_on_grid(np.random.default_rng(3), 6.0)
    n = 6 * MODEL_SR
    arr = arrange(np.random.default_rng(5), song, 6.0)
    one = render_band(arr, SET, np.random.default_rng(9), n, [0.5, 1.0])
    two = render_band(arr, SET, np.random.default_rng(9), n, [0.5, 1.0])
    other = render_band(arr, SET, np.random.default_rng(10), n, [0.5, 1.0])
    assert one.shape == (n,) and one.dtype == np.float32 and rms(one) > 1e-4
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, other)


@pytest.mark.parametrize("level_db", [-10.0, -3.0, 0.0, 10.0])
def test_the_band_sits_at_the_asked_level_against_the_drums(level_db: float) -> None:
    drums = clicks(2.0, [0.1, 0.6, 1.1, 1.6])
    band = np.sin(2 * np.pi * 110 * np.arange(len(drums)) / MODEL_SR).astype(np.float32)
    mixed = mix_at_level(drums, band, level_db)
    assert 20 * np.log10(rms(mixed - drums) / rms(drums)) == pytest.approx(level_db, abs=1e-3)
    assert BAND_LEVEL_DB == (-10.0, 10.0)


@pytest.mark.parametrize("seed", range(4))
def test_mastering_never_clips_nor_moves_the_drums(seed: int) -> None:
    drums = clicks(3.0, [0.2, 0.9, 1.4, 2.5]) * 4.0  # far over full scale before mastering
    band = 0.5 * np.random.default_rng(seed).standard_normal(len(drums)).astype(np.float32)
    out = master(mix_at_level(drums, band, -6.0), np.random.default_rng(seed))
    assert out.shape == drums.shape and np.all(np.isfinite(out))
    assert float(np.max(np.abs(out))) <= 10 ** (-0.1 / 20) + 1e-6
    assert lag_of(drums, master(drums, np.random.default_rng(seed))) == 0
    assert loudness_lufs(out) > -30


def test_a_stem_imitation_keeps_length_and_timing() -> None:
    drums = clicks(2.0, [0.2, 0.7, 1.3])
    band = 0.3 * np.sin(2 * np.pi * 220 * np.arange(len(drums)) / MODEL_SR).astype(np.float32)
    stem = imitate_stem(drums, band, np.random.default_rng(1))
    assert stem.shape == drums.shape and stem.dtype == np.float32 and np.all(np.isfinite(stem))
    assert lag_of(drums, stem) == 0
    # Most of the band is gone: the stem is closer to the drums than the mix is.
    assert rms(stem - drums) < rms(mix_at_level(drums, band, 0.0) - drums)


def test_the_singer_sings_the_notes_pitch() -> None:
    voice = sing([Syllable(0.0, 1.0, 57, 100, "a", "")], MODEL_SR, np.random.default_rng(0))
    middle = voice[int(0.3 * MODEL_SR) : int(0.7 * MODEL_SR)].astype(np.float64)
    corr = [float(np.dot(middle[:4000], middle[lag : lag + 4000])) for lag in range(100, 400)]  # 110–440 Hz
    lag = 100 + int(np.argmax(corr))
    assert MODEL_SR / lag == pytest.approx(220.0, rel=0.05)


def test_the_amp_distorts_within_the_input_peak() -> None:
    x = (0.2 * np.sin(2 * np.pi * 110 * np.arange(MODEL_SR // 2) / MODEL_SR)).astype(np.float32)
    y = amp(x, np.random.default_rng(0))
    assert y.shape == x.shape and float(np.max(np.abs(y))) == pytest.approx(0.2, rel=1e-3)
    spectrum = np.abs(np.fft.rfft(y))
    harmonic = spectrum[int(330 * len(y) / MODEL_SR)]
    assert harmonic > 0.05 * spectrum[int(110 * len(y) / MODEL_SR)]  # waveshaping made a third harmonic


def test_instrument_notes_are_retuned_from_the_nearest_rendered_pitch() -> None:
    inst = Instrument("x", {40: np.zeros(4, np.float32), 44: np.ones(4, np.float32)})
    note, ratio = inst.note(43)
    assert note[0] == 1.0 and ratio == pytest.approx(2 ** (-1 / 12))


def _bank() -> list[SampleBank]:
    kit = SynthKit()
    return [SampleBank("k", {cls: [Variant(cls, [(0.0, kit.sample(cls, 127))])] for cls in CLASSES})]


@pytest.mark.parametrize("index", range(3))
def test_songs_with_a_band_or_as_stems_keep_the_drum_labels(index: int) -> None:
    banks = _bank()
    plain = dataset.make_song(index, "train", 5, banks, [], True, [SET], 0.0, 0.0)
    band = dataset.make_song(index, "train", 5, banks, [], True, [SET], 1.0, 0.0)
    stem = dataset.make_song(index, "train", 5, banks, [], True, [SET], 0.0, 1.0)
    assert plain[1] == band[1] == stem[1]
    again = dataset.make_song(index, "train", 5, banks, [], True, [SET], 1.0, 0.0)
    np.testing.assert_array_equal(band[0], again[0])
    assert len(band[0]) == len(plain[0]) and not np.array_equal(band[0], plain[0])
    assert float(np.max(np.abs(band[0]))) <= 0.9 + 1e-6


def test_the_song_kinds_follow_the_shares() -> None:
    rng = np.random.default_rng(0)
    kinds = [dataset.song_kind(rng, 0.5, 0.2) for _ in range(4000)]
    assert kinds.count("band") / 4000 == pytest.approx(0.5, abs=0.03)
    assert kinds.count("stem") / 4000 == pytest.approx(0.2, abs=0.03)
    assert {dataset.song_kind(rng, 0.0, 0.0) for _ in range(50)} == {"drums"}


def test_a_scatter_song_gets_a_band_of_its_own_tempo() -> None:
    arr = arrange(np.random.default_rng(2), Song([], 0.0, 0.0), 8.0)
    assert 70 <= arr.bpm <= 180 and arr.sections[0].first_bar == 0


def test_the_recorded_kinds_are_the_kinds_rendered(tmp_path: Path) -> None:
    config = dataset.BuildConfig(tmp_path, seed=5, band_share=0.5, stem_share=0.2)
    kinds = dataset.song_kinds(config, "train", 4)
    assert "drums" in kinds and len(set(kinds)) > 1
    for index, kind in enumerate(kinds):
        with_fonts = dataset.make_song(index, "train", 5, _bank(), [], False, [SET], 0.5, 0.2)
        without = dataset.make_song(index, "train", 5, _bank(), [], False, None)
        assert np.array_equal(with_fonts[0], without[0]) == (kind == "drums")
