"""Sampled band instruments: General MIDI programs rendered once per sound font through fluidsynth, then played
as a sampler (the nearest rendered note, retuned), so a song's band costs no fluidsynth start-up.

Debian's sound fonts differ a lot: FluidR3_GM (fluid-soundfont-gm), MuseScore_General.sf3
(musescore-general-soundfont, whose Ogg samples take fluidsynth seconds to load, hence the cache)
and TimGM6mb (timgm6mb-soundfont, small and lo-fi). Each font gives one `InstrumentSet`; the
notes are cached as 16-bit arrays under the data folder, never in the repository.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile as sf
import soxr

from app.pipeline.prediction.frame import MODEL_SR
from app.training.samples import render_midi

SOUNDFONTS: dict[str, Path] = {
    "fluidr3": Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    "musescore": Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    "timgm6mb": Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
}
"""Debian's General MIDI fonts (packages fluid-soundfont-gm, musescore-general-soundfont, timgm6mb-soundfont)."""

VALIDATION_FONTS = ("timgm6mb",)
"""Fonts whose instruments only the held-out songs hear (as VALIDATION_KITS for the drums)."""

ROLE_PROGRAMS: dict[str, tuple[int, ...]] = {
    "bass": (33, 34, 38),  # finger, pick, synth bass
    "keys": (0, 4, 16),  # grand piano, electric piano, drawbar organ
    "pad": (88, 89),  # new-age and warm pads
    "strings": (48, 49),  # string ensembles
    "brass": (61, 56),  # brass section, trumpet
    "guitar_clean": (27, 25),  # clean electric, steel acoustic
    "guitar_dist": (27, 28),  # clean electric and muted, distorted by the band's own amp
}
"""GM programs per part; "voice" is synthesised (voice.py), not sampled."""

ROLE_RANGES: dict[str, tuple[int, int]] = {
    "bass": (28, 56),
    "keys": (44, 88),
    "pad": (44, 84),
    "strings": (44, 88),
    "brass": (48, 80),
    "guitar_clean": (40, 80),
    "guitar_dist": (40, 68),
}
"""MIDI pitches rendered per part (every PITCH_STEP semitones); notes outside are moved by octaves."""

PITCH_STEP = 4
"""A played note is at most 2 semitones from a rendered one: retuning that far keeps the timbre."""

NOTE_SECONDS = 2.5
"""How long each rendered note is held; longer notes are cut with a release (sections hold chords ≤ one bar or so)."""

_RELEASE_S = 0.6
_VELOCITY = 100


@dataclass
class Instrument:
    """One program of one font: a mono float32 note (held NOTE_SECONDS, then released) per rendered pitch."""

    name: str
    notes: dict[int, np.ndarray]

    def note(self, pitch: int) -> tuple[np.ndarray, float]:
        """The rendered note nearest `pitch` and the speed ratio that retunes it to `pitch`."""
        nearest = min(self.notes, key=lambda p: (abs(p - pitch), p))
        return self.notes[nearest], 2.0 ** ((pitch - nearest) / 12.0)


@dataclass
class InstrumentSet:
    """A font's instruments by part (ROLE_PROGRAMS' keys)."""

    name: str
    roles: dict[str, list[Instrument]]


def rendered_pitches(role: str) -> list[int]:
    """The pitches rendered for `role`."""
    low, high = ROLE_RANGES[role]
    return list(range(low, high + 1, PITCH_STEP))


def _note_list() -> list[tuple[str, int, int]]:
    """(role, program, pitch) of every rendered note, in render order (programs shared by roles once)."""
    seen: set[tuple[int, int]] = set()
    out = []
    for role, programs in ROLE_PROGRAMS.items():
        for program in programs:
            for pitch in rendered_pitches(role):
                if (program, pitch) not in seen:
                    seen.add((program, pitch))
                    out.append((role, program, pitch))
    return out


