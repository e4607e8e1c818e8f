"""Notation: tempo and bars from hits, drum-set engraving, the MIDI file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import mido
import numpy as np
import pytest
from music21 import converter, note, percussion

from app.core.errors import TranscriptionError
from app.pipeline.hits import Hit
from app.pipeline.notation import build_score, transcribe, write_midi, write_musicxml
from app.pipeline.notation.midi import GM_NOTES
from app.synth.grooves import CRASH_AND_RIDE, FUNK_SIXTEENTHS, ROCK_BEAT, TOM_FILL, Groove, Pattern, groove_from_pattern

SHUFFLE: Pattern = {
    "kick": [(0.0, 110), (2.0, 110)],
    "snare": [(1.0, 100), (3.0, 100)],
    "ride": [(b + t, 90) for b in range(4) for t in (0.0, 2 / 3)],
}
"""Swung eighths on the ride: the second note of each beat on the last triplet."""


def hits_of(groove: Groove, jitter_s: float = 0.0, seed: int = 0) -> list[Hit]:
    rng = np.random.default_rng(seed)
    return [
        Hit(max(0.0, e.time + rng.uniform(-jitter_s, jitter_s)), e.instrument, e.velocity, 0.9) for e in groove.events
    ]


@pytest.mark.parametrize("bpm", [90.0, 120.0, 150.0])
def test_tempo_of_a_steady_groove_is_exact(bpm: float) -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=bpm, bars=8, start_s=0.4)
    result = transcribe(hits_of(groove, jitter_s=0.01), duration_s=groove.duration_s + 1.4)
    assert result.tempo_bpm == pytest.approx(bpm, abs=0.5)
    assert result.time_signature == "4/4"
    assert len(result.bars) == 8


def test_straight_sixteenths_and_triplets_are_told_apart() -> None:
    funk = transcribe(hits_of(groove_from_pattern(FUNK_SIXTEENTHS, bpm=96, bars=4)), duration_s=11.0)
    assert {s for bar in funk.bars for s in bar.subdivisions} == {4}
    shuffle = transcribe(hits_of(groove_from_pattern(SHUFFLE, bpm=110, bars=4)), duration_s=10.0)
    ride_offsets = {h.offset % 1 for bar in shuffle.bars for h in bar.hits if h.instrument == "ride"}
    assert ride_offsets == {0, Fraction(2, 3)}


def test_no_hits_is_a_clear_error() -> None:
    with pytest.raises(TranscriptionError, match="No drum hits"):
        transcribe([], duration_s=10.0)


@pytest.fixture(scope="module")
def engraved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    groove = groove_from_pattern({**FUNK_SIXTEENTHS}, bpm=100, bars=2, start_s=0.3)
    fill = groove_from_pattern(TOM_FILL, bpm=100, bars=1, start_s=0.3 + groove.duration_s)
    crash = groove_from_pattern(CRASH_AND_RIDE, bpm=100, bars=1, start_s=0.3 + groove.duration_s + fill.duration_s)
    hits = sorted(hits_of(groove) + hits_of(fill) + hits_of(crash), key=lambda h: h.time)
    result = transcribe(hits, duration_s=0.3 + 4 * 2.4 + 1.0)
    path = tmp_path_factory.mktemp("sheet") / "sheet_music.musicxml"
    write_musicxml(build_score(result, "Test Groove"), path)
    return path


def test_bars_voices_and_stems(engraved: Path) -> None:
    score = converter.parse(engraved)
    measures = score.parts[0].getElementsByClass("Measure")
    assert len(measures) == 4
    assert len(measures[0].voices) == 2
    assert score.metadata.bestTitle == "Test Groove"
    stems: dict[str, set[str]] = {}
    for element in ET.parse(engraved).getroot().iter("note"):
        # A chord's stem is written on its first note.
        if element.find("rest") is None and element.find("chord") is None:
            stems.setdefault(element.findtext("voice", ""), set()).add(element.findtext("stem", ""))
    assert stems == {"1": {"up"}, "2": {"down"}}, "hands stems up, feet stems down"


def test_each_drum_sits_on_its_line_with_its_notehead(engraved: Path) -> None:
    seen: dict[str, set[str]] = {}
    for element in converter.parse(engraved).recurse().notes:
        notes = element.notes if isinstance(element, percussion.PercussionChord) else [element]
        for n in notes:
            assert isinstance(n, note.Unpitched)
            seen.setdefault(n.displayName, set()).add(n.notehead)
    assert seen["F4"] == {"normal"}  # kick, bottom space
    assert seen["C5"] == {"normal"}  # snare, third space
    assert seen["G5"] == {"x", "circle-x"}  # hi-hat above the staff, open one circled
    assert seen["F5"] == {"x"} and seen["A5"] == {"x"}  # ride on the top line, crash above
    assert {"E5", "D5", "A4"} <= set(seen)  # high, mid and low tom


def test_tempo_mark_in_the_musicxml(engraved: Path) -> None:
    text = engraved.read_text()
    assert "<per-minute>100</per-minute>" in text and "<unpitched>" in text


def test_midi_is_the_performance_on_channel_10(tmp_path: Path) -> None:
    hits = [Hit(0.5, "kick", 100, 0.9), Hit(0.5, "hihat_closed", 80, 0.9), Hit(1.013, "snare", 64, 0.8)]
    write_midi(hits, 120.0, tmp_path / "drums.mid")
    now, played = 0.0, []
    for message in mido.MidiFile(tmp_path / "drums.mid"):
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            played.append((round(now, 3), message.note, message.velocity, message.channel))
    assert played == [
        (0.5, GM_NOTES["kick"], 100, 9),
        (0.5, GM_NOTES["hihat_closed"], 80, 9),
        (1.013, GM_NOTES["snare"], 64, 9),
    ]
