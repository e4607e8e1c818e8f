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

Version 2 (`beat_song(..., version=2)`, `--generator 2` of the training script) marks bar lines less
plainly.
Version 1 drew a fresh groove every bar and crashed on most section starts, so the bar line could be
read off the pattern change and the kick or crash on 1. Version 2 plays a song as sections of a looped
groove of one bar or two (the second with its kicks moved), varied only in velocities and a dropped
stroke, so a bar line is heard in where the loop repeats, in fills and short pickups at phrase ends and
in where a section changes its groove or its feel; 4/4 grooves without a kick on 1 (one drop, displaced
and pushed kicks) and 6/8 and 12/8 with more accent patterns (shuffle, backbeat on 3, accents in twos);
a crash on every section start in 30 % of songs, on some in 40 %, never in 30 % (and never in half of
the songs whose groove has no kick on 1); half and double time more often; more 6/8 and 12/8. A model
trained on version 2 alone (3,000 songs, 25 epochs) was worse than the bundled one on version 1's
held-out songs and only a little better on version 2's (backend/MODEL_CARD.md, "Generator version 2"),
so version 1 stayed the default until version 3, and it is kept draw for draw (`scripts/bench_tempo.py
--generator 1`, the benchmark's default).

Version 3 is version 1 (its bar-line markers, fills, metres and tempi) with three changes, all about
reading a real song's tempo from a repeated groove:
- half-time and double-time feels only as stretches of two to four bars inside songs of normal feel.
  Versions 1 and 2 also play whole songs in such a feel and label them at the counted tempo, but a
  whole song in a half-time feel sounds exactly like a groove at half that tempo (8th-note hi-hats and
  the backbeat on 3 at 160 bpm are 16ths with the backbeat on 2 and 4 at 80), which charts write at the
  slower tempo; inside a song the bars around the stretch say which tempo is counted;
- for the same reason the styles with the backbeat only on 3 (half-time, one-drop) are a song's groove
  only at slow tempi, and above 130 bpm the hi-hat or ride keeps 8ths, never 16ths (which one hand
  cannot sustain there, and which sound like 8ths at half the tempo);
- songs come in sections of 4 or 8 bars, 70 % of them one bar of groove looped (with new velocities and
  now and then a stroke left out), as real drummers play: version 1's fresh groove every bar never
  plays one pattern long enough to teach a tempo from it alone.

This module has its own random stream: the drum model's data (`app.training.grooves`,
`app.training.dataset`) draws nothing differently because it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

import numpy as np

from app.pipeline.beats.recipe import COMPOUND_BPM, METRES, SIMPLE_BPM, Metre
from app.training.grooves import STYLES, Event

Stroke = tuple[float, str, int]
"""(position in beats from the bar's start, class, velocity)."""

GENERATOR_VERSIONS = (1, 2, 3)
GENERATOR_VERSION = 3
"""The generator `beat_song` draws from unless told: 3, the one the bundled beat model (its version 3)
was trained on (1: the bundled model's version 2; 2: looped grooves with fewer bar-line markers, not
shipped: the module docstring says why)."""
METRE_SHARES: dict[str, float] = {"4/4": 0.5, "3/4": 0.18, "6/8": 0.16, "12/8": 0.16}
METRE_SHARES_V2: dict[str, float] = {"4/4": 0.44, "3/4": 0.16, "6/8": 0.2, "12/8": 0.2}
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
    feel: str = "normal"
    """The feels the song's 4/4 bars are played in, in order, joined by "+": "normal", "half",
    "double", "normal+half", "half+normal+double", ..."""


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


def _four_four(rng: np.random.Generator, feel: str, styles: Sequence[str] = tuple(STYLES)) -> list[Stroke]:
    """A bar of one of the drum model's 4/4 `styles`, at its own feel: as written, at half time (each
    half bar played over the whole bar: the backbeat on 3) or at double time (the bar played twice)."""
    style = STYLES[str(rng.choice(list(styles)))]
    if feel == "half":
        return [(2 * p, cls, v) for p, cls, v in style(rng, False) if p < 2.0]
    if feel == "double":  # without the 16ths, which would become 32nds
        strokes = [(p, cls, v) for p, cls, v in style(rng, False) if _on(p, 0.5) or _on(p, 1 / 3)]
        return [(p / 2 + half, cls, v) for half in (0.0, 2.0) for p, cls, v in strokes]
    return style(rng, False)


