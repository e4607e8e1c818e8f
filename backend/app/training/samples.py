"""Sample banks: one-shots per class and velocity, from Hydrogen kits and from General MIDI sound fonts.

A bank maps each class of `frame.CLASSES` to a list of *variants* (a kit's "Snare Rock" and "Snare
Jazz" are two snare variants), each a list of velocity layers. Hydrogen kits are read from their
drumkit.xml with a keyword map of our own (the kits name their instruments in many ways: "Hi Hat
Closed", "Hat Closed Dirty", "VariBreaks Hat 1 Cl"); General MIDI kits are rendered once through
fluidsynth, one note at several velocities, with fluidsynth's reverb and chorus off so the
augmentation decides the room.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np
import soundfile as sf
import soxr

from app.pipeline.prediction.frame import CLASSES, MODEL_SR

HYDROGEN_DRUMKITS = Path("/usr/share/hydrogen/data/drumkits")
FLUID_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

GM_NOTES: dict[str, tuple[int, ...]] = {
    "kick": (35, 36),
    "snare": (38, 40, 37),
    "hihat_closed": (42, 44),
    "hihat_open": (46,),
    "ride": (51, 59, 53),
    "crash": (49, 57, 52, 55),
    "tom_high": (50, 48),
    "tom_mid": (47, 45),
    "tom_low": (43, 41),
}
"""General MIDI drum notes per class; the first is the class's usual note (written to label files)."""

GM_KITS: dict[str, int] = {
    "gm-standard": 0,
    "gm-room": 8,
    "gm-power": 16,
    "gm-electronic": 24,
    "gm-tr808": 25,
    "gm-jazz": 32,
    "gm-brush": 40,
}
"""FluidR3_GM's drum presets (bank 128) and their program numbers."""

HYDROGEN_KITS: tuple[str, ...] = (
    "Audiophob",
    "BJA_Pacific",
    "ColomboAcousticDrumkit",
    "ElectricEmpireKit",
    "ForzeeStereo",
    "HardElectro1",
    "Millo-Drums_v.1",
    "Millo_MultiLayered2",
    "Millo_MultiLayered3",
    "The Black Pearl 1.0",
    "VariBreaks",
    "rumpf_kit_z01_h2",
)
"""hydrogen-drumkits' drum kits; the hand-percussion kits (Gimme A Hand, circAfrique) play none of our classes."""

VALIDATION_KITS: tuple[str, ...] = ("The Black Pearl 1.0", "Millo-Drums_v.1", "gm-room")
"""Kits only the held-out songs use: thresholds and validation scores come from kits training never heard."""

_VELOCITY_STEPS = (30, 60, 90, 127)
"""Velocities each General MIDI note is rendered at (FluidR3's drums switch layers with velocity)."""

_GM_NOTE_SPACING_S = 3.0
_MAX_SAMPLE_S = 3.0
"""One-shots are cut (with a fade) to this length; a crash rings longer but that tail hides in the mix."""

# (pattern, class) in order; the first pattern found in the lower-cased instrument name decides.
_SKIP = re.compile(
    r"clap|cowbell|conga|whistle|zap|\bfx\b|click|tambourine|agogo|roll|choke|swish|(?<!bass )drum \d|^\d+$"
)
_RULES: tuple[tuple[str, str], ...] = (
    (r"kick|bass ?drum", "kick"),
    (r"snare|stick|rimshot", "snare"),
    (r"(hat|hh).*(open|\bop\b|semi|free)|(open|semi).*(hat|hh)", "hihat_open"),
    (r"(hat|hh)", "hihat_closed"),
    (r"^ride|ride bell|paiste bell|ride-cup|ride 2", "ride"),
    (r"crash|china|splash|cymbal", "crash"),
    (r"floor|tom low|low tom|tom 2 |pearl tom 2", "tom_low"),
    (r"tom mid|mid tom|middle tom", "tom_mid"),
    (r"tom", "tom_high"),
)


def classify_instrument_name(name: str) -> str | None:
    """The class a Hydrogen instrument name plays, or None for sounds outside the vocabulary."""
    lowered = name.strip().lower()
    if not lowered or _SKIP.search(lowered):
        return None
    for pattern, cls in _RULES:
        if re.search(pattern, lowered):
            return cls
    return None


@dataclass
class Variant:
    """One sound of a class (say a kit's rimshot snare): velocity layers, each (lowest velocity, audio)."""

    name: str
    layers: list[tuple[float, np.ndarray]]

    def layer(self, velocity: int) -> np.ndarray:
        """The highest layer at or below `velocity` (its timbre), at its normalised peak of 1.

        Every layer is normalised, so loudness follows one curve for all kits: the renderer scales a
        stroke by `velocity_gain(velocity)` (velocity 127 is 0 dB, velocity 1 is -VELOCITY_RANGE_DB).
        """
        v = velocity / 127.0
        chosen = self.layers[0][1]
        for low, audio in self.layers:
            if low <= v + 1e-6:
                chosen = audio
        return chosen


@dataclass
class SampleBank:
    """A drum kit for training: variants per class (a class may have none)."""

    name: str
    variants: dict[str, list[Variant]] = field(default_factory=dict)

    @property
    def classes(self) -> set[str]:
        """Classes this kit can play."""
        return {cls for cls, found in self.variants.items() if found}


VELOCITY_RANGE_DB = 30.0


def velocity_gain(velocity: int) -> float:
    """Linear gain of a stroke at MIDI `velocity`: a ghost note (about 30) is some 20 dB below an accent."""
    return float(10.0 ** (-VELOCITY_RANGE_DB * (127 - velocity) / 126 / 20.0))


