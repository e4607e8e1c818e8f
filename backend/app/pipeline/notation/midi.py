"""A General MIDI drum file of the performance (channel 10), as the hits were played, not quantized."""

from __future__ import annotations

from pathlib import Path

import mido

from app.pipeline.atomic import atomic_path
from app.pipeline.hits import Hit

GM_NOTES: dict[str, int] = {
    "kick": 36,
    "snare": 38,
    "hihat_closed": 42,
    "hihat_open": 46,
    "ride": 51,
    "crash": 49,
    "tom_high": 50,
    "tom_mid": 47,
    "tom_low": 43,
}
DRUM_CHANNEL = 9  # channel 10, counted from zero
TICKS_PER_BEAT = 960
NOTE_S = 0.05


def write_midi(hits: list[Hit], tempo_bpm: float, path: Path) -> None:
    """Write `hits` as note on/off pairs on channel 10 with a tempo event."""
    tempo = mido.bpm2tempo(tempo_bpm)
    events: list[tuple[float, int, mido.Message]] = []
    for hit in hits:
        key = GM_NOTES[hit.instrument]
        events.append((hit.time, 1, mido.Message("note_on", channel=DRUM_CHANNEL, note=key, velocity=hit.velocity)))
        events.append((hit.time + NOTE_S, 0, mido.Message("note_off", channel=DRUM_CHANNEL, note=key, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name="Drums", time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
    now = 0
    for seconds, _, message in events:
        tick = round(mido.second2tick(seconds, TICKS_PER_BEAT, tempo))
        track.append(message.copy(time=max(0, tick - now)))
        now = max(now, tick)
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    with atomic_path(path) as tmp:
        midi.save(tmp)
