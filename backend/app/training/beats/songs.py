"""Drum parts with exact beat, downbeat and metre labels, for training the beat model.

A song is a list of bars, each in a metre of `recipe.METRES`, played over a tempo map (beat start
times) that may drift, wander and breathe; every stroke is placed at a position in beats and then
humanised, while the labels are the tempo map's beat times themselves, so they are exact. What the
generator writes, beyond the drum model's grooves (whose styles it reuses for 4/4 bars):

- metres 4/4, 3/4, 6/8 and 12/8 (6/8 and 12/8 count dotted quarters, their eighths played in threes),
  and now and then a section in the other metre of the same beat kind (4/4 ↔ 3/4, 6/8 ↔ 12/8);
- half-time and double-time feels of 4/4 grooves; swing;
- tempo drift (a steady rise or fall), a slow wander, and rubato (beat-to-beat breathing);
- count-ins (a bar of hi-hat clicks on the beats), pickups (a fill before the first downbeat);
- breaks (bars without drums, or a single crash), fills at phrase ends, some of them crossing the bar
  line and landing on the next bar's second beat.

This module has its own random stream: the drum model's data (`app.training.grooves`,
`app.training.dataset`) draws nothing differently because it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.pipeline.beats.recipe import COMPOUND_BPM, METRES, Metre
from app.training.grooves import STYLES, Event

Stroke = tuple[float, str, int]
"""(position in beats from the bar's start, class, velocity)."""

METRE_SHARES: dict[str, float] = {"4/4": 0.5, "3/4": 0.18, "6/8": 0.16, "12/8": 0.16}
SIMPLE_SONG_BPM = (60.0, 200.0)
COMPOUND_SONG_BPM = (COMPOUND_BPM[0] + 5.0, COMPOUND_BPM[1] - 10.0)
"""Dotted quarters per minute; inside the decoder's range with a margin for drift."""
_BY_NAME = {m.name: m for m in METRES}


@dataclass(frozen=True)
class BeatLabel:
    """One beat of the song: its exact time, its place in the bar (1 = downbeat) and its bar's metre."""

    time: float
    position: int
    metre: str


@dataclass(frozen=True)
class BeatSong:
    """A drum part and its beats. `beats` covers the whole song, breaks included."""

    events: list[Event]
    beats: list[BeatLabel]
    metre: str
    """The metre of the song's first bar."""
    bpm: float
    """The starting tempo in counted beats per minute (dotted quarters in 6/8 and 12/8)."""


def _v(rng: np.random.Generator, mean: float, spread: float = 10.0) -> int:
    return int(np.clip(round(rng.normal(mean, spread)), 1, 127))


def _keeper(rng: np.random.Generator) -> str:
    return str(rng.choice(["hihat_closed", "hihat_closed", "ride", "hihat_open"]))


def _waltz(rng: np.random.Generator) -> list[Stroke]:
    """3/4: a waltz (kick on 1, snare on 2 and 3), 3/4 rock (snare on 3 or 2) or a jazz waltz."""
    kind = int(rng.integers(3))
    keeper = _keeper(rng)
    if kind == 2:
        out: list[Stroke] = [(p, "ride", _v(rng, 85)) for p in (0.0, 1.0, 1 + 2 / 3, 2.0)]
        out += [(1.0, "hihat_closed", _v(rng, 60)), (0.0, "kick", _v(rng, 70, 15))]
        return out
    out = [(i * 0.5, keeper, _v(rng, 95 if i % 2 == 0 else 75)) for i in range(6)]
    out.append((0.0, "kick", _v(rng, 110)))
    if kind == 0:
        out += [(1.0, "snare", _v(rng, 90)), (2.0, "snare", _v(rng, 90))]
    else:
        out.append((float(rng.choice([1.0, 2.0])), "snare", _v(rng, 110)))
        out += [(p, "kick", _v(rng, 95)) for p in (1.5, 2.5) if rng.random() < 0.3]
    return out


def _compound(rng: np.random.Generator, beats: int) -> list[Stroke]:
    """6/8 or 12/8: every eighth on the hi-hat or ride (the triplet stream that makes it compound).

    6/8: kick on 1, snare on 2 (the fourth eighth), now and then a kick on the last eighth. 12/8 is
    not two bars of 6/8: its kick figure differs between beats 1 and 3 (a pickup eighth into 3, or
    3 and its last eighth), and a third of its bars accent beat 1 with an open hi-hat or a crash.
    """
    keeper = _keeper(rng)
    third = 1 / 3
    out: list[Stroke] = [(b + e * third, keeper, _v(rng, 95 if e == 0 else 72)) for b in range(beats) for e in range(3)]
    out.append((0.0, "kick", _v(rng, 110)))
    out += [(float(b), "snare", _v(rng, 110)) for b in range(1, beats, 2)]
    if beats == 2:
        out += [(1 + 2 * third, "kick", _v(rng, 90))] if rng.random() < 0.3 else []
        return out
    figure = int(rng.integers(3))
    out += [(2.0, "kick", _v(rng, 105))] if figure < 2 else []
    out += [(1 + 2 * third, "kick", _v(rng, 92))] if figure == 0 else []
    out += [(2 + 2 * third, "kick", _v(rng, 92))] if figure == 1 else []
    out += [(2 + third, "kick", _v(rng, 95)), (2 + 2 * third, "kick", _v(rng, 95))] if figure == 2 else []
    if rng.random() < 0.33:
        out.append((0.0, str(rng.choice(["hihat_open", "crash"])), _v(rng, 105)))
    out += [(b + third, "snare", _v(rng, 38, 8)) for b in range(beats) if rng.random() < 0.2]
    return out


def _on(position: float, step: float) -> bool:
    return abs(position / step - round(position / step)) < 1e-6


def _four_four(rng: np.random.Generator, feel: str) -> list[Stroke]:
    """A bar of one of the drum model's 4/4 styles, at its own feel: as written, at half time (each
    half bar played over the whole bar: the backbeat on 3) or at double time (the bar played twice)."""
    style = STYLES[str(rng.choice(list(STYLES)))]
    if feel == "half":
        return [(2 * p, cls, v) for p, cls, v in style(rng, False) if p < 2.0]
    if feel == "double":  # without the 16ths, which would become 32nds
        strokes = [(p, cls, v) for p, cls, v in style(rng, False) if _on(p, 0.5) or _on(p, 1 / 3)]
        return [(p / 2 + half, cls, v) for half in (0.0, 2.0) for p, cls, v in strokes]
    return style(rng, False)


def groove_bar(rng: np.random.Generator, metre: Metre, feel: str = "normal") -> list[Stroke]:
    """One bar of groove in `metre` (positions in counted beats)."""
    if metre.compound:
        return _compound(rng, metre.beats)
    if metre.beats == 3:
        return _waltz(rng)
    return _four_four(rng, feel)


def _fill(rng: np.random.Generator, start: float, end: float, metre: Metre) -> list[Stroke]:
    """Strokes from `start` to `end` (beats from the bar's start; past the bar line is allowed) moving
    from the snare down the toms, in 8ths, 16ths or triplets of the metre's beat."""
    steps = [1 / 3, 1 / 6] if metre.compound else [0.5, 0.25, 1 / 3]
    step = float(rng.choice(steps))
    voices = ["snare", "tom_high", "tom_mid", "tom_low"]
    n = max(1, round((end - start) / step))
    out: list[Stroke] = []
    for i in range(n):
        k = min(len(voices) - 1, max(0, int(i * len(voices) / n + rng.integers(-1, 2))))
        out.append((start + i * step, voices[k], _v(rng, 100, 15)))
        if rng.random() < 0.15:
            out.append((start + i * step, "kick", _v(rng, 100)))
    return out


@dataclass
class _Plan:
    """What the song does, drawn up front."""

    metres: list[Metre]
    """Per bar."""
    strokes: list[list[Stroke]]
    """Per bar, positions from the bar's start (may reach past its end: fills across the bar line)."""


def _other_metre(metre: Metre) -> Metre:
    return next(m for m in METRES if m.compound == metre.compound and m != metre)


def _feel(rng: np.random.Generator, metre: Metre, bpm: float) -> str:
    """Half time only at brisk counted tempi, double time only at slow ones, as bands play them."""
    if metre.name != "4/4":
        return "normal"
    if bpm > 110 and rng.random() < 0.15:
        return "half"
    if bpm < 115 and rng.random() < 0.15:
        return "double"
    return "normal"


def _plan(rng: np.random.Generator, metre: Metre, bars: int, bpm: float) -> _Plan:
    feel = _feel(rng, metre, bpm)
    phrase = int(rng.choice([2, 4, 4, 8]))
    metres = [metre] * bars
    if rng.random() < 0.08 and bars >= 8:  # a section in the other metre of the same beat
        first, length = int(rng.integers(2, bars - 5)), int(rng.integers(2, 5))
        metres[first : first + length] = [_other_metre(metre)] * length
    strokes: list[list[Stroke]] = [[] for _ in range(bars)]
    bar = 0
    if rng.random() < 0.15:  # a count-in: hi-hat clicks on the beats
        strokes[0] = [(float(b), "hihat_closed", _v(rng, 80)) for b in range(metres[0].beats)]
        bar = 1
    elif rng.random() < 0.3:  # a pickup: a fill into the first downbeat
        beats = metres[0].beats
        strokes[0] = _fill(rng, beats - float(rng.choice([1.0, 2.0] if beats > 2 else [1.0])), beats, metres[0])
        bar = 1
    crash = bar > 0 or rng.random() < 0.5
    breaks = rng.random() < 0.2
    tail = False  # the previous bar's fill runs into this bar's first beat
    for b in range(bar, bars):
        m = metres[b]
        if breaks and not tail and b > bar + 2 and rng.random() < 0.12:  # silence, or only a crash on 1
            strokes[b] = [(0.0, "crash", _v(rng, 110)), (0.0, "kick", _v(rng, 110))] if rng.random() < 0.4 else []
            crash = True
            continue
        part = groove_bar(rng, m, feel)
        if tail:
            part = [s for s in part if s[0] >= 1.0] + [(1.0, "crash", _v(rng, 112))]
        across = False
        if (b - bar) % phrase == phrase - 1 and rng.random() < 0.6:
            across = rng.random() < 0.3 and b + 1 < bars
            start = m.beats - float(rng.choice([1.0, 2.0] if m.beats > 2 else [1.0]))
            part = [s for s in part if s[0] < start] + _fill(rng, start, m.beats + (1.0 if across else 0.0), m)
            crash = not across
        elif crash and not tail:
            part += [(0.0, "crash", _v(rng, 112)), (0.0, "kick", _v(rng, 110))]
            crash = False
        tail = across
        strokes[b] = part
    return _Plan(metres, strokes)


def _tempo_map(rng: np.random.Generator, bpm: float, beats: int) -> np.ndarray:
    """Start times of `beats + 1` beats from 0: a steady tempo with drift, wander and rubato by chance."""
    k = np.arange(beats, dtype=np.float64)
    log_tempo = np.zeros(beats)
    if rng.random() < 0.4:  # drift: up to 12 % faster or slower by the end
        log_tempo += np.log1p(rng.uniform(-0.12, 0.12)) * k / max(beats - 1, 1)
    if rng.random() < 0.25:  # wander: a slow swell of a few percent
        log_tempo += rng.uniform(0.02, 0.06) * np.sin(2 * np.pi * k / rng.uniform(8, 32) + rng.uniform(0, 6.3))
    if rng.random() < 0.25:  # rubato: beat-to-beat breathing, correlated over a few beats
        noise = rng.normal(0.0, rng.uniform(0.01, 0.035), beats)
        for i in range(1, beats):
            noise[i] += 0.6 * noise[i - 1]
        log_tempo += noise
    if rng.random() < 0.1:  # a ritardando over the last 8 beats
        log_tempo -= np.clip((k - (beats - 8)) / 8, 0, 1) * rng.uniform(0.05, 0.25)
    periods = 60.0 / (bpm * np.exp(log_tempo))
    return np.concatenate([[0.0], np.cumsum(periods)])


def beat_song(
    rng: np.random.Generator, duration_s: float, *, metre: str | None = None, humanise: bool = True
) -> BeatSong:
    """A drum part at least `duration_s` long with every beat labelled; `metre` forces the first bar's
    metre, `humanise=False` plays every stroke exactly on its grid position (for tests)."""
    if metre is None:
        metre = str(rng.choice(list(METRE_SHARES), p=list(METRE_SHARES.values())))
    first = _BY_NAME[metre]
    low, high = COMPOUND_SONG_BPM if first.compound else SIMPLE_SONG_BPM
    bpm = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    bars = int(np.ceil(duration_s * bpm / 60.0 / first.beats)) + 3
    plan = _plan(rng, first, bars, bpm)
    starts = np.cumsum([0] + [m.beats for m in plan.metres])  # first beat of each bar
    times = _tempo_map(rng, bpm, int(starts[-1]))
    if rng.random() < 0.25:  # the recording starts mid-groove, somewhere in the first two bars
        shift = float(np.interp(rng.uniform(0, starts[2]), np.arange(len(times)), times))
    else:  # up to 2 s before the first stroke
        first_stroke = min(p for p, _, _ in plan.strokes[0])
        shift = float(np.interp(first_stroke, np.arange(len(times)), times)) - float(rng.uniform(0.1, 2.0))
    swing = humanise and metre == "4/4" and rng.random() < 0.15
    timing_sd = float(rng.uniform(0.002, 0.012)) if humanise else 0.0

    def when(beat: float) -> float:
        return float(np.interp(beat, np.arange(len(times)), times)) - shift

    events: dict[tuple[int, str], Event] = {}
    for b, bar_strokes in enumerate(plan.strokes):
        for pos, cls, velocity in bar_strokes:
            if swing and abs(pos * 2 - round(pos * 2)) < 1e-6 and round(pos * 2) % 2 == 1:
                pos += 1 / 6
            t = when(starts[b] + pos) + (float(rng.normal(0.0, timing_sd)) if timing_sd else 0.0)
            if 0.0 <= t < duration_s:
                events.setdefault((round(t * 100), cls), Event(t, cls, velocity))
    opened = {key[0] for key in events if key[1] == "hihat_open"}
    kept = sorted(
        (e for key, e in events.items() if not (key[1] == "hihat_closed" and key[0] in opened)),
        key=lambda e: (e.time, e.instrument),
    )
    beats = [
        BeatLabel(when(starts[b] + k), k + 1, m.name)
        for b, m in enumerate(plan.metres)
        for k in range(m.beats)
        if 0.0 <= when(starts[b] + k) < duration_s
    ]
    return BeatSong(kept, beats, metre, bpm)
