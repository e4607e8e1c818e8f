"""Engrave a Transcription as a drum-set score with music21, and write it as MusicXML.

Conventions (those of published drum charts): one five-line staff with a percussion clef; voice 1
holds the hands (cymbals, snare, toms) with stems up, voice 2 the feet (kick) with stems down. A
note lasts until the voice's next stroke within the beat, so beats never tie into each other and
beams group by counted beat (three 8ths in 6/8 and 12/8, a half note in 2/2). A time signature is
written where the bars' metre changes; a swung passage is straight 8ths under a "Swing" direction
(with MusicXML's <sound><swing>), and "Straight" where the swing ends. Ghost notes are in parentheses (on a
transcription: the quiet snare strokes; on an edited sheet: the strokes marked so), an accent carries
">", an open hi-hat an "o".

Rests are written in full in both voices (so every voice of every measure adds up, and notation
programs read the file as it is meant) but printed as published drum charts print them: a voice's
rest is hidden wherever the other voice plays in that beat (a dotted quarter in 6/8 and 12/8), and
where both voices are silent only the hands' rest is printed. So no rest ever sits among the other
voice's notes.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np
from music21 import (
    articulations,
    beam,
    clef,
    duration,
    expressions,
    instrument,
    metadata,
    meter,
    note,
    percussion,
    stream,
    tempo,
)
from music21 import bar as music21_bar
from music21.musicxml.m21ToXml import GeneralObjectExporter

from app.core.errors import TranscriptionError
from app.pipeline.atomic import write_bytes_atomic
from app.pipeline.notation.kit import KIT
from app.pipeline.notation.metre import beat_quarters, counted_beats, is_compound, written_per_counted
from app.pipeline.notation.rhythm import Bar, QuantizedHit, Transcription

TRANSCRIBER = "DrumScribe"

_GHOST_MAX_VELOCITY = 64
_GHOST_FRACTION = 0.5
"""A snare stroke is a ghost note when it is softer than half the song's loud snare strokes (and
below mezzo-forte): the quiet in-between strokes of funk and shuffle grooves."""


class _KitPiece(instrument.UnpitchedPercussion):
    """A drum of the kit, always on the GM percussion channel (10, index 9)."""

    def autoAssignMidiChannel(self, usedChannels: list[int], maxMidi: int = 16) -> int:
        # music21 hands each instrument of a part its own channel; every drum shares channel 10.
        self.midiChannel = 9
        return 9


# music21 writes one <score-instrument> per instrument *class*, so each drum needs a class of its own
# for its notes to carry their own <instrument id>.
_PIECE_CLASSES: dict[str, type[_KitPiece]] = {
    name: type(f"_{name.title().replace('_', '')}", (_KitPiece,), {}) for name in KIT
}


def _instrument_id(name: str) -> str:
    return f"P1-I{KIT[name].gm_note + 1}"  # the scheme notation programs use: GM key + 1


def _piece(name: str) -> _KitPiece:
    drum = KIT[name]
    piece = _PIECE_CLASSES[name]()
    piece.instrumentName = drum.name
    piece.instrumentAbbreviation = drum.abbreviation
    piece.instrumentId = _instrument_id(name)
    piece.percMapPitch = drum.gm_note
    piece.midiChannel = 9
    return piece


def build_score(
    transcription: Transcription, title: str, *, artist: str | None = None, automatic_ghosts: bool = True
) -> stream.Score:
    """A music21 Score of the transcription: one drum-set staff, two voices, tempo mark, title and the
    artist (MusicXML's composer credit, where notation programs look for it).

    Strokes marked as ghosts or accents are written so; with `automatic_ghosts`, snare strokes quieter
    than `ghost_limit` are ghost notes too (an edited sheet turns that off: its marks are the editor's).
    """
    if not transcription.bars:
        raise TranscriptionError("There are no bars to engrave.")
    score = stream.Score()
    score.metadata = metadata.Metadata()
    score.metadata.title = title
    score.metadata.movementName = title
    score.metadata.add("transcriber", TRANSCRIBER)
    if artist:
        score.metadata.composer = artist

    part = stream.Part()
    part.partName = "Drums"
    part.partAbbreviation = "Dr."
    pieces = {name: _piece(name) for name in KIT}
    for piece in pieces.values():
        part.insert(0, piece)

    quiet_below = ghost_limit(transcription) if automatic_ghosts else 0.0
    previous: Bar | None = None
    signature: meter.TimeSignature  # set by the first bar, and again where the metre changes
    for bar in transcription.bars:
        measure = stream.Measure(number=bar.number)
        if previous is None or bar.time_signature != previous.time_signature:
            signature = meter.TimeSignature(bar.time_signature)
            signature.beamSequence = _beam_sequence(bar.time_signature)
            measure.insert(0, signature)
        if previous is None:
            measure.insert(0, clef.PercussionClef())
            bpm = transcription.tempo_bpm
            measure.insert(
                0, tempo.MetronomeMark(number=int(bpm) if bpm == int(bpm) else bpm, referent=_counted_note(bar))
            )
        if bar.swing != (previous is not None and previous.swing):
            words = expressions.TextExpression(_SWING if bar.swing else _STRAIGHT)
            words.placement = "above"  # with the tempo, where a reader looks for the feel
            measure.insert(0, words)
        previous = bar
        beats_played = {
            hands: {math.floor(h.offset / bar.beat_length) for h in bar.hits if KIT[h.instrument].hands == hands}
            for hands in (True, False)
        }
        for voice_number, hands in ((1, True), (2, False)):
            voice = stream.Voice(id=str(voice_number))
            hits = [h for h in bar.hits if KIT[h.instrument].hands == hands]
            elements = list(_voice_elements(bar, hits, hands, pieces, quiet_below, beats_played[not hands]))
            _hide_rests(elements, hands, bar.beat_length, beats_played[hands], beats_played[not hands])
            for element in elements:
                voice.append(element)
            _beam(voice, signature)
            measure.insert(0, voice)
        if bar is transcription.bars[-1]:
            measure.rightBarline = music21_bar.Barline("final")
        part.append(measure)
    score.insert(0, part)
    return score


def _beam_sequence(time_signature: str) -> meter.MeterSequence:
    """Beams by counted beat; in 2/2 the 16ths' second beam breaks at each quarter, as cut-time charts
    write them (eight 16ths under one unbroken pair of beams are hard to count)."""
    sequence = meter.MeterSequence(time_signature, counted_beats(time_signature))
    per = written_per_counted(time_signature)
    if per > 1:
        for i in range(len(sequence)):
            sequence[i] = sequence[i].subdivide(per)
    return sequence


def _counted_note(bar: Bar) -> note.Note:
    """The note value of the counted beat, as the tempo mark names it: a quarter, a dotted quarter in
    6/8 and 12/8, a half in 2/2."""
    return note.Note(quarterLength=beat_quarters(bar.time_signature))


def _beam(voice: stream.Voice, signature: meter.TimeSignature) -> None:
    """Beam `voice`'s notes by beat, as `signature`'s beam sequence groups them.

    Stems stay as the voices set them, and tuplet brackets as _beat_elements set them (one per beat).
    music21's Part.makeBeams does the same, but looks each measure's time signature up again through
    the whole part, which took most of the notation stage's time on a long song.
    """
    notes: stream.Stream[note.GeneralNote] = voice.notesAndRests.stream()
    if len(notes) < 2:
        return
    for element, beams in zip(notes, signature.getBeams(notes), strict=True):
        if isinstance(element, note.NotRest):  # a rest has no beams to write
            element.beams = beams if beams is not None else beam.Beams()


def write_musicxml(score: stream.Score, path: Path, *, simile: bool = False) -> None:
    """Write `score` as uncompressed MusicXML, atomically.

    With `simile`, a bar that repeats the bar before it note for note is written as a measure-repeat
    sign (SHEET_SIMILE); its notes stay in the file, so programs that play it back still hear them.
    """
    try:
        exporter = GeneralObjectExporter(score)
        # build_score writes every voice's rests, beams and tuplet brackets itself: music21's own pass
        # (a deep copy of the score, then makeRests and makeNotation) would only redo that work.
        exporter.makeNotation = False
        data = exporter.parse()
    except Exception as exc:  # music21 raises many types; all mean the same to the user
        raise TranscriptionError(f"Could not write the sheet music as MusicXML: {exc}") from exc
    start = data.index(b"<score-partwise")
    root = ET.fromstring(data[start:])
    _label_instruments(root)
    _mark_swing(root)
    if simile:
        _mark_repeated_bars(root)
    ET.indent(root, space="  ")
    write_bytes_atomic(Path(path), data[:start] + ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n")


_SWING, _STRAIGHT = "Swing", "Straight"
"""The directions that start and end a swung passage."""


def _mark_swing(root: ET.Element) -> None:
    """Give each "Swing" and "Straight" direction the <sound> that tells playback software (MusicXML 4's
    <swing>: 8ths as 2:1, or straight); music21 writes the words but has no such element."""
    for direction in root.iter("direction"):
        words = direction.findtext("direction-type/words")
        if words not in (_SWING, _STRAIGHT) or direction.find("sound") is not None:
            continue
        swing = ET.SubElement(ET.SubElement(direction, "sound"), "swing")
        if words == _STRAIGHT:
            ET.SubElement(swing, "straight")
            continue
        for tag, text in (("first", "2"), ("second", "1"), ("swing-type", "eighth")):
            ET.SubElement(swing, tag).text = text


def _label_instruments(root: ET.Element) -> None:
    """Give every note the <instrument> of its drum.

    music21 labels a chord's notes with one instrument for the whole chord (so a snare under a hi-hat
    would claim to be whatever the chord resolves to); staff position and notehead name the drum
    unambiguously, so the labels are rewritten from those.
    """
    by_look = {(drum.display, drum.notehead): _instrument_id(name) for name, drum in KIT.items()}
    for element in root.iter("note"):
        unpitched = element.find("unpitched")
        if unpitched is None:
            continue
        display = unpitched.findtext("display-step", "") + unpitched.findtext("display-octave", "")
        look = (display, element.findtext("notehead", "normal"))
        label = element.find("instrument")
        if look not in by_look:
            continue
        if label is None:
            label = ET.Element("instrument")
            voice = element.find("voice")
            element.insert(list(element).index(voice) if voice is not None else len(element), label)
        label.set("id", by_look[look])


_SAME_BAR_ELEMENTS = ("note", "backup", "forward")
"""What a bar plays: two bars with these alike (loudness aside) read the same to a drummer."""


def _mark_repeated_bars(root: ET.Element) -> None:
    """Mark each run of bars that repeat the bar before them with MusicXML's one-bar repeat sign.

    The sign starts in the first repeating bar and stops in the first bar that differs. A bar
    that changes the time signature, or has a direction (a tempo, a "Swing" or "Straight"), is
    written out.
    """
    for part in root.iter("part"):
        previous: list[bytes] | None = None
        repeating = False
        for measure in part.iter("measure"):
            content = _bar_content(measure)
            changes = measure.find("attributes/time") is not None or measure.find("direction") is not None
            same = content == previous and not changes
            if same != repeating:
                style = ET.SubElement(_attributes(measure), "measure-style")
                sign = ET.SubElement(style, "measure-repeat", type="start" if same else "stop")
                if same:
                    sign.text = "1"  # repeat one bar: the "%" sign
                repeating = same
            previous = content


def _bar_content(measure: ET.Element) -> list[bytes]:
    """The notes (with their voice moves) of a bar, their loudness left out."""
    content = []
    for element in measure:
        if element.tag in _SAME_BAR_ELEMENTS:
            copy = ET.fromstring(ET.tostring(element))
            copy.attrib.pop("dynamics", None)
            content.append(ET.tostring(copy))
    return content


def _attributes(measure: ET.Element) -> ET.Element:
    """The bar's <attributes>, made (before its notes) when it has none."""
    attributes = measure.find("attributes")
    if attributes is None:
        attributes = ET.Element("attributes")
        measure.insert(0, attributes)
    return attributes


# ---------------------------------------------------------------------------------------------------


def ghost_limit(transcription: Transcription) -> float:
    """Velocity below which a snare stroke of this transcription is written as a ghost note."""
    snares = [h.velocity for bar in transcription.bars for h in bar.hits if h.instrument == "snare"]
    if not snares:
        return 0.0
    loud = float(np.percentile(snares, 90))
    return min(_GHOST_MAX_VELOCITY, _GHOST_FRACTION * loud)


def _voice_elements(
    bar: Bar,
    hits: list[QuantizedHit],
    hands: bool,
    pieces: dict[str, _KitPiece],
    quiet_below: float,
    other_beats: set[int],
) -> Iterable[note.GeneralNote]:
    """Notes, chords and rests of one voice in one bar, in order.

    Silent beats merge into longer rests only where the other voice's playing leaves them all
    printed or all hidden (`other_beats`: the beats, of `bar.beat_length` each, in which the other
    voice plays).
    """
    if not hits and (not other_beats or not hands):
        rest = note.Rest(quarterLength=bar.beats * bar.beat_length)
        rest.fullMeasure = True
        return [rest]

    by_offset: dict[Fraction, list[QuantizedHit]] = {}
    for hit in hits:
        by_offset.setdefault(hit.offset, []).append(hit)
    elements: list[note.GeneralNote] = []
    empty_run: list[int] = []
    length = bar.beat_length
    compound = is_compound(bar.time_signature)
    for beat in range(bar.beats):
        # Positions within the beat, as fractions of it.
        in_beat = {o / length - beat: hs for o, hs in by_offset.items() if beat <= o / length < beat + 1}
        if not in_beat:
            empty_run.append(beat)
            continue
        elements += _rests_for_empty_beats(empty_run, bar.beats, length, other_beats)
        empty_run = []
        elements += _beat_elements(in_beat, bar.subdivisions[beat], compound, hands, pieces, quiet_below)
    return elements + _rests_for_empty_beats(empty_run, bar.beats, length, other_beats)


def _hide_rests(
    elements: list[note.GeneralNote], hands: bool, beat_length: Fraction, own_beats: set[int], other_beats: set[int]
) -> None:
    """Mark the rests of one voice's bar that are not printed.

    A rest is hidden when the other voice plays in a beat it spans (that voice carries the beat). A
    foot rest is also hidden where the feet are silent for its whole beat: there the hands' rest is
    the one printed, so a silent stretch shows one rest, not two. Beats are `beat_length` quarters
    long (a dotted quarter in 6/8 and 12/8).
    """
    start = Fraction(0)
    for element in elements:
        end = start + Fraction(element.duration.quarterLength)
        if isinstance(element, note.Rest):
            spanned = range(math.floor(start / beat_length), math.ceil(end / beat_length))
            hidden = any(b in other_beats for b in spanned) or (not hands and not all(b in own_beats for b in spanned))
            element.style.hideObjectOnPrint = hidden
        start = end


def _beat_elements(
    strokes: dict[Fraction, list[QuantizedHit]],
    subdivision: int,
    compound: bool,
    hands: bool,
    pieces: dict[str, _KitPiece],
    quiet_below: float,
) -> list[note.GeneralNote]:
    """One beat of one voice: each stroke lasts until the next (or the beat's end), rests fill gaps.

    The voice is written on the simplest grid that holds its strokes (a lone kick under hi-hat
    triplets is a plain quarter), and a tuplet bracket spans exactly the beat.
    """
    # Simplest first: straight 16ths (which hold quarters and 8ths too), then 8th triplets, which a
    # 16th-triplet beat also contains, or 32nds; in compound metres 8ths, then 16ths. The beat's own
    # grid always holds its strokes.
    if compound:
        grids = {3: (3,), 6: (3, 6)}[subdivision]
    else:
        grids = {2: (4,), 4: (4,), 8: (4, 8), 3: (4, 3), 6: (4, 3, 6)}[subdivision]
    n = next(g for g in grids if all((offset * g).denominator == 1 for offset in strokes))
    tuplet = not compound and n in (3, 6)
    beat = Fraction(3, 2) if compound else Fraction(1)

    def value(ticks: int) -> duration.Duration:
        return _duration(ticks, n) if tuplet else _plain_duration(Fraction(ticks, n) * beat)

    lengths = _NOTE_TICKS[n] if tuplet else [x for x in range(1, n + 1) if Fraction(x, n) * beat in _PLAIN_VALUES]
    ticks = sorted(int(o * n) for o in strokes)
    elements: list[note.GeneralNote] = [note.Rest(duration=value(r)) for r in _rest_lengths(0, ticks[0], n)]
    for i, start in enumerate(ticks):
        end = ticks[i + 1] if i + 1 < len(ticks) else n
        length = max(x for x in lengths if x <= end - start)
        stroke = _stroke(strokes[Fraction(start, n)], hands, pieces, quiet_below)
        stroke.duration = value(length)
        elements.append(stroke)
        elements += [note.Rest(duration=value(r)) for r in _rest_lengths(start + length, end, n)]
    if tuplet:
        elements[0].duration.tuplets[0].type = "start"
        elements[-1].duration.tuplets[0].type = "stop" if len(elements) > 1 else "startStop"
        for element in elements:
            element.duration.tuplets[0].placement = "above" if hands else "below"
    return elements


_NOTE_TICKS = {4: (1, 2, 3, 4), 3: (1, 2, 3), 6: (1, 2, 3, 4, 6)}
"""Stroke lengths (in ticks of 1/n beat) that are one note value: everything but 5/6 of a beat."""

_TYPES = {1: ("16th", 0), 2: ("eighth", 0), 3: ("eighth", 1), 4: ("quarter", 0), 6: ("quarter", 1)}
_TRIPLET_TYPES = {1: ("eighth", 0), 2: ("quarter", 0), 3: ("quarter", 1)}


def _duration(ticks: int, n: int) -> duration.Duration:
    """The note value of `ticks` 1/n-beats: plain 16th-based values, or under a 3:2 (8th triplet) or
    6:4 (16th sextuplet) bracket."""
    kind, dots = (_TRIPLET_TYPES if n == 3 else _TYPES)[ticks]
    value = duration.Duration(type=kind, dots=dots)
    if n == 3:
        value.appendTuplet(duration.Tuplet(3, 2, "eighth"))
    elif n == 6:
        value.appendTuplet(duration.Tuplet(6, 4, "16th"))
    return value


_PLAIN_VALUES: dict[Fraction, tuple[str, int]] = {
    Fraction(1, 8): ("32nd", 0),
    Fraction(1, 4): ("16th", 0),
    Fraction(3, 8): ("16th", 1),
    Fraction(1, 2): ("eighth", 0),
    Fraction(3, 4): ("eighth", 1),
    Fraction(1): ("quarter", 0),
    Fraction(3, 2): ("quarter", 1),
}
"""Note values (in quarter notes) of straight grids that are one note, dotted at most."""


def _plain_duration(quarters: Fraction) -> duration.Duration:
    kind, dots = _PLAIN_VALUES[quarters]
    return duration.Duration(type=kind, dots=dots)


def _rests_for_empty_beats(
    beats: list[int], beats_per_bar: int, beat_length: Fraction, other_beats: set[int]
) -> list[note.Rest]:
    """Rests for a run of silent beats: one rest for beats 1–2 or 3–4 of a four-beat bar (a half rest in
    4/4, a dotted half in 12/8), else one per beat.

    Two beats share a rest only when the other voice plays in both or in neither of them, so that the
    rest is printed or hidden as a whole.
    """
    rests = []
    i = 0
    while i < len(beats):
        pair = (
            i + 1 < len(beats)
            and beats[i + 1] == beats[i] + 1
            and (beats[i] in other_beats) == (beats[i + 1] in other_beats)
        )
        if beats_per_bar == 4 and pair and beats[i] % 2 == 0:
            rests.append(note.Rest(quarterLength=2 * beat_length))
            i += 2
        else:
            rests.append(note.Rest(quarterLength=beat_length))
            i += 1
    return rests


def _rest_lengths(start: int, end: int, n: int) -> list[int]:
    """Rest durations (ticks) filling `start`..`end`.

    With 8th triplets any gap is one rest; with 16ths (and 16th triplets) rests come in values that
    start on the beat's 8ths (or 8th triplets), so the reader always sees where the half beat is.
    """
    lengths = []
    tick = start
    while tick < end:
        length = end - tick if n == 3 else 2 if tick % 2 == 0 and end - tick >= 2 else 1
        lengths.append(length)
        tick += length
    return lengths


def _stroke(hits: list[QuantizedHit], hands: bool, pieces: dict[str, _KitPiece], quiet_below: float) -> note.NotRest:
    """One note (or chord of notes) for the strokes sounding together in a voice."""
    notes = []
    for hit in sorted(hits, key=lambda h: KIT[h.instrument].display):
        drum = KIT[hit.instrument]
        unpitched = note.Unpitched(displayName=drum.display)
        unpitched.notehead = drum.notehead
        unpitched.storedInstrument = pieces[hit.instrument]
        unpitched.volume.velocity = hit.velocity
        if hit.ghost or (hit.instrument == "snare" and hit.velocity < quiet_below):
            unpitched.noteheadParenthesis = True
        notes.append(unpitched)
    stroke: note.NotRest = notes[0] if len(notes) == 1 else percussion.PercussionChord(notes)
    # A chord's own instrument spares music21 a context search per note when it writes the file;
    # _label_instruments gives each note its drum's label afterwards.
    stroke.storedInstrument = notes[0].storedInstrument
    stroke.stemDirection = "up" if hands else "down"
    if any(h.instrument == "hihat_open" for h in hits):
        stroke.articulations.append(articulations.OpenString())
    # Articulations belong to the stroke: one accent above (or below) the stem, for any accented note of it.
    if any(h.accent for h in hits):
        stroke.articulations.append(articulations.Accent())
    return stroke