def groove_bar(
    rng: np.random.Generator, metre: Metre, feel: str = "normal", styles: Sequence[str] = tuple(STYLES)
) -> list[Stroke]:
    """One bar of groove in `metre` (positions in counted beats; 4/4 from one of `styles`)."""
    if metre.compound:
        return _compound(rng, metre.beats)
    if metre.beats == 3:
        return _waltz(rng)
    return _four_four(rng, feel, styles)


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
    feels: list[str]
    """Per bar: "normal", "half" or "double" (always "normal" outside 4/4)."""


def _other_metre(metre: Metre) -> Metre:
    return next(m for m in METRES if m.compound == metre.compound and m != metre)


@dataclass(frozen=True)
class _FeelOdds:
    """How often a 4/4 song is played in a half-time or double-time feel, and from which tempi."""

    share: float
    half_above_bpm: float
    double_below_bpm: float


_FEELS = _FeelOdds(share=0.15, half_above_bpm=110.0, double_below_bpm=115.0)
_FEELS_V2 = _FeelOdds(share=0.25, half_above_bpm=105.0, double_below_bpm=120.0)
"""Version 2 plays them more often: a quarter of brisk 4/4 songs at half time, a quarter of slow ones
at double."""


def _feel(rng: np.random.Generator, metre: Metre, bpm: float, odds: _FeelOdds = _FEELS) -> str:
    """Half time only at brisk counted tempi, double time only at slow ones, as bands play them."""
    if metre.name != "4/4":
        return "normal"
    if bpm > odds.half_above_bpm and rng.random() < odds.share:
        return "half"
    if bpm < odds.double_below_bpm and rng.random() < odds.share:
        return "double"
    return "normal"


_FEEL_SECTION_SHARE = 0.4
"""Version 3: the share of 4/4 songs with a stretch of bars in a half-time or double-time feel."""
_LOOP_SHARE = 0.7
"""Version 3: the share of sections that repeat one bar of groove (the others draw a fresh one each bar)."""
_SIXTEENTH_KEEPER_MAX_BPM = 130.0
"""Version 3: above this tempo the hand on the hi-hat or ride keeps 8ths, not 16ths (8.7 strokes a
second is about what one hand sustains). A 16th-note hi-hat at 170 bpm sounds exactly like an 8th-note
one at 85, which is how a drummer would count it, so version 3 never labels one at the fast tempo."""
_KEEPERS = ("hihat_closed", "hihat_open", "ride")
_BACKBEAT_ON_THREE = ("halftime", "reggae")
"""4/4 styles with the backbeat only on 3: played alone at a brisk tempo they are, to the ear, a groove
at half that tempo, so version 3 plays them as a song's groove only at slow tempi."""


def playable_keeper(strokes: list[Stroke], bpm: float) -> list[Stroke]:
    """`strokes` as a drummer plays them at `bpm` counted beats per minute: above
    `_SIXTEENTH_KEEPER_MAX_BPM` the hi-hat and ride strokes between the 8ths (and triplet 8ths) are
    left out."""
    if bpm <= _SIXTEENTH_KEEPER_MAX_BPM:
        return strokes
    return [s for s in strokes if s[1] not in _KEEPERS or _on(s[0], 0.5) or _on(s[0], 1 / 3)]


