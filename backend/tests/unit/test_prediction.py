"""The predictor's pure parts: onsets, clips and features, output mapping, velocities, model kinds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest

from app.core.errors import ModelUnavailableError
from app.pipeline.constants import SAMPLE_RATE
from app.pipeline.prediction.annoteator import (
    CLIP_SAMPLES,
    INPUT_SHAPE,
    OUTPUT_INSTRUMENTS,
    PRE_ONSET_S,
    AnnoteatorPredictor,
    clip_features,
    extract_clips,
    outputs_to_hits,
)
from app.pipeline.prediction.base import prepare_audio
from app.pipeline.prediction.onsets import MIN_ONSET_DB, detect_onsets, peaks_to_velocities, refine_onsets
from app.synth.grooves import ROCK_BEAT, TOM_FILL, Groove, Pattern, groove_from_pattern
from app.synth.kits import SynthKit, render_groove

SR = SAMPLE_RATE


def written_onsets(groove: Groove) -> np.ndarray:
    """The distinct times at which the groove's strokes start."""
    return np.unique(np.round([e.time for e in groove.events], 6))


def match(expected: np.ndarray, found: np.ndarray, tolerance: float = 0.02) -> tuple[np.ndarray, int]:
    """Timing errors of the expected onsets found within `tolerance` (one-to-one), and the extras."""
    errors, used = [], set()
    for t in expected:
        order = [i for i in np.argsort(np.abs(found - t)) if i not in used and abs(found[i] - t) <= tolerance]
        if order:
            used.add(order[0])
            errors.append(found[order[0]] - t)
    return np.array(errors), len(found) - len(used)


# Onsets ------------------------------------------------------------------------------------------


# SynthKit's hi-hats and cymbals are plain noise, so a soft one right after a ringing snare or open
# hat barely changes the sound (FUNK_SIXTEENTHS loses a few); the sampled kit is tested for those in
# tests/integration/test_annoteator_predictor.py.
@pytest.mark.parametrize(("pattern", "bpm"), [(ROCK_BEAT, 72), (ROCK_BEAT, 160), (TOM_FILL, 180)])
def test_onsets_of_a_synth_groove_are_found_within_20_ms(pattern: Pattern, bpm: int) -> None:
    groove = groove_from_pattern(pattern, bpm=bpm, bars=2, start_s=0.5)
    expected = written_onsets(groove)
    errors, extras = match(expected, detect_onsets(render_groove(groove, SynthKit()), SR))
    assert len(errors) == len(expected), f"found {len(errors)} of {len(expected)} onsets"
    assert extras == 0
    assert np.max(np.abs(errors)) <= 0.02
    assert abs(float(np.mean(errors))) < 0.005  # no systematic lateness or earliness


def test_refinement_moves_a_late_detection_back_to_the_attack() -> None:
    audio = np.zeros(SR, dtype=np.float32)
    attack = 22_050
    audio[attack : attack + 2_000] = np.exp(-np.arange(2_000) / 400.0).astype(np.float32)
    (refined,) = refine_onsets(audio, SR, np.array([attack / SR + 0.008]))
    assert abs(refined - attack / SR) < 0.002


def test_silence_has_no_onsets() -> None:
    assert detect_onsets(np.zeros(SR, dtype=np.float32), SR).size == 0


