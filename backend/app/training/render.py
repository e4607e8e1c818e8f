"""Songs to audio: drum parts through a sample bank (the band around them is band.py's), and label files."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import soxr

from app.pipeline.prediction.frame import MODEL_SR
from app.training.grooves import Event
from app.training.samples import GM_NOTES, SampleBank, Variant, velocity_gain

_CHOKE_FADE_S = 0.02

TUNING_SEMITONES = 3.0
"""Each song retunes each drum by up to this much: real kits are tuned anywhere, and the few sampled
cymbals and toms we have sound like many more instruments this way."""

_TUNED_SHARE = 0.7
"""Share of (song, drum) pairs that are retuned; the rest keep the sample's own pitch."""


def retune(audio: np.ndarray, ratio: float) -> np.ndarray:
    """`audio` played `ratio` times faster: pitch up by `ratio`, length divided by it (a tape-speed change)."""
    if ratio == 1.0:
        return audio
    return soxr.resample(audio, MODEL_SR * ratio, MODEL_SR).astype(np.float32)


def _tuning_group(cls: str) -> str:
    # Open and closed hi-hat are the same pair of cymbals.
    return "hihat" if cls.startswith("hihat") else cls


def _pick_variant(rng: np.random.Generator, variants: list[Variant], primary: int) -> Variant:
    """Mostly the song's own variant (a drummer keeps one snare), sometimes another (rimshot, cross-stick)."""
    if len(variants) > 1 and rng.random() < 0.2:
        return variants[int(rng.integers(len(variants)))]
    return variants[primary % len(variants)]


def render_drums(
    events: list[Event], bank: SampleBank, fallback: list[SampleBank], rng: np.random.Generator, duration_s: float
) -> tuple[np.ndarray, list[Event]]:
    """Mono float32 audio of `events` played on `bank`, and the events that sounded.

    Classes the kit lacks borrow a random kit from `fallback` for the whole song (electronic kits
    have no toms; a real drummer would add a cymbal from another set). Each drum is retuned for the
    song (see TUNING_SEMITONES). An open hi-hat rings until the next closed one, which chokes it, as a
    hi-hat stand does.
    """
    n = int(duration_s * MODEL_SR)
    out = np.zeros(n, dtype=np.float32)
    kits: dict[str, SampleBank] = {}
    primaries: dict[str, int] = {}
    # Sorted: a set's order changes with Python's per-process string hashing, and each class draws from `rng`.
    for cls in sorted({e.instrument for e in events}):
        candidates = [bank] if bank.variants.get(cls) else [b for b in fallback if b.variants.get(cls)]
        if candidates:
            kits[cls] = candidates[int(rng.integers(len(candidates)))]
            primaries[cls] = int(rng.integers(len(kits[cls].variants[cls])))
    ratios = {
        group: 2.0 ** (rng.uniform(-TUNING_SEMITONES, TUNING_SEMITONES) / 12.0) if rng.random() < _TUNED_SHARE else 1.0
        for group in sorted({_tuning_group(cls) for cls in kits})
    }
    tuned: dict[int, np.ndarray] = {}
    closed_times = np.array(sorted(e.time for e in events if e.instrument == "hihat_closed"))
    played = []
    for event in events:
        kit = kits.get(event.instrument)
        if kit is None:
            continue
        variant = _pick_variant(rng, kit.variants[event.instrument], primaries[event.instrument])
        velocity = int(np.clip(event.velocity + rng.normal(0, 4), 1, 127))
        layer = variant.layer(velocity)
        if id(layer) not in tuned:
            tuned[id(layer)] = retune(layer, ratios[_tuning_group(event.instrument)])
        hit = tuned[id(layer)] * np.float32(velocity_gain(velocity))
        start = round(event.time * MODEL_SR)
        if start >= n:
            continue
        if event.instrument == "hihat_open" and closed_times.size:
            later = closed_times[closed_times > event.time + 0.03]
            if later.size:
                length = int((later[0] - event.time) * MODEL_SR)
                hit = hit[:length].copy()
                fade = min(len(hit), int(_CHOKE_FADE_S * MODEL_SR))
                hit[len(hit) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        end = min(n, start + len(hit))
        out[start:end] += hit[: end - start]
        played.append(event)
    return out, played


def write_label_midi(events: list[Event], path: Path) -> None:
    """A General MIDI drum file of `events` (the first GM note of each class), as mdb-dev's annotations are."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500_000))  # 960 ticks per second
    messages = []
    for event in events:
        tick = round(event.time * 960)
        messages.append((tick, 1, GM_NOTES[event.instrument][0], event.velocity))
        messages.append((tick + 48, 0, GM_NOTES[event.instrument][0], 0))
    messages.sort()
    now = 0
    for tick, on, note, velocity in messages:
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, channel=9, note=note, velocity=velocity, time=tick - now))
        now = tick
    midi.save(path)