def _fit(audio: np.ndarray, sr: int) -> np.ndarray:
    """Mono float32 at MODEL_SR, leading silence trimmed, at most _MAX_SAMPLE_S with a short fade-out."""
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    audio = audio.astype(np.float32)
    if sr != MODEL_SR:
        audio = soxr.resample(audio, sr, MODEL_SR).astype(np.float32)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 0.0:
        return np.zeros(1, dtype=np.float32)
    # The label is the sample's start, so a sample must start at its attack: drop leading silence.
    start = max(int(np.argmax(np.abs(audio) > 0.01 * peak)) - 16, 0)
    audio = audio[start : start + int(_MAX_SAMPLE_S * MODEL_SR)].copy()
    fade = min(len(audio), int(0.05 * MODEL_SR))
    audio[len(audio) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return audio


def load_hydrogen_bank(folder: Path) -> SampleBank:
    """A bank from a Hydrogen drumkit.xml; layers normalised so each kit plays at a comparable level."""
    root = ET.parse(folder / "drumkit.xml").getroot()
    ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
    bank = SampleBank(folder.name, {cls: [] for cls in CLASSES})
    for inst in root.iter(f"{ns}instrument"):
        name = inst.findtext(f"{ns}name") or ""
        cls = classify_instrument_name(name)
        if cls is None:
            continue
        # Hydrogen 0.9.3 kits list velocity layers; older kits name one file on the instrument itself.
        entries = [
            (layer.findtext(f"{ns}filename") or "", float(layer.findtext(f"{ns}min") or 0.0))
            for layer in inst.iter(f"{ns}layer")
        ]
        if not entries and inst.findtext(f"{ns}filename"):
            entries = [(inst.findtext(f"{ns}filename") or "", 0.0)]
        layers = []
        for filename, low in entries:
            path = folder / filename
            if filename and path.is_file():
                audio, sr = sf.read(path, dtype="float32")
                layers.append((low, _fit(audio, sr)))
        if layers:
            layers.sort(key=lambda item: item[0])
            bank.variants[cls].append(Variant(name, layers))
    _normalise(bank)
    return bank


def _normalise(bank: SampleBank) -> None:
    """Scale every layer to a peak of 1: kits differ by 20 dB and more as shipped, and velocity_gain sets the level."""
    for variants in bank.variants.values():
        for variant in variants:
            variant.layers = [(low, audio / (float(np.max(np.abs(audio))) or 1.0)) for low, audio in variant.layers]


def render_gm_banks(soundfont: Path = FLUID_SOUNDFONT, kits: dict[str, int] | None = None) -> list[SampleBank]:
    """Banks from a General MIDI sound font's drum presets: every note of GM_NOTES at _VELOCITY_STEPS."""
    kits = kits or GM_KITS
    notes = [(cls, note) for cls, ns in GM_NOTES.items() for note in ns]
    banks = []
    with tempfile.TemporaryDirectory(prefix="drumscribe-gm-") as tmp:
        for kit_name, program in kits.items():
            midi = mido.MidiFile(ticks_per_beat=480)
            track = mido.MidiTrack()
            midi.tracks.append(track)
            track.append(mido.MetaMessage("set_tempo", tempo=500_000))  # 120 bpm: 960 ticks a second
            track.append(mido.Message("program_change", channel=9, program=program, time=0))
            step = int(_GM_NOTE_SPACING_S * 960)
            pending = 0
            for _, note in notes:
                for velocity in _VELOCITY_STEPS:
                    track.append(mido.Message("note_on", channel=9, note=note, velocity=velocity, time=pending))
                    track.append(mido.Message("note_off", channel=9, note=note, velocity=0, time=step))
                    pending = 0
            mid_path, wav_path = Path(tmp) / f"{kit_name}.mid", Path(tmp) / f"{kit_name}.wav"
            midi.save(mid_path)
            render_midi(mid_path, wav_path, soundfont, effects=False)
            audio, sr = sf.read(wav_path, dtype="float32")
            audio = audio.mean(axis=1) if audio.ndim == 2 else audio
            bank = SampleBank(kit_name, {cls: [] for cls in CLASSES})
            spacing = int(_GM_NOTE_SPACING_S * sr)
            index = 0
            for cls, note in notes:
                layers = []
                for velocity in _VELOCITY_STEPS:
                    piece = audio[index * spacing : (index + 1) * spacing]
                    index += 1
                    layers.append((velocity / 127.0 - 0.2, _fit(piece, sr)))
                bank.variants[cls].append(Variant(f"{kit_name}:{note}", layers))
            _normalise(bank)
            banks.append(bank)
    return banks


def render_midi(midi_path: Path, wav_path: Path, soundfont: Path = FLUID_SOUNDFONT, *, effects: bool = True) -> None:
    """Render a MIDI file to a 44.1 kHz WAV with fluidsynth (no audio device, faster than real time)."""
    command = ["fluidsynth", "-ni", "-q", "-F", str(wav_path), "-r", str(MODEL_SR)]
    if not effects:
        command += ["-R", "0", "-C", "0"]
    command += [str(soundfont), str(midi_path)]
    subprocess.run(command, check=True, capture_output=True, timeout=600)


def load_all_banks(include_gm: bool = True) -> list[SampleBank]:
    """Every training and validation kit this machine has (Debian's hydrogen-drumkits, fluid-soundfont-gm)."""
    banks = [
        load_hydrogen_bank(HYDROGEN_DRUMKITS / name) for name in HYDROGEN_KITS if (HYDROGEN_DRUMKITS / name).is_dir()
    ]
    if include_gm and FLUID_SOUNDFONT.is_file():
        banks += render_gm_banks()
    return [bank for bank in banks if bank.classes]
