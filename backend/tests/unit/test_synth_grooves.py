"""Grooves from one-bar patterns, with a fill ending each phrase."""

from __future__ import annotations

from app.synth.grooves import ROCK_BEAT, TOM_FILL, groove_from_pattern


def test_a_fill_replaces_the_last_bar_of_every_phrase() -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=120, bars=8, start_s=0.5, fill=TOM_FILL)
    bar_s = 2.0
    toms_by_bar = {int((e.time - 0.5) // bar_s) for e in groove.events if e.instrument.startswith("tom")}
    hats_by_bar = {int((e.time - 0.5) // bar_s) for e in groove.events if e.instrument == "hihat_closed"}
    assert toms_by_bar == {3, 7}
    assert hats_by_bar == {0, 1, 2, 4, 5, 6}
    assert [e.time for e in groove.events] == sorted(e.time for e in groove.events)


def test_without_a_fill_every_bar_is_the_pattern() -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=120, bars=3, fill_every=2)
    strokes = sum(len(s) for s in ROCK_BEAT.values())
    assert len(groove.events) == 3 * strokes and not any(e.instrument.startswith("tom") for e in groove.events)