def _render_font(soundfont: Path) -> dict[tuple[int, int], np.ndarray]:
    """Every (program, pitch) of _note_list through fluidsynth in one run, dry (reverb and chorus off)."""
    notes = _note_list()
    slot_s = NOTE_SECONDS + _RELEASE_S + 0.4
    midi = mido.MidiFile(ticks_per_beat=480)  # 120 bpm: 960 ticks per second
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500_000))
    now = 0
    for i, (_role, program, pitch) in enumerate(notes):
        start = round(i * slot_s * 960)
        track.append(mido.Message("program_change", channel=0, program=program, time=start - now))
        track.append(mido.Message("note_on", channel=0, note=pitch, velocity=_VELOCITY, time=0))
        track.append(mido.Message("note_off", channel=0, note=pitch, velocity=0, time=round(NOTE_SECONDS * 960)))
        now = start + round(NOTE_SECONDS * 960)
    with tempfile.TemporaryDirectory(prefix="drumscribe-instruments-") as tmp:
        mid, wav = Path(tmp) / "notes.mid", Path(tmp) / "notes.wav"
        midi.save(mid)
        render_midi(mid, wav, soundfont, effects=False)
        audio, sr = sf.read(wav, dtype="float32")
    audio = audio.mean(axis=1) if audio.ndim == 2 else audio
    if sr != MODEL_SR:
        audio = soxr.resample(audio, sr, MODEL_SR).astype(np.float32)
    length = int((NOTE_SECONDS + _RELEASE_S) * MODEL_SR)
    out = {}
    for i, (_role, program, pitch) in enumerate(notes):
        start = round(i * slot_s * MODEL_SR)
        clip = audio[start : start + length]
        out[(program, pitch)] = np.pad(clip, (0, length - len(clip))).astype(np.float32)
    return out


def load_font(name: str, cache_dir: Path) -> InstrumentSet:
    """The InstrumentSet of font `name` (a SOUNDFONTS key), rendered on first use and cached in `cache_dir`."""
    path = cache_dir / f"instruments-{name}-step{PITCH_STEP}.npz"
    if not path.is_file():
        font = SOUNDFONTS[name]
        if not font.is_file():
            raise FileNotFoundError(f"sound font {font} is missing: apt-get install the package SOUNDFONTS names")
        rendered = _render_font(font)
        cache_dir.mkdir(parents=True, exist_ok=True)
        arrays = {
            f"{program}-{pitch}": np.round(a * 32767).astype(np.int16) for (program, pitch), a in rendered.items()
        }
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        tmp.replace(path)
    stored = np.load(path)
    roles: dict[str, list[Instrument]] = {}
    for role, programs in ROLE_PROGRAMS.items():
        roles[role] = []
        for program in programs:
            notes = {p: stored[f"{program}-{p}"].astype(np.float32) / 32767 for p in rendered_pitches(role)}
            roles[role].append(Instrument(f"{name}:{program}", notes))
    return InstrumentSet(name, roles)


def available_fonts() -> list[str]:
    """The SOUNDFONTS present on this machine."""
    return [name for name, path in SOUNDFONTS.items() if path.is_file()]


def split_fonts(names: list[str], split: str) -> list[str]:
    """The fonts a split's bands play: VALIDATION_FONTS for "val", the others for "train" (all, if that leaves none)."""
    held = [n for n in names if n in VALIDATION_FONTS]
    rest = [n for n in names if n not in VALIDATION_FONTS]
    chosen = held if split == "val" else rest
    return chosen or names


def synthetic_set(name: str = "synthetic") -> InstrumentSet:
    """A tiny InstrumentSet of decaying harmonic tones (no sound font needed): for tests."""
    t = np.arange(int(0.8 * MODEL_SR)) / MODEL_SR
    roles = {}
    for role in ROLE_PROGRAMS:
        notes = {}
        for pitch in rendered_pitches(role):
            f0 = 440.0 * 2 ** ((pitch - 69) / 12)
            tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6) if f0 * k < MODEL_SR / 2)
            notes[pitch] = (0.3 * tone * np.exp(-3 * t)).astype(np.float32)
        roles[role] = [Instrument(f"{name}:{role}", notes)]
    return InstrumentSet(name, roles)
