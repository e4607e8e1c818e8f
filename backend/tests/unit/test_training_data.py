"""The training-data builder and the training helpers, on tiny kits and datasets built in the test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.pipeline.prediction.frame import CLASSES, FPS, N_MELS
from app.synth.kits import SynthKit
from app.training import dataset
from app.training.augment import augment, synthetic_ir
from app.training.grooves import STYLES, Event, random_song, random_song_on_grid
from app.training.instruments import synthetic_set
from app.training.render import render_drums, retune, write_label_midi
from app.training.samples import SampleBank, Variant, classify_instrument_name, velocity_gain
from app.training.train import choose_thresholds, fold_thresholds, soft_targets, weighted_bce


def synth_bank(name: str = "synth", classes: tuple[str, ...] = CLASSES) -> SampleBank:
    """A SampleBank made of SynthKit one-shots (no files needed)."""
    kit = SynthKit()
    return SampleBank(name, {cls: [Variant(cls, [(0.0, kit.sample(cls, 127))])] for cls in classes})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('Kick (Tama Superstar 22")', "kick"),
        ("c3 - bass drum 1", "kick"),
        ("Snare Rimshot (Pearl)", "snare"),
        ("Hi Hat Closed", "hihat_closed"),
        ("VariBreaks Hat 1 Op", "hihat_open"),
        ("Sabian Hat Semi-Open", "hihat_open"),
        ("Pedal HH", "hihat_closed"),
        ("Ride Bell (Custom)", "ride"),
        ('China (Paiste Alpha 18")', "crash"),
        ("Floor Tom", "tom_low"),
        ("Tom Mid", "tom_mid"),
        ("Tom Hi", "tom_high"),
        ("Hand Clap", None),
        ("Cowbell", None),
        ("Drum 1", None),
        ("17", None),
    ],
)
def test_hydrogen_instrument_names_map_to_classes(name: str, expected: str | None) -> None:
    assert classify_instrument_name(name) == expected


def test_velocity_gain_spans_thirty_db() -> None:
    assert velocity_gain(127) == pytest.approx(1.0)
    assert 20 * np.log10(velocity_gain(1)) == pytest.approx(-30.0)


@pytest.mark.parametrize("seed", range(6))
def test_random_songs_are_sorted_in_range_and_reproducible(seed: int) -> None:
    events, bpm = random_song(np.random.default_rng(seed), 10.0)
    again, _ = random_song(np.random.default_rng(seed), 10.0)
    assert events == again and events
    assert all(0.0 <= e.time < 10.0 and e.instrument in CLASSES and 1 <= e.velocity <= 127 for e in events)
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert bpm == 0.0 or 60 <= bpm <= 200


def test_a_song_knows_the_grid_it_was_written_on() -> None:
    on_grid, shifted, downbeat_kicks, backbeat_kicks = [], [], 0, 0
    for seed in range(20):
        song = random_song_on_grid(np.random.default_rng(seed), 16.0)
        assert (song.events, song.bpm) == random_song(np.random.default_rng(seed), 16.0), "the very same songs"
        if song.bpm == 0.0:
            continue
        beats = np.array([(e.time - song.first_downbeat_s) * song.bpm / 60 for e in song.events])
        on_grid += list(np.abs(beats * 12 - np.round(beats * 12)) / 12)  # 16ths and triplets are 12ths of a beat
        half_off = beats + 1 / 24
        shifted += list(np.abs(half_off * 12 - np.round(half_off * 12)) / 12)
        kicks = np.round(np.array([b for b, e in zip(beats, song.events, strict=True) if e.instrument == "kick"]))
        downbeat_kicks += int(np.sum(kicks % 4 == 0))
        backbeat_kicks += int(np.sum(kicks % 4 == 1))
    assert np.median(on_grid) < 0.5 * np.median(shifted), "the strokes sit on the grid, give or take the humanising"
    assert downbeat_kicks > 2 * backbeat_kicks, "bar 1 beat 1 is a downbeat"


def test_every_style_plays_kick_or_toms_and_a_backbeat_or_cymbal() -> None:
    rng = np.random.default_rng(0)
    for name, style in STYLES.items():
        strokes = style(rng, False)
        assert strokes, name
        assert all(0 <= pos < 4 and cls in CLASSES for pos, cls, _ in strokes), name


@pytest.mark.parametrize("seed", range(8))
def test_the_ride_groove_rides_over_the_backbeat(seed: int) -> None:
    strokes = STYLES["ride"](np.random.default_rng(seed), False)
    rides = {pos for pos, cls, _ in strokes if cls == "ride"}
    assert {1.0, 3.0} <= {pos for pos, cls, _ in strokes if cls == "snare"}
    assert {0.0, 1.0, 2.0, 3.0} <= rides, "the ride sounds on every beat, with the kick and the snare"


def test_rendered_drums_start_at_their_labels_and_borrow_missing_classes() -> None:
    events = [
        Event(0.5, "kick", 120),
        Event(1.0, "crash", 100),
        Event(1.5, "hihat_open", 90),
        Event(1.7, "hihat_closed", 90),
    ]
    kick_only = synth_bank("kicks", ("kick", "hihat_open", "hihat_closed"))
    audio, played = render_drums(events, kick_only, [synth_bank()], np.random.default_rng(0), 3.0)
    assert len(audio) == 3 * 44_100 and played == events
    assert np.all(audio[: int(0.5 * 44_100) - 1] == 0.0)
    assert np.abs(audio[int(0.5 * 44_100) : int(0.51 * 44_100)]).max() > 0.1
    # The open hi-hat is choked at the closed one: nothing of it is left 0.1 s after it.
    open_only, _ = render_drums(events[2:3] + events[3:], kick_only, [], np.random.default_rng(0), 3.0)
    assert np.abs(open_only[int(1.85 * 44_100) :]).max() < 1e-3


def test_retuning_changes_pitch_and_length_together() -> None:
    tone = np.sin(2 * np.pi * 440.0 * np.arange(44_100) / 44_100).astype(np.float32)
    higher = retune(tone, 2.0 ** (3 / 12))
    assert len(higher) == pytest.approx(44_100 / 2.0 ** (3 / 12), abs=2)
    spectrum = np.abs(np.fft.rfft(higher * np.hanning(len(higher))))
    assert np.argmax(spectrum) * 44_100 / len(higher) == pytest.approx(440.0 * 2.0 ** (3 / 12), rel=0.01)
    assert retune(tone, 1.0) is tone


def test_augmentation_keeps_length_and_stays_finite() -> None:
    rng = np.random.default_rng(3)
    x = (np.random.default_rng(4).standard_normal(44_100) * 0.1).astype(np.float32)
    backgrounds = [np.sin(np.arange(30_000) / 20.0).astype(np.float32)]
    for _ in range(8):
        y = augment(x, rng, backgrounds)
        assert y.shape == x.shape and y.dtype == np.float32 and np.all(np.isfinite(y))
    ir = synthetic_ir(rng, 0.5)
    assert ir[0] > 0 and np.sum(ir**2) == pytest.approx(1.0, rel=1e-3)


def test_onset_matrix_and_soft_targets() -> None:
    onsets = dataset.onset_matrix([Event(0.1, "kick", 100), Event(0.104, "snare", 90), Event(9.0, "kick", 1)], 50)
    assert onsets.shape == (50, len(CLASSES)) and onsets.sum() == 2
    assert onsets[10, CLASSES.index("kick")] == 1 and onsets[10, CLASSES.index("snare")] == 1
    soft = soft_targets(onsets[np.newaxis])[0]
    assert soft[10, 0] == 1.0 and soft[9, 0] == soft[11, 0] == 0.5 and soft[12, 0] == 0.0


def test_a_tiny_build_writes_segments_and_evaluable_songs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    noise = [np.random.default_rng(i).standard_normal(44_100 * 4).astype(np.float32) for i in range(4)]
    monkeypatch.setattr(dataset, "render_backgrounds", lambda *args: noise)
    monkeypatch.setattr(dataset, "available_fonts", lambda: ["font-a", "timgm6mb"])
    monkeypatch.setattr(dataset, "load_font", lambda name, cache: synthetic_set(name))
    monkeypatch.setattr(dataset, "SONG_SECONDS", (4.1, 4.5))
    banks = [synth_bank("train-kit"), synth_bank("The Black Pearl 1.0")]
    config = dataset.BuildConfig(tmp_path, seed=7, workers=1)
    val = dataset.build_split(config, "val", 2, banks)
    features, onsets = np.load(val / "features.npy"), np.load(val / "onsets.npy")
    assert features.shape == (2, dataset.SEGMENT_FRAMES, N_MELS) and features.dtype == np.float16
    assert onsets.shape == (2, dataset.SEGMENT_FRAMES, len(CLASSES)) and onsets.sum() > 0
    assert sorted(p.name for p in (val / "songs" / "audio").iterdir()) == ["val-0000.wav", "val-0001.wav"]
    assert (val / "songs" / "midi" / "val-0000.mid").is_file()
    kinds = json.loads((val / "songs" / "kinds.json").read_text())
    assert sorted(kinds) == ["val-0000", "val-0001"] and set(kinds.values()) <= {"drums", "band", "stem"}
    again = dataset.build_split(dataset.BuildConfig(tmp_path / "again", seed=7, workers=1), "val", 2, banks)
    np.testing.assert_array_equal(np.load(again / "onsets.npy"), onsets)


def test_label_midi_reads_back_as_evaluation_classes(tmp_path: Path) -> None:
    from app.evaluation.annotations import read_midi_onsets

    write_label_midi([Event(0.25, "kick", 100), Event(0.5, "tom_low", 80), Event(0.75, "ride", 70)], tmp_path / "x.mid")
    onsets = read_midi_onsets(tmp_path / "x.mid")
    assert {cls: [round(t, 3) for t in ts] for cls, ts in onsets.items()} == {"KD": [0.25], "TT": [0.5], "CY": [0.75]}


def test_thresholds_are_chosen_per_class_and_folded_into_the_bias() -> None:
    from app.training.model import build_model

    onsets = np.zeros((2, 100, len(CLASSES)), dtype=np.uint8)
    onsets[:, 20, 0] = onsets[:, 60, 0] = 1
    activations = np.full(onsets.shape, 0.1, dtype=np.float32)
    activations[:, 20, 0] = activations[:, 60, 0] = 0.7
    activations[:, 40, 0] = 0.5  # a false alarm between 0.5 and 0.7
    thresholds, counts = choose_thresholds(activations, onsets)
    assert 0.5 <= thresholds["kick"] < 0.7 and counts["kick"].f_measure == 1.0

    model = build_model(width=4, temporal=8)
    x = np.random.default_rng(0).standard_normal((1, 30, N_MELS)).astype(np.float32)
    before = np.asarray(model(x, training=False))
    fold_thresholds(model, dict.fromkeys(CLASSES, 0.2))
    after = np.asarray(model(x, training=False))
    np.testing.assert_array_equal(before > 0.2, after > 0.5)


def test_a_few_training_steps_lower_the_loss() -> None:
    import keras

    from app.training.model import build_model

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64, N_MELS)).astype(np.float32)
    onsets = (rng.random((8, 64, len(CLASSES))) < 0.03).astype(np.uint8)
    x[..., :10] += 2.0 * onsets[..., :1]  # learnable: kick onsets light up the low bands
    y = soft_targets(onsets)
    model = build_model(width=4, temporal=8)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=weighted_bce)
    history = model.fit(x, y, epochs=6, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert FPS == 100.0


_RENDER_ONE_SONG = """
import hashlib
import numpy as np
from app.pipeline.prediction.frame import CLASSES
from app.synth.kits import SynthKit
from app.training.arrangement import arrange
from app.training.band import render_band
from app.training.grooves import Event, Song
from app.training.instruments import synthetic_set
from app.training.render import render_drums
from app.training.samples import SampleBank, Variant

kit = SynthKit()
bank = SampleBank("two", {c: [Variant(c, [(0.0, g * kit.sample(c, 127))]) for g in (0.5, 1.0)] for c in CLASSES})
events = [Event(0.2 + 0.25 * k, c, 100) for k, c in enumerate(CLASSES)]
audio, _ = render_drums(events, bank, [bank], np.random.default_rng(7), 3.0)
rng = np.random.default_rng(11)
band = render_band(arrange(rng, Song([], 0.0, 0.0), 6.0), synthetic_set(), rng, 6 * 44_100, [])
print(hashlib.sha256(audio.tobytes()).hexdigest(), hashlib.sha256(band.tobytes()).hexdigest())
"""


def test_seeded_drums_and_band_render_the_same_in_every_process() -> None:
    # Python salts string hashes per process; a renderer that walks a set of names (drum classes, band
    # parts) while it draws random numbers would give each process (each benchmark run) other audio.
    import os
    import subprocess
    import sys

    digests = {
        subprocess.run(
            [sys.executable, "-c", _RENDER_ONE_SONG],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in (1, 2, 3, 4)
    }
    assert len(digests) == 1
