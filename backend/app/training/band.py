"""The band around a groove: each part's notes written from the arrangement, played on sampled instruments.

Parts (arrangement.PARTS): bass (roots and fifths, often locked to the kick), keys comping, pads and
strings holding chords, brass stabs, clean guitar arpeggios or strums, distorted guitar power chords
through an amp of our own (waveshaping and a cabinet-like filter), and a formant-synthesised singer
(voice.py). Only the band's audio is made here: the drums and their labels are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.signal

from app.pipeline.prediction.frame import MODEL_SR
from app.training.arrangement import BEATS_PER_BAR, Arrangement, Chord, Section
from app.training.augment import reverb
from app.training.instruments import ROLE_RANGES, InstrumentSet, available_fonts, load_font
from app.training.render import retune
from app.training.voice import Syllable, lyric, sing

_RELEASE_S = 0.12
"""Fade at the end of a note cut short (a player letting go), so no cut clicks."""

PART_LEVELS_DB: dict[str, tuple[float, float]] = {
    "bass": (-3, 3),
    "keys": (-9, -1),
    "pad": (-14, -5),
    "strings": (-12, -3),
    "brass": (-10, -2),
    "guitar_clean": (-10, -2),
    "guitar_dist": (-8, 0),
    "voice": (-6, 2),
}
"""Each part's level range relative to the bass (per song), before the band's overall level is set."""


@dataclass(frozen=True)
class Note:
    """A note of a part: start and length in seconds, MIDI pitch, velocity 1–127."""

    start: float
    length: float
    pitch: int
    velocity: int


def _fit(pitch: int, low: int, high: int) -> int:
    """`pitch` moved by octaves into [low, high]."""
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch


def _voicing(chord: Chord, low: int, top: int) -> list[int]:
    """The chord's tones stacked upwards from the first root at or above `low`, kept under `top`."""
    root = low + (chord.root - low) % 12
    return [_fit(root + i, low, top) for i in chord.intervals]


def _bars(section: Section) -> range:
    return range(section.first_bar, section.first_bar + section.bars)


def _vel(rng: np.random.Generator, mean: float) -> int:
    return int(np.clip(rng.normal(mean, 8), 20, 127))


