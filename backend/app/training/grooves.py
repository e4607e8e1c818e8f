"""Random drum parts across styles, humanised, as exact (time, class, velocity) labels.

Each song picks a style, a tempo (60–200 bpm) and a feel, then writes bar after bar: the style's
groove with random variations, a fill on the toms at the end of some phrases, a crash on the next
downbeat, ghost notes, open hi-hats. A share of songs are "scatter" songs, strokes of every class at
random times, so the network cannot learn a class only from where it sits in a groove (toms and
cymbals are rare in grooves, and real songs break patterns).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.pipeline.prediction.frame import CLASSES

Stroke = tuple[float, str, int]
"""(position in beats from the bar's start, class, velocity)."""


@dataclass(frozen=True)
class Event:
    """One labelled stroke of a song: onset in seconds, class, MIDI velocity 1–127."""

    time: float
    instrument: str
    velocity: int


def _v(rng: np.random.Generator, mean: float, spread: float = 10.0) -> int:
    return int(np.clip(round(rng.normal(mean, spread)), 1, 127))


def _timekeeper(rng: np.random.Generator) -> str:
    # The ride keeps time in a third of grooves: v2 missed rides that fell on kick and snare strokes.
    return str(rng.choice(["hihat_closed", "hihat_closed", "hihat_closed", "ride", "ride", "hihat_open"]))


def _rock(rng: np.random.Generator, swing: bool) -> list[Stroke]:
    keeper = _timekeeper(rng)
    step = 0.5 if rng.random() < 0.7 else 0.25
    out: list[Stroke] = [(i * step, keeper, _v(rng, 100 if (i * step) % 1 == 0 else 80)) for i in range(int(4 / step))]
    out += [(0.0, "kick", _v(rng, 110)), (2.0, "kick", _v(rng, 105))]
    out += [(p, "kick", _v(rng, 95)) for p in (0.5, 1.5, 2.5, 3.5, 3.75, 1.75) if rng.random() < 0.3]
    out += [(1.0, "snare", _v(rng, 110)), (3.0, "snare", _v(rng, 110))]
    if keeper == "hihat_closed" and rng.random() < 0.3:
        out.append((3.5, "hihat_open", _v(rng, 95)))
    return out


def _funk(rng: np.random.Generator, swing: bool) -> list[Stroke]:
    out: list[Stroke] = [
        (i * 0.25, "hihat_closed", _v(rng, 95 if i % 2 == 0 else 70)) for i in range(16) if rng.random() < 0.92
    ]
    if rng.random() < 0.6:
        pos = float(rng.choice([0.5, 1.5, 2.5, 3.5]))
        out = [s for s in out if s[0] != pos] + [(pos, "hihat_open", _v(rng, 95))]
    out += [(0.0, "kick", _v(rng, 112))]
    out += [(p, "kick", _v(rng, 95)) for p in (0.75, 1.5, 2.25, 2.5, 3.25) if rng.random() < 0.4]
    out += [(1.0, "snare", _v(rng, 112)), (3.0, "snare", _v(rng, 112))]
    out += [(p, "snare", _v(rng, 35, 8)) for p in (0.25, 1.75, 2.25, 2.75, 3.25, 3.75) if rng.random() < 0.35]
    return out


def _shuffle(rng: np.random.Generator, swing: bool) -> list[Stroke]:
    keeper = "ride" if rng.random() < 0.35 else "hihat_closed"
    out: list[Stroke] = []
    for beat in range(4):
        out.append((beat, keeper, _v(rng, 100)))
        out.append((beat + 2 / 3, keeper, _v(rng, 78)))
    out += [(0.0, "kick", _v(rng, 108)), (2.0, "kick", _v(rng, 104))]
    out += [(p, "kick", _v(rng, 90)) for p in (2 + 2 / 3, 1 + 2 / 3) if rng.random() < 0.3]
    out += [(1.0, "snare", _v(rng, 108)), (3.0, "snare", _v(rng, 108))]
    out += [(p, "snare", _v(rng, 35, 8)) for p in (0 + 2 / 3, 2 + 2 / 3, 3 + 2 / 3) if rng.random() < 0.3]
    return out


def _jazz(rng: np.random.Generator, swing: bool) -> list[Stroke]:
    out: list[Stroke] = [(p, "ride", _v(rng, 90 if p % 1 == 0 else 70)) for p in (0, 1, 1 + 2 / 3, 2, 3, 3 + 2 / 3)]
    out += [(1.0, "hihat_closed", _v(rng, 70)), (3.0, "hihat_closed", _v(rng, 70))]
    for beat in range(4):
        for third in (0, 2 / 3):
            r = rng.random()
            if r < 0.12:
                out.append((beat + third, "snare", _v(rng, 55, 15)))
            elif r < 0.18:
                out.append((beat + third, "kick", _v(rng, 70, 15)))
    return out


def _metal(rng: np.random.Generator, swing: bool) -> list[Stroke]:
    step = 0.25 if rng.random() < 0.7 else 0.5
    out: list[Stroke] = [(i * step, "kick", _v(rng, 105)) for i in range(int(4 / step))]
    out += [(1.0, "snare", _v(rng, 115)), (3.0, "snare", _v(rng, 115))]
    cymbal = str(rng.choice(["crash", "ride", "hihat_closed", "hihat_open"]))
    out += [(float(b), cymbal, _v(rng, 105)) for b in range(4)]
    return out


def _reggae(rng: np.random.Generator, swing: bool) -> list[Stroke]:
    out: list[Stroke] = [(i * 0.5, "hihat_closed", _v(rng, 85 if i % 2 == 0 else 70)) for i in range(8)]
    out += [(2.0, "kick", _v(rng, 108)), (2.0, "snare", _v(rng, 100))]
    if rng.random() < 0.4:
        out.append((1.5, "hihat_open", _v(rng, 85)))
    return out


def _disco(rng: np.random.Generator, swing: bool) -> list[Stroke]:
    out: list[Stroke] = [(float(b), "kick", _v(rng, 112)) for b in range(4)]
    out += [(b + 0.5, "hihat_open", _v(rng, 95)) for b in range(4)]
    out += [(float(b), "hihat_closed", _v(rng, 75)) for b in range(4) if rng.random() < 0.6]
    out += [(1.0, "snare", _v(rng, 110)), (3.0, "snare", _v(rng, 110))]
    return out


def _halftime(rng: np.random.Generator, swing: bool) -> list[Stroke]:
    keeper = _timekeeper(rng)
    out: list[Stroke] = [(i * 0.5, keeper, _v(rng, 90 if i % 2 == 0 else 75)) for i in range(8)]
    out += [(0.0, "kick", _v(rng, 112)), (2.0, "snare", _v(rng, 115))]
    out += [(p, "kick", _v(rng, 95)) for p in (0.75, 1.5, 3.5) if rng.random() < 0.4]
    if rng.random() < 0.5:
        out.append((float(rng.choice([0.0, 1.0, 3.0])), "ride", _v(rng, 100)))  # a bell accent
    return out


def _ride_groove(rng: np.random.Generator, swing: bool) -> list[Stroke]:
    """Ride-led rock and pop: the ride on every beat or 8th, so most ride strokes sound with a kick or snare.

    The hi-hat foot may close on 2 and 4, and some bars push a crash onto an off-beat.
    """
    step = float(rng.choice([0.5, 0.5, 1.0, 0.25]))
    n = int(4 / step)
    out: list[Stroke] = [(i * step, "ride", _v(rng, 95 if (i * step) % 1 == 0 else 75, 15)) for i in range(n)]
    out += [(0.0, "kick", _v(rng, 110)), (2.0, "kick", _v(rng, 105))]
    out += [(p, "kick", _v(rng, 95)) for p in (1.0, 2.5, 3.0, 3.5, 1.5) if rng.random() < 0.3]
    out += [(1.0, "snare", _v(rng, 110)), (3.0, "snare", _v(rng, 110))]
    out += [(p, "snare", _v(rng, 40, 10)) for p in (0.5, 1.5, 2.5, 3.5) if rng.random() < 0.15]
    if rng.random() < 0.4:
        out += [(1.0, "hihat_closed", _v(rng, 60)), (3.0, "hihat_closed", _v(rng, 60))]
    if rng.random() < 0.15:
        push = float(rng.choice([1.5, 2.5, 3.5]))
        out = [s for s in out if not (s[0] == push and s[1] == "ride")] + [(push, "crash", _v(rng, 110))]
    return out


def _tom_groove(rng: np.random.Generator, swing: bool) -> list[Stroke]:
    """Tom-led patterns (tribal, surf, floor-tom grooves): toms must not only appear in fills."""
    toms = ["tom_high", "tom_mid", "tom_low"]
    out: list[Stroke] = [(0.0, "kick", _v(rng, 108)), (2.0, "kick", _v(rng, 104))]
    for i in range(8):
        if rng.random() < 0.75:
            out.append((i * 0.5, str(rng.choice(toms)), _v(rng, 95, 15)))
    if rng.random() < 0.5:
        out += [(1.0, "snare", _v(rng, 108)), (3.0, "snare", _v(rng, 108))]
    return out


STYLES: dict[str, Callable[[np.random.Generator, bool], list[Stroke]]] = {
    "rock": _rock,
    "funk": _funk,
    "shuffle": _shuffle,
    "jazz": _jazz,
    "metal": _metal,
    "reggae": _reggae,
    "disco": _disco,
    "halftime": _halftime,
    "ride": _ride_groove,
    "toms": _tom_groove,
}


def _fill(rng: np.random.Generator, start_beat: float) -> list[Stroke]:
    """A fill over the last one or two beats of a phrase: 8ths, 16ths or triplets moving across toms and snare."""
    beats = float(rng.choice([1.0, 2.0, 2.0, 4.0]))
    step = float(rng.choice([0.25, 0.5, 1 / 3]))
    voices = ["snare", "tom_high", "tom_mid", "tom_low"]
    n = round(beats / step)
    out: list[Stroke] = []
    for i in range(n):
        idx = min(int(i * len(voices) / n + rng.integers(-1, 2)), len(voices) - 1)
        out.append((start_beat + 4 - beats + i * step, voices[max(idx, 0)], _v(rng, 100, 15)))
        if rng.random() < 0.15:
            out.append((start_beat + 4 - beats + i * step, "kick", _v(rng, 100)))
    return out


def _scatter(rng: np.random.Generator, duration_s: float) -> list[Event]:
    """Strokes of every class at random times, some together, at random velocities."""
    events: list[Event] = []
    t = float(rng.uniform(0.05, 0.4))
    while t < duration_s:
        for cls in rng.choice(CLASSES, size=int(rng.choice([1, 1, 1, 2, 2, 3])), replace=False):
            events.append(Event(t, str(cls), _v(rng, 90, 25)))
        t += float(rng.choice([rng.uniform(0.06, 0.2), rng.uniform(0.2, 0.8)]))
    return events


@dataclass(frozen=True)
class Song:
    """A generated drum part and the grid it was written on."""

    events: list[Event]
    bpm: float
    """0 for a scatter song, which has no tempo and no bars."""
    first_downbeat_s: float
    """Bar 1 beat 1; bars of four beats of 60/bpm seconds follow (the strokes are humanised, the grid is not)."""
    phrase_bars: int = 4
    """Fills may end bars whose number + 1 is a multiple of this (a band's sections change after them)."""
    change_bar: int = 0
    """The bar where the drummer changes style (0: no change, as in scatter songs)."""


def random_song(rng: np.random.Generator, duration_s: float) -> tuple[list[Event], float]:
    """A humanised drum part at least `duration_s` long, and its tempo in bpm."""
    song = random_song_on_grid(rng, duration_s)
    return song.events, song.bpm


def random_song_on_grid(rng: np.random.Generator, duration_s: float) -> Song:
    """`random_song`, with the grid it was written on (the same songs for the same `rng` state)."""
    if rng.random() < 0.12:
        return Song(_scatter(rng, duration_s), 0.0, 0.0)
    bpm = float(rng.uniform(60, 200))
    beat_s = 60.0 / bpm
    style_names = list(STYLES)
    style = STYLES[str(rng.choice(style_names))]
    second_style = STYLES[str(rng.choice(style_names))]  # songs change section
    phrase = int(rng.choice([2, 4]))
    swing = bool(rng.random() < 0.2)
    timing_sd = float(rng.uniform(0.002, 0.012))
    bar_s = 4 * beat_s
    bars = int(np.ceil(duration_s / bar_s)) + 1
    strokes: list[Stroke] = []
    crash_next = rng.random() < 0.7
    for bar in range(bars):
        write = style if bar < bars // 2 else second_style
        if bar % phrase == phrase - 1 and rng.random() < 0.6:
            bar_strokes = [s for s in write(rng, swing) if s[0] < 2.0 or (s[1] == "kick" and s[0] < 3.0)]
            fill = _fill(rng, 0.0)
            first_fill = min(p for p, _, _ in fill)
            bar_strokes = [s for s in bar_strokes if s[0] < first_fill] + fill
            crash_next = True
        else:
            bar_strokes = write(rng, swing)
        if crash_next or (bar == 0 and rng.random() < 0.5):
            bar_strokes.append((0.0, str(rng.choice(["crash", "crash", "crash", "ride"])), _v(rng, 112)))
            bar_strokes.append((0.0, "kick", _v(rng, 110)))
            crash_next = False
        strokes += [(bar * 4 + p, cls, v) for p, cls, v in bar_strokes]
    offset = float(rng.uniform(0.0, 1.0))
    events: dict[tuple[int, str], Event] = {}
    for pos, cls, velocity in strokes:
        if swing and abs(pos * 2 - round(pos * 2)) < 1e-6 and round(pos * 2) % 2 == 1:
            pos += 1 / 6  # swung 8ths: the "and" moves to the last triplet
        t = offset + pos * beat_s + float(rng.normal(0.0, timing_sd))
        if t < 0.0 or t >= duration_s:
            continue
        # One stroke per class per 10 ms: a groove and a fill may both write the same spot.
        events.setdefault((round(t * 100), cls), Event(t, cls, velocity))
    # Hi-hat open and closed at once is one foot: keep the open one.
    opened = {key[0] for key in events if key[1] == "hihat_open"}
    kept = [e for key, e in events.items() if not (key[1] == "hihat_closed" and key[0] in opened)]
    return Song(sorted(kept, key=lambda e: (e.time, e.instrument)), bpm, offset, phrase, bars // 2)