def _section_feels(rng: np.random.Generator, metres: list[Metre], bpm: float) -> list[str]:
    """Version 3's feels: the song in its normal feel, and in 40 % of 4/4 songs two to four bars in a
    half-time feel (at brisk tempi) or a double-time one (at slow tempi), so the bars around them say
    which tempo is counted. A song played in one feel throughout is simply a groove at the tempo heard
    (a 16th-note groove at 80 bpm is not a half-time feel at 160), so none is labelled otherwise."""
    feels = ["normal"] * len(metres)
    options = ["half"] if bpm > _FEELS.half_above_bpm else []
    options += ["double"] if bpm < _FEELS.double_below_bpm else []
    if metres[0].name != "4/4" or not options or rng.random() >= _FEEL_SECTION_SHARE:
        return feels
    length = int(rng.integers(2, 5))
    first = int(rng.integers(0, len(metres) - length))
    feel = str(rng.choice(options))
    for b in range(first, first + length):
        feels[b] = feel if metres[b].name == "4/4" else "normal"
    return feels


def _plan(rng: np.random.Generator, metre: Metre, bars: int, bpm: float, *, version3: bool = False) -> _Plan:
    """Version 1's song (a fresh groove every bar), or version 3's (module docstring): sections of 4
    or 8 bars, most of them a looped bar of groove; half- and double-time feels only as stretches
    inside a song of normal feel; grooves with the backbeat on 3 only at slow tempi."""
    feel = "normal" if version3 else _feel(rng, metre, bpm)
    phrase = int(rng.choice([2, 4, 4, 8]))
    metres = [metre] * bars
    if rng.random() < 0.08 and bars >= 8:  # a section in the other metre of the same beat
        first, length = int(rng.integers(2, bars - 5)), int(rng.integers(2, 5))
        metres[first : first + length] = [_other_metre(metre)] * length
    feels = _section_feels(rng, metres, bpm) if version3 else [feel if m.name == "4/4" else "normal" for m in metres]
    styles = tuple(STYLES)
    if version3 and bpm > _FEELS.half_above_bpm:
        styles = tuple(name for name in STYLES if name not in _BACKBEAT_ON_THREE)
    section = int(rng.choice([4, 8])) if version3 else 0
    loops: dict[tuple[str, str], list[Stroke]] = {}
    looping = False
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
        if section and (b - bar) % section == 0:  # version 3: a new section, looped or not
            loops, looping = {}, rng.random() < _LOOP_SHARE
        if breaks and not tail and b > bar + 2 and rng.random() < 0.12:  # silence, or only a crash on 1
            strokes[b] = [(0.0, "crash", _v(rng, 110)), (0.0, "kick", _v(rng, 110))] if rng.random() < 0.4 else []
            crash = True
            continue
        if looping:
            key = (m.name, feels[b])
            if key not in loops:
                loops[key] = playable_keeper(groove_bar(rng, m, feels[b], styles), bpm)
            part = _vary(rng, loops[key])
        else:
            part = groove_bar(rng, m, feels[b], styles)
            part = playable_keeper(part, bpm) if version3 else part
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
    return _Plan(metres, strokes, feels)


# --- Version 2: looped grooves, bar lines marked less plainly --------------------------------------


def _offbeat_four(rng: np.random.Generator) -> list[Stroke]:
    """A 4/4 bar whose kick is not on beat 1: a one-drop (kick and snare or rim only on 3), a
    displaced kick (on the and of 1, or on 2), or a pushed one (the kick anticipates 1 on the last
    16th of the bar before and 3 on the and of 2)."""
    keeper = _keeper(rng)
    kind = int(rng.integers(3))
    step = 0.5 if rng.random() < 0.7 else 0.25
    out: list[Stroke] = [(i * step, keeper, _v(rng, 88 if _on(i * step, 1.0) else 70)) for i in range(round(4 / step))]
    if kind == 0:  # one drop: nothing on 1
        out += [(2.0, "kick", _v(rng, 108)), (2.0, str(rng.choice(["snare", "snare", "tom_high"])), _v(rng, 100))]
        out += [(p, "hihat_open", _v(rng, 85)) for p in (1.5, 3.5) if rng.random() < 0.3]
        return out
    out += [(1.0, "snare", _v(rng, 108)), (3.0, "snare", _v(rng, 108))]
    if kind == 1:
        first = [0.5, 0.75, 1.5][int(rng.integers(3))]
        out += [(first, "kick", _v(rng, 105)), (2.5, "kick", _v(rng, 100))]
        out += [(2.0, "kick", _v(rng, 95))] if rng.random() < 0.4 else []
    else:
        out += [(1.5, "kick", _v(rng, 105)), (3.75, "kick", _v(rng, 100))]
        out += [(2.75, "kick", _v(rng, 90))] if rng.random() < 0.5 else []
    return out