def write_bass(arr: Arrangement, section: Section, rng: np.random.Generator, kicks: list[float]) -> list[Note]:
    """Roots (and fifths) in quarters, 8ths or halves, or on the kick drum's strokes."""
    beat_s = arr.beat_s
    style = str(rng.choice(["quarters", "eighths", "halves", "kick", "kick"]))
    low, high = ROLE_RANGES["bass"][0], ROLE_RANGES["bass"][0] + 19
    notes = []
    if style == "kick" and kicks:
        start, end = arr.time_of(section.first_bar, 0), arr.time_of(section.first_bar + section.bars, 0)
        hits = [k for k in kicks if start - 0.02 <= k < end]
        for i, k in enumerate(hits):
            bar = int((k - arr.first_downbeat_s) // (BEATS_PER_BAR * beat_s))
            beat = (k - arr.time_of(bar, 0)) / beat_s
            length = min((hits[i + 1] - k) if i + 1 < len(hits) else beat_s, 2 * beat_s) * 0.9
            notes.append(Note(k, length, _fit(arr.chord_at(bar, beat).root + 36, low, high), _vel(rng, 100)))
        return notes
    step = {"quarters": 1.0, "eighths": 0.5, "halves": 2.0, "kick": 1.0}[style]
    for bar in _bars(section):
        for beat in np.arange(0, BEATS_PER_BAR, step):
            chord = arr.chord_at(bar, float(beat))
            interval = chord.intervals[2] if (style == "halves" and beat == 2 and rng.random() < 0.5) else 0
            pitch = _fit(chord.root + interval + 36, low, high)
            notes.append(Note(arr.time_of(bar, float(beat)), step * beat_s * 0.85, pitch, _vel(rng, 96)))
    return notes


def write_chords(arr: Arrangement, section: Section, rng: np.random.Generator, role: str) -> list[Note]:
    """Chordal parts: keys comp a rhythm, pads and strings hold, brass stab, clean guitar strums or arpeggiates."""
    beat_s = arr.beat_s
    low, high = ROLE_RANGES[role]
    base = int(rng.integers(low + 8, low + 20))
    hold = {"pad": [0.0, 2.0], "strings": [0.0, 2.0]}
    rhythms = {
        "keys": [[0.0], [0.0, 1.0, 2.0, 3.0], [0.5, 1.5, 2.5, 3.5], [0.0, 1.5, 3.0], [0.0, 0.75, 2.0, 2.75]],
        "brass": [[0.0], [0.0, 1.5], [3.5], [0.0, 2.5]],
        "guitar_clean": [[0.0, 2.0], [0.0, 1.0, 2.0, 3.0], [0.0, 0.75, 1.5, 2.5, 3.0], [0.5, 1.5, 2.5, 3.5]],
    }
    onsets = hold[role] if role in hold else rhythms[role][int(rng.integers(len(rhythms[role])))]
    arpeggio = role == "guitar_clean" and rng.random() < 0.4
    short = role == "brass" or rng.random() < 0.3
    notes = []
    for bar in _bars(section):
        if arpeggio:
            for i, beat in enumerate(np.arange(0, BEATS_PER_BAR, 0.5)):
                tones = _voicing(arr.chord_at(bar, float(beat)), base, high)
                notes.append(Note(arr.time_of(bar, float(beat)), 0.9 * beat_s, tones[i % len(tones)], _vel(rng, 80)))
            continue
        for k, beat in enumerate(onsets):
            following = onsets[k + 1] if k + 1 < len(onsets) else BEATS_PER_BAR
            length = (0.35 if short else 0.95) * (following - beat) * beat_s
            strum = 0.012 if role == "guitar_clean" else 0.0  # strings of a strum sound one after another
            for j, pitch in enumerate(_voicing(arr.chord_at(bar, beat), base, high)):
                notes.append(Note(arr.time_of(bar, beat) + j * strum, length, pitch, _vel(rng, 84)))
    return notes


def write_power_chords(arr: Arrangement, section: Section, rng: np.random.Generator) -> list[Note]:
    """Root, fifth and octave low on the neck: held bars or palm-muted 8ths."""
    beat_s = arr.beat_s
    low = ROLE_RANGES["guitar_dist"][0]
    chug = rng.random() < 0.5
    notes = []
    for bar in _bars(section):
        for beat in np.arange(0, BEATS_PER_BAR, 0.5 if chug else 2.0):
            root = _fit(arr.chord_at(bar, float(beat)).root + 40, low, low + 11)
            length = (0.4 if chug else 1.9) * beat_s
            for interval in (0, 7, 12):
                notes.append(Note(arr.time_of(bar, float(beat)), length, root + interval, _vel(rng, 100)))
    return notes


def write_melody(arr: Arrangement, section: Section, rng: np.random.Generator, low: int) -> list[Syllable]:
    """A sung line: one rhythm per section repeated every two bars, chord tones on beats, scale steps between."""
    rhythm_options = [
        [0.0, 1.0, 1.5, 2.0, 3.0],
        [0.5, 1.0, 2.0, 2.5],
        [0.0, 0.5, 1.0, 1.5, 2.0, 2.5],
        [0.0, 2.0],
        [1.0, 1.5, 2.0, 3.0, 3.5],
    ]
    rhythm = [float(b) for b in rhythm_options[int(rng.integers(len(rhythm_options)))]]
    scale = arr.scale()
    out = []
    pitch = low + 7
    for bar in _bars(section):
        if (bar - section.first_bar) % 2 == 1 and rng.random() < 0.4:
            continue  # breathing space: some bars are rests
        for k, beat in enumerate(rhythm):
            chord = arr.chord_at(bar, beat)
            if beat % 1 == 0:
                candidates = [_fit(pc + low, low, low + 16) for pc in chord.pitch_classes()]
            else:
                candidates = [_fit(pc + low, low, low + 16) for pc in scale]
            pitch = min(candidates, key=lambda p: abs(p - pitch) + rng.uniform(0, 4))
            following = rhythm[k + 1] if k + 1 < len(rhythm) else BEATS_PER_BAR
            vowel, consonant = lyric(rng)
            length = 0.92 * (following - beat) * arr.beat_s
            out.append(Syllable(arr.time_of(bar, beat), length, pitch, _vel(rng, 95), vowel, consonant))
    return out


def play(notes: list[Note], instrument_notes: dict[int, np.ndarray], n_samples: int) -> np.ndarray:
    """Mono float32 of `notes` on a sampled instrument (pitch → rendered note), nearest note retuned."""
    out = np.zeros(n_samples, dtype=np.float32)
    tuned: dict[int, np.ndarray] = {}
    for note in notes:
        start = round(note.start * MODEL_SR)
        if start >= n_samples or start < 0:
            continue
        if note.pitch not in tuned:
            nearest = min(instrument_notes, key=lambda p: (abs(p - note.pitch), p))
            tuned[note.pitch] = retune(instrument_notes[nearest], 2.0 ** ((note.pitch - nearest) / 12.0))
        sample = tuned[note.pitch]
        length = min(len(sample), round((note.length + _RELEASE_S) * MODEL_SR))
        hit = sample[:length] * np.float32((note.velocity / 127) ** 2)
        fade = min(length, round(_RELEASE_S * MODEL_SR))
        if length < len(sample):
            hit = hit.copy()
            hit[length - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        end = min(n_samples, start + length)
        out[start:end] += hit[: end - start]
    return out


def _sos(order: int, cutoff: float | list[float], kind: str) -> np.ndarray:
    return np.asarray(scipy.signal.butter(order, cutoff, kind, fs=MODEL_SR, output="sos"))


def amp(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A guitar amp: pre-emphasis, drive into an asymmetric soft clipper, then a 4×12-like cabinet response."""
    if not np.any(x):
        return x
    pre = scipy.signal.sosfilt(_sos(1, float(rng.uniform(300, 900)), "high"), x)
    drive = float(10 ** (rng.uniform(15, 40) / 20)) / (float(np.max(np.abs(pre))) + 1e-9)
    bias = float(rng.uniform(0.0, 0.3))
    y = np.tanh(drive * pre + bias) - np.tanh(bias)
    # Cabinet: nothing below ~80 Hz or above ~4–6 kHz, a low-mid bump and a presence peak.
    y = scipy.signal.sosfilt(_sos(2, [float(rng.uniform(70, 110)), float(rng.uniform(3_800, 6_000))], "band"), y)
    for centre, gain_db in ((float(rng.uniform(100, 200)), 4.0), (float(rng.uniform(1_800, 3_200)), 5.0)):
        band = scipy.signal.sosfilt(_sos(2, [centre / 1.4, centre * 1.4], "band"), y)
        y = y + (10 ** (gain_db / 20) - 1) * band
    y = scipy.signal.sosfilt(_sos(4, 7_000, "low"), y)
    return (y / (np.max(np.abs(y)) + 1e-9) * np.max(np.abs(x))).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def render_band(
    arr: Arrangement, instruments: InstrumentSet, rng: np.random.Generator, n_samples: int, kicks: list[float]
) -> np.ndarray:
    """Mono float32 of the whole band (every part, each at its own level, with a shared room), `n_samples` long."""
    bass_rms = 0.0
    mix = np.zeros(n_samples, dtype=np.float32)
    singer_low = int(rng.choice([55, 60]))  # a lower or a higher voice
    # The bass first (the others' reference level), then by name: a set's own order changes from process to process.
    parts = sorted({p for s in arr.sections for p in s.parts}, key=lambda p: (p != "bass", p))
    for part in parts:
        sections = [s for s in arr.sections if part in s.parts]
        part_rng = np.random.default_rng(rng.integers(2**32))
        if part == "voice":
            syllables = [syl for s in sections for syl in write_melody(arr, s, part_rng, singer_low)]
            audio = sing(syllables, n_samples, part_rng)
        else:
            options = instruments.roles[part]
            notes_of = options[int(part_rng.integers(len(options)))].notes
            if part == "bass":
                notes = [n for s in sections for n in write_bass(arr, s, part_rng, kicks)]
            elif part == "guitar_dist":
                notes = [n for s in sections for n in write_power_chords(arr, s, part_rng)]
            else:
                notes = [n for s in sections for n in write_chords(arr, s, part_rng, part)]
            audio = play(notes, notes_of, n_samples)
            if part == "guitar_dist":
                audio = amp(audio, part_rng)
        level = _rms(audio)
        if level < 1e-9:
            continue
        reference = bass_rms or level  # the first part (the bass, when there is one) sets the reference
        bass_rms = reference
        gain = reference / level * 10 ** (float(part_rng.uniform(*PART_LEVELS_DB[part])) / 20)
        mix += (audio * gain).astype(np.float32)
    if rng.random() < 0.7 and np.any(mix):
        mix = reverb(mix, rng)
    return mix.astype(np.float32)


def render_backgrounds(
    count: int, duration_s: float, seed: int, folder: Path, fonts: list[str] | None = None
) -> list[np.ndarray]:
    """`count` clips of a band alone on a tempo of its own (no drum grid): the bleed that augment.mix_background
    adds to drums without a band of their own. `fonts` (default: every font here) are cached in `folder`."""
    from app.training.arrangement import arrange
    from app.training.grooves import Song

    sets = [load_font(name, folder) for name in (fonts or available_fonts())]
    if not sets:
        raise FileNotFoundError("no General MIDI sound font found: apt-get install fluid-soundfont-gm")
    clips = []
    n = int(duration_s * MODEL_SR)
    for i in range(count):
        rng = np.random.default_rng([seed, 7, i])
        arr = arrange(rng, Song([], 0.0, 0.0), duration_s)
        clips.append(render_band(arr, sets[i % len(sets)], rng, n, []))
    return clips