def test_strokes_far_below_the_track_are_dropped_as_bleed() -> None:
    kit = SynthKit()
    audio = np.zeros(2 * SR, dtype=np.float32)
    loud, faint = kit.sample("snare", 120), kit.sample("snare", 120) * 10 ** ((MIN_ONSET_DB - 10) / 20)
    audio[SR // 4 : SR // 4 + len(loud)] += loud
    audio[5 * SR // 4 : 5 * SR // 4 + len(faint)] += faint
    onsets = detect_onsets(audio, SR)
    assert len(onsets) == 1 and abs(onsets[0] - 0.25) < 0.02


# Velocities --------------------------------------------------------------------------------------


def test_velocities_span_1_to_127_on_a_log_scale() -> None:
    reference = 0.8
    db = np.array([0.0, -10.0, -20.0, MIN_ONSET_DB, MIN_ONSET_DB - 20, 6.0])
    velocities = peaks_to_velocities(reference * 10 ** (db / 20), reference)
    assert velocities.tolist()[:4] == [127, 96, 64, 1]
    assert velocities[4] == 1  # quieter than the floor
    assert velocities[5] == 127  # louder than the reference (cannot happen with the track peak, but safe)
    assert peaks_to_velocities(np.array([0.0]), reference).tolist() == [1]
    assert np.all(np.diff(peaks_to_velocities(np.linspace(0.01, 0.8, 50), reference)) >= 0)


# Clips and features ------------------------------------------------------------------------------


def test_clips_are_8820_samples_starting_20_ms_before_the_onset() -> None:
    audio = np.arange(3 * SR, dtype=np.float32)
    clips = extract_clips(audio, np.array([1.0, 0.0, 2.95]))
    assert clips.shape == (3, CLIP_SAMPLES) and clips.dtype == np.float32
    start = SR - round(PRE_ONSET_S * SR)
    np.testing.assert_array_equal(clips[0], audio[start : start + CLIP_SAMPLES])
    # At the edges the clip is padded with silence, so the onset stays 20 ms into the clip.
    pre = round(PRE_ONSET_S * SR)
    assert not clips[1, :pre].any() and clips[1, pre] == 0.0 and clips[1, pre + 1] == 1.0
    tail = len(audio) - (round(2.95 * SR) - pre)
    np.testing.assert_array_equal(clips[2, :tail], audio[-tail:])
    assert not clips[2, tail:].any()


def test_features_have_the_networks_input_shape() -> None:
    clips = np.random.default_rng(0).standard_normal((5, CLIP_SAMPLES)).astype(np.float32)
    features = clip_features(clips)
    assert features.shape == (5, *INPUT_SHAPE) == (5, 128, 18, 1)
    assert features.dtype == np.float32
    assert np.all(features >= 0)  # power, not dB, as the network was trained on


def test_prepare_audio_resamples_and_refuses_stereo() -> None:
    assert len(prepare_audio(np.zeros(22_050, dtype=np.float32), 22_050, SR)) == SR
    with pytest.raises(ValueError, match="mono"):
        prepare_audio(np.zeros((2, 100), dtype=np.float32), SR, SR)


# Outputs → hits ----------------------------------------------------------------------------------


def test_outputs_map_in_the_networks_order_to_drumscribe_instruments() -> None:
    assert OUTPUT_INSTRUMENTS == ("snare", "hihat_closed", "kick", "ride", "tom_mid", "crash")


def test_every_output_above_threshold_becomes_a_hit() -> None:
    probabilities = np.array([[0.1, 0.9, 0.8, 0.0, 0.0, 0.2]])
    hits = outputs_to_hits(np.array([1.25]), probabilities, np.array([100]))
    assert [(h.time, h.instrument, h.velocity) for h in hits] == [(1.25, "hihat_closed", 100), (1.25, "kick", 100)]
    assert [h.confidence for h in hits] == pytest.approx([0.9, 0.8])


def test_the_most_likely_output_is_kept_when_none_fires() -> None:
    probabilities = np.array([[0.1, 0.2, 0.05, 0.3, 0.45, 0.5]])  # exactly 0.5 does not fire, as upstream
    (hit,) = outputs_to_hits(np.array([0.5]), probabilities, np.array([64]))
    assert (hit.instrument, hit.confidence) == ("crash", pytest.approx(0.5))


@dataclass
class FakeModel:
    """Stands in for the CNN: records what it is fed and answers fixed probabilities."""

    probabilities: list[float]
    batches: list[np.ndarray] = field(default_factory=list)

    def predict(self, features: np.ndarray, **_: object) -> np.ndarray:
        self.batches.append(features)
        return np.tile(np.array(self.probabilities, dtype=np.float32), (len(features), 1))


def test_predictor_feeds_all_clips_in_one_batch_and_reports_progress() -> None:
    groove = groove_from_pattern({"kick": [(0.0, 110), (1.0, 70)]}, bpm=120, bars=2, start_s=0.5)
    model = FakeModel([0.0, 0.0, 0.9, 0.0, 0.0, 0.0])
    progress: list[float] = []
    hits = AnnoteatorPredictor(model).predict(render_groove(groove, SynthKit()), SR, progress.append)
    assert len(model.batches) == 1 and model.batches[0].shape == (4, *INPUT_SHAPE)
    assert [h.instrument for h in hits] == ["kick"] * 4
    errors, extras = match(written_onsets(groove), np.array([h.time for h in hits]))
    assert len(errors) == 4 and extras == 0
    # Loud strokes (110) outrank soft ones (70).
    assert hits[0].velocity > hits[1].velocity and hits[2].velocity > hits[3].velocity
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_predictor_returns_nothing_for_silence_without_running_the_model() -> None:
    model = FakeModel([1.0] * 6)
    assert AnnoteatorPredictor(model).predict(np.zeros(SR, dtype=np.float32), SR) == []
    assert model.batches == []


# Model kinds -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_models() -> Iterator[dict[str, object]]:
    """Tiny untrained models: one shaped like the AnNOTEator CNN, one like a frame-level model."""
    import keras

    def build(input_shape: tuple[int, ...], outputs: int) -> keras.Model:
        inputs = keras.Input(shape=input_shape)
        return keras.Model(inputs, keras.layers.Dense(outputs, activation="sigmoid")(keras.layers.Flatten()(inputs)))

    yield {"annoteator": build(INPUT_SHAPE, 6), "frames": build((100, 229), 9)}


def test_auto_recognises_the_annoteator_shape(keras_models: dict[str, object]) -> None:
    from app.pipeline.prediction.factory import build_predictor

    predictor = build_predictor(keras_models["annoteator"])
    assert isinstance(predictor, AnnoteatorPredictor) and predictor.name == "annoteator-cnn"


def test_an_unknown_model_shape_is_refused_naming_the_supported_kinds(keras_models: dict[str, object]) -> None:
    from app.pipeline.prediction.factory import build_predictor

    with pytest.raises(ModelUnavailableError, match=r"matches no supported model kind.*annoteator-cnn") as caught:
        build_predictor(keras_models["frames"], source="the model at /cache/x.h5")
    assert "the model at /cache/x.h5" in str(caught.value) and "(None, 100, 229)" in str(caught.value)
    with pytest.raises(ModelUnavailableError, match="matches no supported model kind"):
        build_predictor(keras_models["frames"], kind="annoteator-cnn")


def test_an_unknown_model_kind_setting_is_refused(keras_models: dict[str, object]) -> None:
    from app.pipeline.prediction.factory import build_predictor

    with pytest.raises(ModelUnavailableError, match=r"MODEL_KIND='crnn'.*auto.*annoteator-cnn"):
        build_predictor(keras_models["annoteator"], kind="crnn")
