"""Reading the notation stage's files back, note by note, to compare two revisions of a sheet."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import mido


def sheet_notes(musicxml: bytes) -> list[tuple[str, ...]]:
    """Every note of a MusicXML file: bar, voice, position in the bar, drum, notehead, parentheses, accent and
    note value."""
    root = ET.fromstring(musicxml[musicxml.index(b"<score-partwise") :])
    found = []
    for measure in root.iter("measure"):
        position: dict[str, int] = {}
        for note in measure.iter("note"):
            voice = note.findtext("voice", "1")
            start = position.get(voice, 0)
            if note.find("chord") is not None:
                start = position[voice + "last"]
            else:
                position[voice + "last"] = start
                position[voice] = start + int(note.findtext("duration", "0"))
            if note.find("unpitched") is None:
                continue
            found.append((
                measure.get("number", ""), voice, str(start),
                note.findtext("unpitched/display-step", "") + note.findtext("unpitched/display-octave", ""),
                note.findtext("notehead", "normal"),
                note.find("notehead").get("parentheses", "no") if note.find("notehead") is not None else "no",
                "accent" if note.find("notations/articulations/accent") is not None else "",
                note.findtext("type", ""),
            ))  # fmt: skip
    return found


def midi_notes(midi: bytes) -> list[tuple[int, int, int]]:
    """(tick, key, velocity) of every stroke of a MIDI file, in order."""
    now, found = 0, []
    for message in mido.MidiFile(file=io.BytesIO(midi)).tracks[0]:
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            found.append((now, message.note, message.velocity))
    return sorted(found)
