"""The reference AnNOTEator CNN on grooves rendered with a sampled acoustic kit (hydrogen-drumkits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.config import Settings
from app.pipeline.constants import SAMPLE_RATE
from app.pipeline.hits import Hit
from app.pipeline.models import get_model_resolver
from app.pipeline.prediction.base import HitPredictor
from app.pipeline.prediction.factory import load_predictor
from app.synth.grooves import CRASH_AND_RIDE, FUNK_SIXTEENTHS, ROCK_BEAT, TOM_FILL, Groove, groove_from_pattern
from app.synth.kits import HydrogenKit, default_sample_kit, render_groove
from tests.conftest import ANNOTEATOR_H5

pytestmark = pytest.mark.integration

TOLERANCE_S = 0.02


@pytest.fixture(scope="module")
def model_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    if not ANNOTEATOR_H5.is_file():
        pytest.skip(f"the reference CNN is not at {ANNOTEATOR_H5} (../shared/models/annoteator beside the repository)")
    return Settings(MODEL_URI=ANNOTEATOR_H5.as_uri(), MODEL_CACHE_DIR=tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def predictor(model_settings: Settings) -> HitPredictor:
    return load_predictor(model_settings)


@pytest.fixture(scope="module")
def kit() -> HydrogenKit:
    return default_sample_kit()


def strokes_by_onset(groove: Groove) -> dict[float, set[str]]:
    """The written onsets, each with the instruments struck there."""
    onsets: dict[float, set[str]] = {}
    for event in groove.events:
        onsets.setdefault(round(event.time, 6), set()).add(event.instrument)
    return onsets


def labels_by_onset(hits: list[Hit], written: list[float]) -> tuple[dict[float, set[str]], int]:
    """Hit instruments grouped under the written onset each hit time matches (within ±20 ms, one to one),
    and the number of predicted onsets that match none."""
    predicted = sorted({h.time for h in hits})
    matched: dict[float, float] = {}
    for t in written:
        candidates = [p for p in predicted if abs(p - t) <= TOLERANCE_S and p not in matched]
        if candidates:
            matched[min(candidates, key=lambda p: abs(p - t))] = t
    labels: dict[float, set[str]] = {}
    for hit in hits:
        if hit.time in matched:
            labels.setdefault(matched[hit.time], set()).add(hit.instrument)
    return labels, len(predicted) - len(matched)


def test_the_model_is_fetched_once_into_the_cache_and_recognised(
    predictor: HitPredictor, model_settings: Settings
) -> None:
    resolver = get_model_resolver(model_settings)
    assert resolver.cache_path == model_settings.MODEL_CACHE_DIR / "complete_network" / "v1.0.0" / "complete_network.h5"
    assert resolver.cache_path.read_bytes() == ANNOTEATOR_H5.read_bytes()
    assert predictor.name == "annoteator-cnn"
    assert load_predictor(model_settings) is predictor
    assert resolver.get_keras_model() is resolver.get_keras_model()


def test_hits_land_within_20_ms_of_the_written_strokes(predictor: HitPredictor, kit: HydrogenKit) -> None:
    grooves = [
        groove_from_pattern(ROCK_BEAT, bpm=120, bars=2, start_s=0.5),
        groove_from_pattern(FUNK_SIXTEENTHS, bpm=96, bars=2, start_s=0.5),
        groove_from_pattern(TOM_FILL, bpm=140, bars=2, start_s=0.5),
        groove_from_pattern(CRASH_AND_RIDE, bpm=100, bars=2, start_s=0.5),
    ]
    written = found = extras = predicted = 0
    errors: list[float] = []
    for groove in grooves:
        hits = predictor.predict(render_groove(groove, kit), SAMPLE_RATE)
        onsets = sorted(strokes_by_onset(groove))
        labels, unmatched = labels_by_onset(hits, onsets)
        written += len(onsets)
        found += len(labels)
        extras += unmatched
        predicted += len({h.time for h in hits})
        errors += [min(abs(h.time - t) for h in hits) for t in labels]
        assert all(1 <= h.velocity <= 127 and 0.0 <= h.confidence <= 1.0 for h in hits)
    assert found >= 0.95 * written, f"found {found} of {written} written onsets"
    assert extras <= 0.03 * predicted, f"{extras} of {predicted} predicted onsets match no stroke"
    assert np.mean(errors) < 0.01


def test_kick_and_snare_are_told_apart(predictor: HitPredictor, kit: HydrogenKit) -> None:
    # Kicks at velocity 80 and one at 120: this kit's hardest kick layers also fire the CNN's snare
    # output (a weakness of the model, not of the onsets), so the extra snare is allowed only there.
    pattern = {"kick": [(0.0, 80), (2.0, 80), (2.5, 120)], "snare": [(1.0, 105), (3.0, 105)]}
    groove = groove_from_pattern(pattern, bpm=100, bars=2, start_s=0.5)
    hard_kicks = {round(e.time, 6) for e in groove.events if e.instrument == "kick" and e.velocity == 120}
    written = strokes_by_onset(groove)
    labels, extras = labels_by_onset(predictor.predict(render_groove(groove, kit), SAMPLE_RATE), sorted(written))
    assert set(labels) == set(written) and extras == 0
    for t, instruments in written.items():
        if instruments == {"kick"}:
            assert "kick" in labels[t], f"kick at {t:.3f}s labelled {labels[t]}"
            if t not in hard_kicks:
                assert labels[t] == {"kick"}, f"kick at {t:.3f}s labelled {labels[t]}"
        else:
            assert labels[t] == {"snare"}, f"snare at {t:.3f}s labelled {labels[t]}"


def test_a_track_at_another_sample_rate_gives_the_same_times(predictor: HitPredictor, kit: HydrogenKit) -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=110, bars=1, start_s=0.5)
    audio = render_groove(groove, kit, sr=48_000)
    labels, extras = labels_by_onset(predictor.predict(audio, 48_000), sorted(strokes_by_onset(groove)))
    assert len(labels) == len(strokes_by_onset(groove)) and extras == 0


def test_cache_folder_holds_only_the_model(model_settings: Settings, predictor: HitPredictor) -> None:
    files = [p for p in Path(model_settings.MODEL_CACHE_DIR).rglob("*") if p.is_file()]
    assert files == [get_model_resolver(model_settings).cache_path]
