"""rhythm.transcribe on a beat grid it is given (the learned tracker's), instead of its own."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from app.core.config import Settings
from app.pipeline.beats.decode import BeatTrack
from app.pipeline.hits import Hit
from app.pipeline.notation import transcribe
from app.synth.grooves import ROCK_BEAT, Pattern, groove_from_pattern

SIX_EIGHT: Pattern = {
    "kick": [(0.0, 110)],
    "snare": [(1.0, 105)],
    "hihat_closed": [(b + e / 3, 85) for b in range(2) for e in range(3)],
}
"""6/8 counted in dotted quarters: two beats a bar, the hi-hat on every eighth."""


def hits_of(pattern: Pattern, *, bpm: float, bars: int, beats_per_bar: int, start_s: float = 0.5) -> list[Hit]:
    groove = groove_from_pattern(pattern, bpm=bpm, bars=bars, beats_per_bar=beats_per_bar, start_s=start_s)
    return [Hit(e.time, e.instrument, e.velocity, 0.9) for e in groove.events]


def track(times: np.ndarray, positions: list[int], metre: str) -> BeatTrack:
    return BeatTrack(np.asarray(times, dtype=float), np.asarray(positions), (metre,) * len(times))


def test_the_given_bar_phase_and_metre_are_written_not_the_trackers_own() -> None:
    # A rock beat whose given downbeats fall on the snare (beat 2 of the groove as played): the bars
    # must start there, although the kick and crash say otherwise to the hand-tuned tracker.
    hits = hits_of(ROCK_BEAT, bpm=120.0, bars=8, beats_per_bar=4)
    beats = 0.5 + 0.5 * np.arange(32)
    given = track(beats, [(k + 3) % 4 + 1 for k in range(32)], "4/4")
    assert given.positions[1] == 1
    own = transcribe(hits, duration_s=17.0)
    written = transcribe(hits, duration_s=17.0, beats=given)
    assert own.bars[0].start_s == pytest.approx(0.5, abs=0.01)
    assert written.time_signature == "4/4"
    assert written.tempo_bpm == 120.0
    assert written.bars[0].start_s == pytest.approx(-1.0, abs=0.01)  # the bar holding the first hit on its 4
    assert written.bars[1].start_s == pytest.approx(1.0, abs=0.01)
    first_kick = next(q for q in written.bars[0].hits if q.instrument == "kick")
    assert first_kick.offset == Fraction(3)


def test_a_6_8_track_is_written_in_6_8_eighths() -> None:
    hits = hits_of(SIX_EIGHT, bpm=60.0, bars=6, beats_per_bar=2)
    given = track(0.5 + np.arange(12), [k % 2 + 1 for k in range(12)], "6/8")
    written = transcribe(hits, duration_s=13.0, beats=given)
    assert written.time_signature == "6/8"
    assert written.tempo_bpm == 60.0  # dotted quarters a minute
    assert written.quarter_bpm == 90.0
    assert all(bar.subdivisions == (3, 3) and bar.time_signature == "6/8" for bar in written.bars[:6])
    assert {q.offset for q in written.bars[2].hits} == {Fraction(k, 2) for k in range(6)}


def test_hits_outside_the_given_beats_still_get_bars() -> None:
    hits = hits_of(ROCK_BEAT, bpm=100.0, bars=8, beats_per_bar=4)
    beats = 0.5 + 0.6 * np.arange(8, 24)  # only bars 3 to 6 were tracked
    written = transcribe(hits, duration_s=21.0, beats=track(beats, [k % 4 + 1 for k in range(8, 24)], "4/4"))
    assert written.bars[0].start_s == pytest.approx(0.5, abs=0.01)
    assert len(written.bars) >= 8
    assert sum(len(bar.hits) for bar in written.bars) == len({(round(h.time, 3), h.instrument) for h in hits})


def test_the_beat_tracker_is_a_setting_with_the_learned_one_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEAT_TRACKER", raising=False)
    assert Settings().BEAT_TRACKER == "learned"
    assert Settings(BEAT_TRACKER="classic").BEAT_TRACKER == "classic"
    with pytest.raises(ValueError, match="BEAT_TRACKER"):
        Settings(BEAT_TRACKER="madmom")
