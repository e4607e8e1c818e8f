"""The beat model's song generator: exact labels, every metre, tempo inside the decoder's range; version 2's
looped grooves with fewer bar-line markers; version 3's half and double time only inside songs; version 1
unchanged."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from app.pipeline.beats.recipe import COMPOUND_BPM, METRES, SIMPLE_BPM
from app.pipeline.prediction.frame import CLASSES
from app.training.beats.songs import (
    _FEELS_V2,
    GENERATOR_VERSIONS,
    BeatSong,
    _bar_v2,
    _compound_v2,
    _feel,
    _offbeat_four,
    _second_bar,
    beat_song,
    groove_bar,
    playable_keeper,
)

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
        assert sum(b.metre == metre for b in song.beats) >= len(song.beats) // 2


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


@pytest.mark.parametrize("version", GENERATOR_VERSIONS)
def test_tempo_stays_inside_the_decoders_range_and_drifts_in_some_songs(version: int) -> None:
    ratios = []
    for song in songs(60, seconds=30.0, version=version):
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


def _fingerprint(version: int) -> str:
    digest = hashlib.sha256()
    for i in range(30):
        song = beat_song(np.random.default_rng([7, i]), 20.0, version=version)
        digest.update(repr([(round(e.time, 6), e.instrument, e.velocity) for e in song.events]).encode())
        digest.update(repr([(round(b.time, 6), b.position, b.metre) for b in song.beats]).encode())
    return digest.hexdigest()


def test_the_first_generator_still_draws_the_songs_its_figures_were_measured_on() -> None:
    # The held-out songs of bench_tempo --generator 1 must stay those the earlier figures came from.
    assert _fingerprint(1) == "2c2ad8595d3b0c6761eb63ecc0bd4ac0c4b8209c89fffead175d9a5b85582d4b"
    assert _fingerprint(2) != _fingerprint(1)


def test_an_unknown_generator_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version 4 does not exist: use 1, 2 or 3"):
        beat_song(np.random.default_rng(0), 10.0, version=4)


@pytest.mark.parametrize("metre", [m.name for m in METRES])
def test_second_generator_songs_are_reproducible_counted_and_on_the_labelled_grid(metre: str) -> None:
    drawn = songs(8, metre=metre, humanise=False, version=2)
    assert drawn == songs(8, metre=metre, humanise=False, version=2)
    for song in drawn:
        for a, b in zip(song.beats, song.beats[1:], strict=False):
            if a.metre == b.metre:
                assert b.position == a.position % _BEATS[a.metre] + 1
        u = beat_coordinates(song)
        u = u[~np.isnan(u)]
        assert len(u) > 10
        assert np.allclose(u * 12, np.round(u * 12), atol=1e-6)


def _marked_downbeats(song: BeatSong) -> tuple[int, int, int]:
    """(downbeats, those with a kick or crash on them, those with a crash) of an unhumanised song."""
    on: dict[float, set[str]] = {}
    for e in song.events:
        on.setdefault(round(e.time, 4), set()).add(e.instrument)
    downbeats = [on.get(round(b.time, 4), set()) for b in song.beats if b.position == 1]
    return len(downbeats), sum(bool({"kick", "crash"} & s) for s in downbeats), sum("crash" in s for s in downbeats)


def test_the_second_generator_marks_bar_lines_less_plainly_than_the_first() -> None:
    counts = {}
    for version in (1, 2):
        marks = [_marked_downbeats(s) for s in songs(120, humanise=False, version=version)]
        downbeats, marked, crashed = (sum(m[k] for m in marks) for k in range(3))
        unmarked_songs = sum(m[1] == 0 for m in marks)
        counts[version] = (marked / downbeats, crashed / downbeats, unmarked_songs)
    assert counts[2][0] < counts[1][0] - 0.1, counts
    assert counts[2][1] < counts[1][1] / 2, counts
    assert counts[1][2] == 0 and counts[2][2] >= 5, "some songs have neither kick nor crash on any 1"


def test_offbeat_grooves_never_kick_on_one_and_include_the_one_drop() -> None:
    bars = [_offbeat_four(np.random.default_rng(i)) for i in range(60)]
    assert all(not (p == 0.0 and cls == "kick") for bar in bars for p, cls, _ in bar)
    one_drops = [bar for bar in bars if not any(cls == "snare" and p in (1.0, 3.0) for p, cls, _ in bar)]
    assert one_drops and all(any(p == 2.0 and cls == "kick" for p, cls, _ in bar) for bar in one_drops)
    assert all(0.0 <= p < 4.0 for bar in bars for p, _, _ in bar)


@pytest.mark.parametrize("metre", ["4/4", "3/4", "6/8", "12/8"])
def test_two_bar_loops_keep_the_first_bar_and_move_its_kicks(metre: str) -> None:
    m = next(x for x in METRES if x.name == metre)
    grid = 1 / 3 if m.compound else 0.5
    for i in range(20):
        rng = np.random.default_rng(i)
        first = _bar_v2(rng, m, "normal")
        second = _second_bar(rng, first, m)
        kept = [s for s in first if s[1] != "kick"]
        assert second[: len(kept)] == kept
        added = second[len(kept) :]
        assert any(cls == "kick" for _, cls, _ in added)
        assert all(0.0 <= p < m.beats and abs(p / grid - round(p / grid)) < 1e-9 for p, _, _ in added)


def test_compound_bars_come_with_several_accent_patterns() -> None:
    twelve = [_compound_v2(np.random.default_rng(i), 4) for i in range(40)]
    snares = {tuple(sorted(p for p, cls, v in bar if cls == "snare" and v > 80)) for bar in twelve}
    assert (2.0,) in snares, "a 12/8 with the backbeat only on 3 (half time)"
    assert (1.0, 3.0) in snares
    shuffles = [bar for bar in twelve if not any(abs(p % 1 - 1 / 3) < 1e-9 and cls != "snare" for p, cls, _ in bar)]
    assert shuffles, "a 12/8 shuffle leaves out the middle eighth"
    six = [_compound_v2(np.random.default_rng(i), 2) for i in range(40)]
    assert any(not any(p == 0.0 and cls == "kick" for p, cls, _ in bar) for bar in six), "6/8 without kick on 1"


def test_the_second_generator_plays_half_and_double_time_and_more_compound_metres() -> None:
    drawn = songs(200, seconds=5.0, version=2)
    shares = {name: sum(s.metre == name for s in drawn) / len(drawn) for name in ("6/8", "12/8")}
    assert shares["6/8"] + shares["12/8"] > 0.3
    four = next(m for m in METRES if m.name == "4/4")
    feels = {_feel(np.random.default_rng(i), four, bpm, _FEELS_V2) for i in range(40) for bpm in (90.0, 150.0)}
    assert feels == {"normal", "half", "double"}


def test_the_third_generator_plays_half_and_double_time_only_as_stretches_of_a_song() -> None:
    drawn = songs(300, version=3)
    feels = {s.feel for s in drawn}
    assert "half" not in feels and "double" not in feels, "no song is in one of those feels throughout"
    stretched = [s for s in drawn if s.feel != "normal"]
    assert all("normal" in s.feel.split("+") and s.metre == "4/4" for s in stretched)
    assert any("half" in s.feel for s in stretched) and any("double" in s.feel for s in stretched)
    assert all(s.bpm > 110.0 for s in stretched if "half" in s.feel)
    assert all(s.bpm < 115.0 for s in stretched if "double" in s.feel)
    four = [s for s in drawn if s.metre == "4/4"]
    assert 0.2 < len(stretched) / len(four) < 0.45, "about 40 % of 4/4 songs draw a stretch (some not heard)"
    # Versions 1 and 2 label their whole-song feels, which version 3 leaves out.
    assert {"half", "double"} <= {s.feel for s in songs(300, version=1)}


def test_the_third_generator_draws_its_own_songs_reproducibly_with_exact_labels() -> None:
    drawn = songs(12, metre="4/4", humanise=False, version=3)
    assert drawn == songs(12, metre="4/4", humanise=False, version=3)
    assert _fingerprint(3) != _fingerprint(1)
    for song in drawn:
        u = beat_coordinates(song)
        u = u[~np.isnan(u)]
        assert len(u) > 10 and np.allclose(u * 12, np.round(u * 12), atol=1e-6)


def _repeated_bar_share(drawn: list[BeatSong]) -> float:
    """The share of bars (of unhumanised songs) whose strokes, as (place in the bar, drum), are those of
    the bar before but for one at most (a loop's repetition may leave a stroke out)."""
    repeats = pairs = 0
    for song in drawn:
        downbeats = np.array([i for i, b in enumerate(song.beats) if b.position == 1], dtype=float)
        bars: dict[int, set[tuple[float, str]]] = {}
        for u, e in zip(beat_coordinates(song), song.events, strict=True):
            k = int(np.searchsorted(downbeats, u + 1e-6)) - 1
            if 0 <= k < len(downbeats) - 1:
                bars.setdefault(k, set()).add((round(u - downbeats[k], 3), e.instrument))
        for k in range(1, len(downbeats) - 1):
            if k in bars and k - 1 in bars:
                pairs += 1
                repeats += len(bars[k] ^ bars[k - 1]) <= 1
    return repeats / pairs


def test_the_third_generator_loops_a_bar_of_groove_through_most_sections() -> None:
    looped = _repeated_bar_share(songs(40, metre="4/4", humanise=False, version=3))
    fresh = _repeated_bar_share(songs(40, metre="4/4", humanise=False, version=1))
    assert fresh < 0.05 and looped > 0.2, (fresh, looped)


def test_grooves_come_from_the_styles_asked_for() -> None:
    four = next(m for m in METRES if m.name == "4/4")
    for i in range(30):
        bar = groove_bar(np.random.default_rng(i), four, "normal", ("halftime",))
        assert {p for p, cls, _ in bar if cls == "snare"} == {2.0}, "half-time: the backbeat on 3 only"


def _keeper_sixteenths(song: BeatSong) -> int:
    """Hi-hat and ride strokes of an unhumanised song that fall between its 8ths and triplet 8ths."""
    u = beat_coordinates(song)
    keepers = np.array([e.instrument in ("hihat_closed", "hihat_open", "ride") for e in song.events])
    on_grid = np.isclose(u * 2, np.round(u * 2), atol=1e-6) | np.isclose(u * 3, np.round(u * 3), atol=1e-6)
    return int(np.sum(keepers & ~on_grid & ~np.isnan(u)))


def test_the_third_generator_keeps_no_sixteenth_note_hi_hat_at_brisk_tempi() -> None:
    drawn = songs(120, metre="4/4", humanise=False, version=3)
    fast = [s for s in drawn if s.bpm > 130.0]
    slow = [s for s in drawn if s.bpm <= 130.0]
    assert len(fast) > 20 and len(slow) > 20
    assert sum(_keeper_sixteenths(s) for s in fast) == 0
    assert sum(_keeper_sixteenths(s) > 0 for s in slow) > 5, "16th-note hi-hats stay at slower tempi"
    assert sum(_keeper_sixteenths(s) > 0 for s in songs(60, metre="4/4", humanise=False, version=1)) > 5


def test_a_keeper_at_a_brisk_tempo_plays_the_eighths_and_triplets_only() -> None:
    bar = [(i * 0.25, "hihat_closed", 90) for i in range(16)] + [(2 / 3, "ride", 80), (0.75, "kick", 100)]
    assert playable_keeper(bar, 130.0) == bar
    kept = playable_keeper(bar, 131.0)
    assert [p for p, cls, _ in kept if cls == "hihat_closed"] == [i * 0.5 for i in range(8)]
    assert (2 / 3, "ride", 80) in kept and (0.75, "kick", 100) in kept