def _compound_v2(rng: np.random.Generator, beats: int) -> list[Stroke]:
    """6/8 or 12/8 with more accent patterns than `_compound` (which a third of the bars still play):
    a 12/8 blues shuffle (the keeper on the first and last eighth of each beat, backbeat on 2 and 4),
    a 12/8 with the backbeat only on 3 (half time), a 6/8 whose snare comes on the last eighth and whose
    kick moves off 1, or the eighths accented in twos across the beats (3 against 2)."""
    kind = int(rng.integers(4))
    if kind == 0:
        return _compound(rng, beats)
    keeper = _keeper(rng)
    third = 1 / 3
    if kind == 1:  # the shuffle: first and last eighth of each beat
        out: list[Stroke] = [
            (b + e * third, keeper, _v(rng, 95 if e == 0 else 70)) for b in range(beats) for e in (0, 2)
        ]
        out += [(0.0, "kick", _v(rng, 108))] + [(float(b), "snare", _v(rng, 108)) for b in range(1, beats, 2)]
        out += [(2.0, "kick", _v(rng, 100))] if beats == 4 and rng.random() < 0.7 else []
        out += [(beats - third, "kick", _v(rng, 90))] if rng.random() < 0.4 else []
        return out
    out = [(b + e * third, keeper, _v(rng, 90 if e == 0 else 72)) for b in range(beats) for e in range(3)]
    if kind == 2:  # half time: the backbeat on the bar's middle beat only
        out += [(0.0, "kick", _v(rng, 110)), (beats / 2, "snare", _v(rng, 110))]
        out += [(beats / 2 - third, "kick", _v(rng, 92))] if rng.random() < 0.5 else []
        return out
    # accents in twos: every other eighth louder (a hemiola over the bar), kick off the downbeat
    out = [(b + e * third, keeper, _v(rng, 95 if (3 * b + e) % 2 == 0 else 65)) for b in range(beats) for e in range(3)]
    out += [(float(b), "snare", _v(rng, 105)) for b in range(1, beats, 2)]
    out += [(2 * third, "kick", _v(rng, 100))] + ([(0.0, "kick", _v(rng, 100))] if rng.random() < 0.4 else [])
    return out


def _bar_v2(rng: np.random.Generator, metre: Metre, feel: str) -> list[Stroke]:
    """One bar of a version-2 loop: the drum model's styles, the first generator's waltzes and compound
    bars, and the grooves without a kick on 1 (`_offbeat_four`, `_compound_v2`)."""
    if metre.compound:
        return _compound_v2(rng, metre.beats)
    if metre.beats == 3:
        return _waltz(rng)
    if feel == "normal" and rng.random() < 0.35:
        return _offbeat_four(rng)
    return _four_four(rng, feel)


def _second_bar(rng: np.random.Generator, bar: list[Stroke], metre: Metre) -> list[Stroke]:
    """The second bar of a two-bar loop: the first with its kicks moved (8ths or, in compound metres,
    triplet eighths), and now and then an open hi-hat or snare pickup at its end."""
    grid = 1 / 3 if metre.compound else 0.5
    slots = [i * grid for i in range(round(metre.beats / grid))]
    kicks = sorted(rng.choice(slots, size=int(rng.integers(1, 4)), replace=False).tolist())
    out = [s for s in bar if s[1] != "kick"] + [(float(p), "kick", _v(rng, 100)) for p in kicks]
    if rng.random() < 0.4:
        out.append((metre.beats - grid, str(rng.choice(["hihat_open", "snare"])), _v(rng, 95)))
    return out


