"""Engraving a Transcription as drum-set notation with music21."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from music21 import clef, expressions, instrument, metadata, meter, note, percussion, stream, tempo

from app.pipeline.notation.rhythm import Bar, QuantizedHit, Transcription

# Staff position (display step and octave on a five-line staff read like treble clef), notehead and voice.
NOTATION: dict[str, tuple[str, str, int]] = {
    "crash": ("A5", "x", 1),
    "hihat_open": ("G5", "circle-x", 1),
    "hihat_closed": ("G5", "x", 1),
    "ride": ("F5", "x", 1),
    "tom_high": ("E5", "normal", 1),
    "tom_mid": ("D5", "normal", 1),
    "snare": ("C5", "normal", 1),
    "tom_low": ("A4", "normal", 1),
    "kick": ("F4", "normal", 2),
}
HANDS, FEET = 1, 2


def build_score(transcription: Transcription, title: str) -> stream.Score:
    score = stream.Score()
    score.metadata = metadata.Metadata(title=title, composer="Transcribed by DrumScribe")
    part = stream.Part()
    kit = instrument.UnpitchedPercussion()
    kit.instrumentName = "Drum Set"
    kit.midiChannel = 9
    part.insert(0, kit)
    for bar in transcription.bars:
        measure = stream.Measure(number=bar.number)
        if bar.number == transcription.bars[0].number:
            measure.insert(0, clef.PercussionClef())
            measure.insert(0, meter.TimeSignature(transcription.time_signature))
            measure.insert(0, tempo.MetronomeMark(number=round(transcription.tempo_bpm)))
        for voice_number, stem in ((HANDS, "up"), (FEET, "down")):
            measure.insert(0, _voice(bar, voice_number, stem, transcription.beats_per_bar))
        part.append(measure)
    score.insert(0, part)
    return score


def _voice(bar: Bar, number: int, stem: str, beats: int) -> stream.Voice:
    voice = stream.Voice(id=str(number))
    hits = [h for h in bar.hits if NOTATION[h.instrument][2] == number]
    if not hits:
        rest = note.Rest(quarterLength=beats)
        rest.style.hideObjectOnPrint = number == FEET
        voice.append(rest)
        return voice
    by_offset: dict[Fraction, list[QuantizedHit]] = defaultdict(list)
    for hit in hits:
        by_offset[Fraction(hit.offset)].append(hit)
    for beat in range(beats):
        start, end = Fraction(beat), Fraction(beat + 1)
        points = sorted(o for o in by_offset if start <= o < end)
        if not points:
            voice.append(note.Rest(quarterLength=1))
            continue
        if points[0] > start:
            voice.append(note.Rest(quarterLength=points[0] - start))
        for i, offset in enumerate(points):
            length = (points[i + 1] if i + 1 < len(points) else end) - offset
            voice.append(_stroke(by_offset[offset], length, stem))
    return voice


def _stroke(hits: list[QuantizedHit], length: Fraction, stem: str) -> note.GeneralNote:
    notes = []
    for hit in sorted(hits, key=lambda h: h.instrument):
        display, head, _ = NOTATION[hit.instrument]
        n = note.Unpitched(displayName=display)
        n.notehead = head
        n.volume.velocity = hit.velocity
        notes.append(n)
    element: note.GeneralNote = notes[0] if len(notes) == 1 else percussion.PercussionChord(notes)
    element.quarterLength = length
    element.stemDirection = stem
    if any(h.instrument == "hihat_open" for h in hits):
        element.expressions.append(expressions.TextExpression("o"))
    return element
