"""A General MIDI drum file of the performance: the hits as they were played (not as quantized),
on channel 10, with the transcription's tempo so a sequencer's bar lines fall near the sheet's, and the
sheet's accents and ghost notes in the velocities."""

from __future__ import annotations

import io
import math
from pathlib import Path

import mido

from app.core.errors import TranscriptionError
from app.pipeline.atomic import write_bytes_atomic
from app.pipeline.hits import Hit
from app.pipeline.notation.kit import KIT

GM_NOTES: dict[str, int] = {name: drum.gm_note for name, drum in KIT.items()}
"""General MIDI percussion key of each instrument."""

DRUM_CHANNEL = 9
"""MIDI channel 10, counted from zero as mido does."""

TICKS_PER_BEAT = 960
"""Fine enough that rounding moves no stroke by more than 0.4 ms at 40 bpm."""

NOTE_S = 0.05
"""Length of a stroke's note: drums are one-shots, a short note keeps the file tidy in a piano roll."""

GHOST_VELOCITY = 64
"""The loudest a ghost note plays: the sheet's own limit for one (below mezzo-forte)."""
ACCENT_VELOCITY = 112
"""The softest an accent plays (fortissimo)."""


def played_velocity(hit: Hit) -> int:
    """The MIDI velocity of `hit`: as played, capped for a ghost note and raised for an accent, so that a
    sequencer plays the sheet's marks."""
    if hit.ghost:
        return min(hit.velocity, GHOST_VELOCITY)
    if hit.accent:
        return max(hit.velocity, ACCENT_VELOCITY)
    return hit.velocity


def write_midi(hits: list[Hit], tempo_bpm: float, path: Path, *, time_signature: str = "4/4") -> None:
    """Write `hits` as a type-0 General MIDI drum file at `path` (atomically)."""
    if not math.isfinite(tempo_bpm) or tempo_bpm <= 0:
        raise TranscriptionError(f"Cannot write MIDI at a tempo of {tempo_bpm} bpm.")
    tempo = mido.bpm2tempo(tempo_bpm)

    def tick(seconds: float) -> int:
        return round(seconds * 1_000_000 / tempo * TICKS_PER_BEAT)

    ordered = sorted(hits, key=lambda h: h.time)  # stable: simultaneous strokes keep their order
    next_same: dict[int, float] = {}
    events: list[tuple[int, int, mido.Message]] = []
    for index in range(len(ordered) - 1, -1, -1):
        hit = ordered[index]
        key = GM_NOTES[hit.instrument]
        # A note ends before the same drum sounds again, or a player would cut the new stroke short.
        end = min(hit.time + NOTE_S, next_same.get(key, math.inf))
        next_same[key] = hit.time
        start_tick = tick(hit.time)
        end_tick = max(start_tick + 1, tick(end))
        velocity = played_velocity(hit)
        events.append((start_tick, 1, mido.Message("note_on", channel=DRUM_CHANNEL, note=key, velocity=velocity)))
        events.append((end_tick, 0, mido.Message("note_off", channel=DRUM_CHANNEL, note=key, velocity=0)))
    events.reverse()
    events.sort(key=lambda e: (e[0], e[1]))  # at one tick, notes end before new ones start

    numerator, denominator = (int(x) for x in time_signature.split("/"))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name="Drums", time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
    track.append(mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator, time=0))
    track.append(mido.Message("program_change", channel=DRUM_CHANNEL, program=0, time=0))  # GM standard kit
    now = 0
    for at, _, message in events:
        track.append(message.copy(time=at - now))
        now = at
    track.append(mido.MetaMessage("end_of_track", time=0))

    midi = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    write_bytes_atomic(Path(path), buffer.getvalue())