def _loop(rng: np.random.Generator, metre: Metre, feel: str) -> list[list[Stroke]]:
    """A groove of one bar, or two (the second differing from the first), repeated through a section."""
    first = _bar_v2(rng, metre, feel)
    return [first, _second_bar(rng, first, metre)] if rng.random() < 0.4 else [first]


def _vary(rng: np.random.Generator, bar: list[Stroke]) -> list[Stroke]:
    """A repetition of a loop's bar: new velocities, now and then a stroke left out (as drummers vary)."""
    out = [(p, cls, int(np.clip(v + rng.normal(0.0, 6.0), 1, 127))) for p, cls, v in bar]
    if len(out) > 4 and rng.random() < 0.25:
        del out[int(rng.integers(len(out)))]
    return out


def _pickup(rng: np.random.Generator, metre: Metre) -> list[Stroke]:
    """A short pickup into the next bar: one to three snare or tom strokes on the last 8ths or 16ths."""
    step = float(rng.choice([1 / 3, 1 / 6] if metre.compound else [0.5, 0.25]))
    n = int(rng.integers(1, 4))
    voice = str(rng.choice(["snare", "snare", "tom_high", "tom_low"]))
    return [(metre.beats - (n - i) * step, voice, _v(rng, 95, 12)) for i in range(n)]


def _plan_v2(rng: np.random.Generator, metre: Metre, bars: int, bpm: float) -> _Plan:
    """Version 2: sections of a looped one- or two-bar groove (the bar line is heard in where the loop
    repeats), fills and short pickups at phrase ends, and bar-line markers by the song's habit: a crash
    at every section start (30 %), at some (40 %) or never (30 %; always never when the groove has no
    kick on 1, half of the time). Sections may change the groove, or the feel (half / double time)."""
    feel = _feel(rng, metre, bpm, _FEELS_V2)
    phrase = int(rng.choice([2, 4, 4, 8]))
    section = int(rng.choice([4, 8, 8, 16]))
    habit = float(rng.choice([1.0, 0.35, 0.0], p=[0.3, 0.4, 0.3]))
    metres = [metre] * bars
    if rng.random() < 0.08 and bars >= 8:
        first, length = int(rng.integers(2, bars - 5)), int(rng.integers(2, 5))
        metres[first : first + length] = [_other_metre(metre)] * length
    loops: dict[str, list[list[Stroke]]] = {}

    def loop_for(m: Metre, key: str) -> list[list[Stroke]]:
        if key not in loops:
            loops[key] = _loop(rng, m, feel if m.name == "4/4" else "normal")
        return loops[key]

    main = loop_for(metre, f"{metre.name}/0")
    if not any(p == 0.0 and cls == "kick" for bar in main for p, cls, _ in bar) and rng.random() < 0.5:
        habit = 0.0  # nothing marks bar 1: fills, pickups and the loop's period must
    strokes: list[list[Stroke]] = [[] for _ in range(bars)]
    feels = [feel if m.name == "4/4" else "normal" for m in metres]
    bar = 0
    if rng.random() < 0.1:
        strokes[0] = [(float(b), "hihat_closed", _v(rng, 80)) for b in range(metres[0].beats)]
        bar = 1
    elif rng.random() < 0.25:
        beats = metres[0].beats
        strokes[0] = _fill(rng, beats - float(rng.choice([1.0, 2.0] if beats > 2 else [1.0])), beats, metres[0])
        bar = 1
    crash = bar > 0 and rng.random() < habit
    breaks = rng.random() < 0.15
    tail = False
    groove = 0  # which of the song's two grooves this section plays
    for b in range(bar, bars):
        m = metres[b]
        counted = b - bar
        if counted and counted % section == 0:
            groove = 1 - groove if rng.random() < 0.5 else groove
            crash = rng.random() < habit
            if rng.random() < 0.25 and m.name == "4/4":  # the next section changes feel
                feel = str(rng.choice([f for f in ("normal", "half", "double") if f != feel]))
                loops = {k: v for k, v in loops.items() if not k.startswith("4/4")}
        feels[b] = feel if m.name == "4/4" else "normal"
        if breaks and not tail and b > bar + 2 and rng.random() < 0.1:
            strokes[b] = [(0.0, "crash", _v(rng, 110)), (0.0, "kick", _v(rng, 110))] if rng.random() < 0.4 else []
            crash = rng.random() < habit
            continue
        pattern = loop_for(m, f"{m.name}/{groove}")
        part = _vary(rng, pattern[counted % len(pattern)])
        if tail:
            part = [s for s in part if s[0] >= 1.0]
            part += [(1.0, "crash", _v(rng, 112))] if rng.random() < max(habit, 0.3) else []
        across = False
        ends_phrase = counted % phrase == phrase - 1 or (counted + 1) % section == 0
        if ends_phrase and rng.random() < 0.55:
            across = rng.random() < 0.25 and b + 1 < bars
            start = m.beats - float(rng.choice([0.5, 1.0, 2.0] if m.beats > 2 else [0.5, 1.0]))
            part = [s for s in part if s[0] < start] + _fill(rng, start, m.beats + (1.0 if across else 0.0), m)
        elif (ends_phrase and rng.random() < 0.4) or rng.random() < 0.06:
            pickup = _pickup(rng, m)
            part = [s for s in part if s[0] < pickup[0][0] or s[1] in ("kick", "hihat_closed", "ride")] + pickup
        if crash and not tail:
            part += [(0.0, "crash", _v(rng, 112))]
            part += [(0.0, "kick", _v(rng, 110))] if rng.random() < 0.7 else []
            crash = False
        tail = across
        strokes[b] = part
    return _Plan(metres, strokes, feels)


