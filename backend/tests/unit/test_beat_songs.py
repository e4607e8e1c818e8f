"""The beat model's song generator: exact labels, every metre, tempo inside the decoder's range."""

from __future__ import annotations

import numpy as np
import pytest

from app.pipeline.beats.recipe import COMPOUND_BPM, METRES, SIMPLE_BPM
from app.pipeline.prediction.frame import CLASSES
from app.training.beats.songs import BeatSong, beat_song

_BEATS = {m.name: m.beats for m in METRES}
_COMPOUND = {m.name: m.compound for m in METRES}


def songs(count: int, seconds: float = 20.0, **kwargs: object) -> list[BeatSong]:
    return [beat_song(np.random.default_rng([7, i]), seconds, **kwargs) for i in range(count)]  # type: ignore[arg-type]


def beat_coordinates(song: BeatSong) -> np.ndarray:
    """Each stroke's place in beats (label index + fraction), from the labelled beat times."""
    times = np.array([b.time for b in song.beats])
    return np.interp([e.time for e in song.events], times, np.arange(len(times)), left=np.nan, right=np.nan)


@pytest.mark.parametrize("seed", range(4))
def test_songs_are_reproducible_sorted_and_in_range(seed: int) -> None:
    song = beat_song(np.random.default_rng(seed), 15.0)
    again = beat_song(np.random.default_rng(seed), 15.0)
    assert song == again
    assert song.events and song.beats
    assert all(0.0 <= e.time < 15.0 and e.instrument in CLASSES and 1 <= e.velocity <= 127 for e in song.events)
    assert [e.time for e in song.events] == sorted(e.time for e in song.events)
    assert all(0.0 <= b.time < 15.0 for b in song.beats)
    assert np.all(np.diff([b.time for b in song.beats]) > 0)


@pytest.mark.parametrize("metre", [m.name for m in METRES])
def test_positions_count_the_bars_of_each_metre(metre: str) -> None:
    for song in songs(12, metre=metre):
        for a, b in zip(song.beats, song.beats[1:], strict=False):
            if a.metre == b.metre == metre:
                assert b.position == a.position % _BEATS[metre] + 1
            assert _COMPOUND[a.metre] == _COMPOUND[metre], "a metre change keeps the kind of beat"
        assert sum(b.metre == metre for b in song.beats) > len(song.beats) // 2


@pytest.mark.parametrize("metre", [m.name for m in METRES])
def test_unhumanised_strokes_sit_exactly_on_the_labelled_grid(metre: str) -> None:
    # Labels are the tempo map itself: an unhumanised stroke is an exact fraction of its labelled beat
    # (8ths, 16ths and triplets: twelfths; sextuplet fills in 6/8 and 12/8 too), drift or no drift.
    for song in songs(10, metre=metre, humanise=False):
        u = beat_coordinates(song)
        u = u[~np.isnan(u)]
        assert len(u) > 10
        assert np.allclose(u * 12, np.round(u * 12), atol=1e-6)


def test_compound_metres_play_the_triplet_stream_and_simple_ones_do_not_need_it() -> None:
    for song in songs(8, metre="12/8", humanise=False):
        keeper = [e for e in song.events if e.instrument in ("hihat_closed", "ride", "hihat_open")]
        times = np.array([b.time for b in song.beats])
        u = np.interp([e.time for e in keeper], times, np.arange(len(times)))
        thirds = np.round((u % 1) * 3) % 3
        assert {0, 1, 2} <= set(thirds.astype(int).tolist())


def test_tempo_stays_inside_the_decoders_range_and_drifts_in_some_songs() -> None:
    ratios = []
    for song in songs(60, seconds=30.0):
        periods = np.diff([b.time for b in song.beats])
        compound = _COMPOUND[song.metre]
        low, high = COMPOUND_BPM if compound else SIMPLE_BPM
        assert np.all((60 / periods >= low) & (60 / periods <= high)), song.metre
        ratios.append(float(np.median(periods[-4:]) / np.median(periods[:4])))
    assert max(abs(np.log(ratios))) > np.log(1.05), "some songs drift"
    assert sum(abs(np.log(r)) < 0.005 for r in ratios) > 10, "many are steady"


def test_songs_start_with_pickups_count_ins_and_silence() -> None:
    starts = []
    for song in songs(80):
        first_downbeat = next(b.time for b in song.beats if b.position == 1)
        starts.append((song.events[0].time < first_downbeat - 0.05, song.beats[0].time < song.events[0].time - 0.05))
    assert any(pickup for pickup, _ in starts), "some songs start before the first downbeat"
    assert any(silent for _, silent in starts), "some songs have beats before the drums come in"
