"""Grooves: drum patterns on a grid, turned into timed events."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GrooveEvent:
    """One stroke of a groove: time in seconds, instrument (DrumScribe vocabulary), velocity 1–127."""

    time: float
    instrument: str
    velocity: int


@dataclass
class Groove:
    """A timed list of strokes with the tempo and metre it was written in."""

    bpm: float
    beats_per_bar: int
    bars: int
    events: list[GrooveEvent] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Length of the written bars in seconds."""
        return self.bars * self.beats_per_bar * 60.0 / self.bpm

    @property
    def time_signature(self) -> str:
        """The metre as 'N/4'."""
        return f"{self.beats_per_bar}/4"


Pattern = dict[str, list[tuple[float, int]]]
"""Per instrument: (position in beats from the bar's start, velocity)."""


def groove_from_pattern(
    pattern: Pattern,
    *,
    bpm: float,
    bars: int,
    beats_per_bar: int = 4,
    start_s: float = 0.0,
    fill: Pattern | None = None,
    fill_every: int = 4,
) -> Groove:
    """Repeat a one-bar pattern `bars` times at `bpm`, starting at `start_s` seconds; with `fill`, that bar
    is played instead of every `fill_every`-th one (the last bar of each phrase)."""
    beat_s = 60.0 / bpm

    def bar_pattern(bar: int) -> Pattern:
        return fill if fill is not None and bar % fill_every == fill_every - 1 else pattern

    events = [
        GrooveEvent(start_s + (bar * beats_per_bar + pos) * beat_s, instrument, velocity)
        for bar in range(bars)
        for instrument, strokes in bar_pattern(bar).items()
        for pos, velocity in strokes
    ]
    events.sort(key=lambda e: (e.time, e.instrument))
    return Groove(bpm=bpm, beats_per_bar=beats_per_bar, bars=bars, events=events)


ROCK_BEAT: Pattern = {
    "kick": [(0.0, 110), (2.0, 110), (2.5, 95)],
    "snare": [(1.0, 105), (3.0, 105)],
    "hihat_closed": [(i * 0.5, 80 if i % 2 else 95) for i in range(8)],
}
"""Straight eighths on the hi-hat, kick on 1 and 3 (and the 'and' of 3), snare on 2 and 4."""

FUNK_SIXTEENTHS: Pattern = {
    "kick": [(0.0, 115), (0.75, 90), (2.5, 105)],
    "snare": [(1.0, 110), (1.75, 45), (3.0, 110), (3.25, 45)],
    "hihat_closed": [(i * 0.25, 85 if i % 2 else 100) for i in range(16) if i != 14],
    "hihat_open": [(3.5, 95)],
}
"""Sixteenth hi-hats with one opened, ghost notes on the snare."""

TOM_FILL: Pattern = {
    "snare": [(0.0, 100), (0.5, 100)],
    "tom_high": [(1.0, 100), (1.5, 100)],
    "tom_mid": [(2.0, 100), (2.5, 100)],
    "tom_low": [(3.0, 105), (3.5, 105)],
}
"""A bar of eighth notes moving from the snare down the toms."""

CRASH_AND_RIDE: Pattern = {
    "kick": [(0.0, 115), (2.0, 110)],
    "crash": [(0.0, 115)],
    "snare": [(1.0, 105), (3.0, 105)],
    "ride": [(1.0, 90), (2.0, 90), (3.0, 90), (1.5, 80), (2.5, 80), (3.5, 80)],
}
"""A crash on the downbeat, then quarter-and-eighth ride."""