def _tempo_map(rng: np.random.Generator, bpm: float, beats: int, bpm_range: tuple[float, float]) -> np.ndarray:
    """Start times of `beats + 1` beats from 0: a steady tempo with drift, wander and rubato by chance,
    every beat's tempo kept inside `bpm_range` (the decoder's, which a drift from near its edge would
    otherwise leave)."""
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
    periods = 60.0 / np.clip(bpm * np.exp(log_tempo), *bpm_range)
    return np.concatenate([[0.0], np.cumsum(periods)])


def beat_song(
    rng: np.random.Generator,
    duration_s: float,
    *,
    metre: str | None = None,
    humanise: bool = True,
    version: int = GENERATOR_VERSION,
) -> BeatSong:
    """A drum part at least `duration_s` long with every beat labelled; `metre` forces the first bar's
    metre, `humanise=False` plays every stroke exactly on its grid position (for tests). `version` 1
    draws the first generator's songs (a fresh groove every bar), 2 the looped grooves, 3 the first
    generator's songs with half and double time only as stretches of a song (module docstring)."""
    if version not in GENERATOR_VERSIONS:
        raise ValueError(f"beat song generator version {version} does not exist: use 1, 2 or 3")
    shares = METRE_SHARES_V2 if version == 2 else METRE_SHARES
    if metre is None:
        metre = str(rng.choice(list(shares), p=list(shares.values())))
    first = _BY_NAME[metre]
    low, high = COMPOUND_SONG_BPM if first.compound else SIMPLE_SONG_BPM
    bpm = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    bars = int(np.ceil(duration_s * bpm / 60.0 / first.beats)) + 3
    plan = _plan_v2(rng, first, bars, bpm) if version == 2 else _plan(rng, first, bars, bpm, version3=version == 3)
    starts = np.cumsum([0] + [m.beats for m in plan.metres])  # first beat of each bar
    times = _tempo_map(rng, bpm, int(starts[-1]), COMPOUND_BPM if first.compound else SIMPLE_BPM)
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
    labelled = [
        (b, BeatLabel(when(starts[b] + k), k + 1, m.name))
        for b, m in enumerate(plan.metres)
        for k in range(m.beats)
        if 0.0 <= when(starts[b] + k) < duration_s
    ]
    heard = [plan.feels[b] for b in sorted({b for b, _ in labelled}) if plan.metres[b].name == "4/4"]
    feel = "+".join(f for f, _ in groupby(heard)) or "normal"
    beats = [label for _, label in labelled]
    return BeatSong(kept, beats, metre, bpm, feel)
