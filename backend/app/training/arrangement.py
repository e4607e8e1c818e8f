"""A song's form for the band around a rendered groove: key, chord progression and sections on its bar grid.

The band plays on the drum part's own grid (its tempo, its first downbeat, four beats a bar), so
sections change on bar lines, after the drummer's phrases (where the fills fall) and where the
drummer changes style. Scatter songs have no grid; their band gets a tempo of its own.
Everything is drawn from the generator given, so a song's seed fixes its arrangement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.training.grooves import Song

BEATS_PER_BAR = 4
"""The synthetic grooves are all in four (grooves.py writes bars of four beats)."""

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)

PROGRESSIONS: dict[str, tuple[tuple[int, ...], ...]] = {
    "major": ((0, 4, 5, 3), (5, 3, 0, 4), (0, 3, 4, 3), (0, 5, 3, 4), (1, 4, 0, 0), (0, 0, 3, 4), (3, 4, 5, 5)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (5, 6, 0, 0), (0, 0, 3, 4)),
}
"""Scale degrees (0-based) of common four-chord progressions (I–V–vi–IV, vi–IV–I–V, i–VI–III–VII, …)."""

PARTS = ("bass", "keys", "pad", "strings", "brass", "guitar_clean", "guitar_dist", "voice")

_SECTION_PARTS: dict[str, float] = {"intro": 0.35, "verse": 0.6, "chorus": 1.0, "bridge": 0.7, "outro": 0.4}
"""Each section's energy: the share of the band's line-up that plays in it (a chorus has everyone)."""


@dataclass(frozen=True)
class Chord:
    """A chord: root pitch class 0–11 and its tones as semitones above the root."""

    root: int
    intervals: tuple[int, ...]

    def pitch_classes(self) -> tuple[int, ...]:
        """The chord's pitch classes, root first."""
        return tuple((self.root + i) % 12 for i in self.intervals)


@dataclass(frozen=True)
class Section:
    """Bars [first_bar, first_bar + bars) of one section and the parts that play in it."""

    name: str
    first_bar: int
    bars: int
    parts: frozenset[str]


@dataclass(frozen=True)
class Arrangement:
    """The band's plan for one song."""

    bpm: float
    first_downbeat_s: float
    bars: int
    key: int
    """Tonic pitch class 0–11."""
    minor: bool
    sections: tuple[Section, ...]
    chords: tuple[Chord, ...]
    """One chord per half bar (slot 2·bar is beats 0–1, slot 2·bar + 1 beats 2–3)."""

    @property
    def beat_s(self) -> float:
        """Seconds per beat."""
        return 60.0 / self.bpm

    def time_of(self, bar: int, beat: float) -> float:
        """Seconds of beat `beat` (0-based, fractional) of bar `bar` on the song's grid."""
        return self.first_downbeat_s + (bar * BEATS_PER_BAR + beat) * self.beat_s

    def chord_at(self, bar: int, beat: float) -> Chord:
        """The chord sounding at beat `beat` of bar `bar`."""
        slot = min(max(2 * bar + int(beat >= 2), 0), len(self.chords) - 1)
        return self.chords[slot]

    def scale(self) -> tuple[int, ...]:
        """The key's scale as pitch classes."""
        return tuple((self.key + d) % 12 for d in (MINOR if self.minor else MAJOR))


def diatonic_chord(key: int, minor: bool, degree: int, seventh: bool) -> Chord:
    """The triad (or seventh chord) on scale degree `degree` (0-based) of the key."""
    scale = MINOR if minor else MAJOR
    tones = [scale[(degree + step) % 7] + 12 * ((degree + step) // 7) for step in (0, 2, 4, 6)[: 4 if seventh else 3]]
    root = tones[0]
    return Chord((key + root) % 12, tuple(t - root for t in tones))


def section_bounds(bars: int, phrase: int, change_bar: int, length: int) -> list[int]:
    """First bars of the sections: every `length` bars (a multiple of the drummer's phrase), and the style change."""
    length = max(phrase, length - length % phrase)
    starts = set(range(0, bars, length))
    if 0 < change_bar < bars:
        starts.add(change_bar)
    return sorted(starts)


def _lineup(rng: np.random.Generator) -> list[str]:
    """The band of one song: a bass, one or two harmony parts, often guitars and a singer."""
    lineup = ["bass"] if rng.random() < 0.92 else []
    harmony = ["keys", "pad", "strings", "brass"]
    lineup += [str(p) for p in rng.choice(harmony, size=int(rng.integers(1, 3)), replace=False)]
    if rng.random() < 0.6:
        lineup.append("guitar_clean")
    if rng.random() < 0.55:
        lineup.append("guitar_dist")
    if rng.random() < 0.65:
        lineup.append("voice")
    return lineup


def _section_names(count: int, rng: np.random.Generator) -> list[str]:
    names = ["intro"] if count > 2 and rng.random() < 0.5 else []
    cycle = ["verse", "chorus"] if rng.random() < 0.7 else ["chorus", "verse"]
    while len(names) < count:
        names.append(cycle[len(names) % 2] if rng.random() > 0.12 else "bridge")
    if count > 3 and rng.random() < 0.3:
        names[-1] = "outro"
    return names


def arrange(rng: np.random.Generator, song: Song, duration_s: float) -> Arrangement:
    """The band's arrangement for `song` (a grooves.Song), covering `duration_s` seconds."""
    if song.bpm > 0:
        bpm, downbeat, phrase, change = song.bpm, song.first_downbeat_s, song.phrase_bars, song.change_bar
    else:
        bpm, downbeat, phrase, change = float(rng.uniform(70, 180)), float(rng.uniform(0, 0.5)), 4, 0
    bar_s = BEATS_PER_BAR * 60.0 / bpm
    bars = int(np.ceil((duration_s - downbeat) / bar_s)) + 1
    key = int(rng.integers(12))
    minor = bool(rng.random() < 0.45)
    mode = "minor" if minor else "major"
    seventh = bool(rng.random() < 0.25)
    # Harmonic rhythm in half bars: fast songs change chord less often per bar.
    slots_per_chord = int(rng.choice([1, 2, 2, 4] if bpm < 110 else [2, 2, 4, 4]))
    starts = section_bounds(bars, phrase, change, int(rng.choice([phrase, 2 * phrase, 4, 8])))
    names = _section_names(len(starts), rng)
    lineup = _lineup(rng)
    progressions: dict[str, tuple[int, ...]] = {}
    sections, chords = [], []
    for i, (first, name) in enumerate(zip(starts, names, strict=True)):
        end = starts[i + 1] if i + 1 < len(starts) else bars
        if name not in progressions:
            options = PROGRESSIONS[mode]
            progressions[name] = options[int(rng.integers(len(options)))]
        # The share of the line-up the section's energy allows, always at least one part.
        playing = [p for p in lineup if rng.random() < _SECTION_PARTS[name] + 0.15] or lineup[:1]
        if name in ("intro", "outro") and "voice" in playing:
            playing.remove("voice")
        sections.append(Section(name, first, end - first, frozenset(playing)))
        degrees = progressions[name]
        for slot in range(2 * (end - first)):
            degree = degrees[(slot // slots_per_chord) % len(degrees)]
            chords.append(diatonic_chord(key, minor, degree, seventh))
    return Arrangement(bpm, downbeat, bars, key, minor, tuple(sections), tuple(chords))
