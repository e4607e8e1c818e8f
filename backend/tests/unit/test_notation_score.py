"""Drum-set notation with music21 and its MusicXML (app.pipeline.notation.score)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest
from music21 import converter

from app.core.errors import TranscriptionError
from app.pipeline.hits import INSTRUMENTS, Hit
from app.pipeline.notation import (
    Bar,
    FixedGrid,
    QuantizedHit,
    Transcription,
    build_score,
    transcribe,
    write_musicxml,
)
from app.pipeline.notation.kit import KIT
from app.synth.grooves import CRASH_AND_RIDE, FUNK_SIXTEENTHS, ROCK_BEAT, TOM_FILL, Pattern, groove_from_pattern

SHUFFLE: Pattern = {
    "kick": [(0.0, 110), (2.0, 110)],
    "snare": [(1.0, 105), (3.0, 105)],
    "ride": [(b + t, 90) for b in range(4) for t in (0.0, 2 / 3)],
}
TRIPLETS: Pattern = {
    "kick": [(0.0, 110), (2.0, 110)],
    "snare": [(1.0, 105), (3.0, 105)],
    "ride": [(b + t, 90) for b in range(4) for t in (0.0, 1 / 3, 2 / 3)],
}
SEXTUPLETS: Pattern = {"kick": [(0.0, 110)], "snare": [(i / 6, 100) for i in range(6)]}

BPM = 100
BAR_S = 4 * 60 / BPM


def song(*patterns: Pattern) -> list[Hit]:
    """One bar of each pattern, in order, at 100 bpm."""
    hits = []
    for index, pattern in enumerate(patterns):
        for e in groove_from_pattern(pattern, bpm=BPM, bars=1, start_s=index * BAR_S).events:
            hits.append(Hit(e.time, e.instrument, e.velocity, 0.9))
    return hits


def engrave(tmp_path: Path, *patterns: Pattern) -> tuple[Transcription, ET.Element]:
    hits = song(*patterns)
    transcription = transcribe(hits, duration_s=len(patterns) * BAR_S)
    path = tmp_path / "sheet_music.musicxml"
    write_musicxml(build_score(transcription, "Kit Check"), path)
    return transcription, ET.parse(path).getroot()


def engrave_bars(
    tmp_path: Path, *bars: list[tuple[Fraction | int, str]], simile: bool = False, velocity: int = 100
) -> ET.Element:
    """The MusicXML of 4/4 bars at 120 bpm, each given as its strokes (offset in beats, instrument);
    each bar's strokes a little louder than the last bar's."""
    made = tuple(
        Bar(
            n,
            2.0 * (n - 1),
            (4, 4, 4, 4),
            tuple(QuantizedHit(Fraction(o), i, velocity + n, 0.0) for o, i in strokes),
        )
        for n, strokes in enumerate(bars, start=1)
    )
    transcription = Transcription(120.0, "4/4", tuple(0.5 * k for k in range(4 * len(made))), made)
    path = tmp_path / "sheet_music.musicxml"
    write_musicxml(build_score(transcription, "Rests"), path, simile=simile)
    return ET.parse(path).getroot()


def rests(root: ET.Element, measure: int, voice: str) -> list[tuple[str, bool]]:
    """(note value, or "measure" for a bar rest; printed?) of every rest of one voice in one measure."""
    found = []
    for n in root.find(f"part/measure[@number='{measure}']").iter("note"):
        if n.findtext("voice") == voice and n.find("rest") is not None:
            kind = "measure" if n.find("rest").get("measure") == "yes" else n.findtext("type")
            found.append((kind, n.get("print-object") != "no"))
    return found


@pytest.fixture(scope="module")
def kit_song(tmp_path_factory: pytest.TempPathFactory) -> ET.Element:
    """Rock, funk (open hi-hat, ghost notes), a tom fill and crash/ride: every drum of the kit."""
    return engrave(tmp_path_factory.mktemp("kit"), ROCK_BEAT, FUNK_SIXTEENTHS, TOM_FILL, CRASH_AND_RIDE)[1]


def notes(root: ET.Element) -> list[ET.Element]:
    return [n for n in root.iter("note") if n.find("unpitched") is not None]


def test_the_kit_covers_the_instrument_vocabulary() -> None:
    assert tuple(KIT) == INSTRUMENTS


def test_a_four_bar_groove_is_four_measures(tmp_path: Path) -> None:
    _, root = engrave(tmp_path, ROCK_BEAT, ROCK_BEAT, ROCK_BEAT, ROCK_BEAT)
    assert len(root.findall("part/measure")) == 4
    assert root.find("part/measure[last()]/barline/bar-style").text == "light-heavy"


def test_every_drum_has_its_staff_position_notehead_and_instrument(kit_song: ET.Element) -> None:
    names = {i.get("id"): i.findtext("instrument-name") for i in kit_song.iter("score-instrument")}
    seen: dict[str, set[tuple[str, str]]] = {}
    for element in notes(kit_song):
        display = element.findtext("unpitched/display-step") + element.findtext("unpitched/display-octave")
        instrument = names[element.find("instrument").get("id")]
        seen.setdefault(instrument, set()).add((display, element.findtext("notehead", "normal")))
    assert seen == {
        "Bass Drum": {("F4", "normal")},  # bottom space
        "Snare Drum": {("C5", "normal")},  # third space
        "Closed Hi-Hat": {("G5", "x")},  # space above the staff
        "Open Hi-Hat": {("G5", "circle-x")},
        "Ride Cymbal": {("F5", "x")},  # top line
        "Crash Cymbal": {("A5", "x")},  # ledger line above
        "High Tom": {("E5", "normal")},
        "Mid Tom": {("D5", "normal")},
        "Floor Tom": {("A4", "normal")},
    }


def test_drums_play_on_midi_channel_10(kit_song: ET.Element) -> None:
    channels = {m.findtext("midi-channel") for m in kit_song.iter("midi-instrument")}
    unpitched = {m.get("id"): int(m.findtext("midi-unpitched")) - 1 for m in kit_song.iter("midi-instrument")}
    assert channels == {"10"}
    assert sorted(unpitched.values()) == sorted(drum.gm_note for drum in KIT.values())
    assert kit_song.findtext("part-list/score-part/part-name") == "Drums"


def test_hands_stems_up_feet_stems_down(kit_song: ET.Element) -> None:
    stems: dict[str, set[str]] = {}
    for element in notes(kit_song):
        if element.find("chord") is None:  # a chord's stem is written on its first note
            stems.setdefault(element.findtext("voice"), set()).add(element.findtext("stem"))
    assert stems == {"1": {"up"}, "2": {"down"}}
    kick_voices = {
        n.findtext("voice")
        for n in notes(kit_song)
        if n.findtext("unpitched/display-octave") == "4" and n.findtext("unpitched/display-step") == "F"
    }
    assert kick_voices == {"2"}


def test_every_measure_adds_up_in_both_voices(kit_song: ET.Element) -> None:
    assert_measures_add_up(kit_song)


def assert_measures_add_up(root: ET.Element) -> None:
    divisions = int(root.findtext("part/measure/attributes/divisions"))
    for measure in root.iter("measure"):
        for voice in ("1", "2"):
            total = sum(
                int(n.findtext("duration"))
                for n in measure.iter("note")
                if n.findtext("voice") == voice and n.find("chord") is None
            )
            assert total == 4 * divisions, f"measure {measure.get('number')} voice {voice}"


def test_open_hi_hat_is_marked_and_ghost_notes_are_in_parentheses(kit_song: ET.Element) -> None:
    open_hats = [n for n in notes(kit_song) if n.findtext("notehead") == "circle-x"]
    assert open_hats and all(n.find("notations/technical/open-string") is not None for n in open_hats)
    snares = [n for n in notes(kit_song) if n.findtext("unpitched/display-step") == "C"]
    ghosts = [n for n in snares if n.find("notehead[@parentheses='yes']") is not None]
    assert len(ghosts) == 2, "FUNK_SIXTEENTHS has two ghost strokes"
    assert len(snares) - len(ghosts) == 2 + 2 + 2 + 2, "the backbeats and the fill's snares are plain"


def test_beams_group_by_beat(kit_song: ET.Element) -> None:
    rock = kit_song.find("part/measure[@number='1']")
    hands = [n for n in rock.iter("note") if n.findtext("voice") == "1" and n.find("chord") is None]
    assert [n.findtext("beam[@number='1']") for n in hands] == ["begin", "end"] * 4


def test_an_empty_foot_voice_is_one_hidden_bar_rest(kit_song: ET.Element) -> None:
    toms = kit_song.find("part/measure[@number='3']")
    feet = [n for n in toms.iter("note") if n.findtext("voice") == "2"]
    assert len(feet) == 1 and feet[0].find("rest").get("measure") == "yes"
    assert feet[0].get("print-object") == "no"


def test_a_voice_bar_rest_is_hidden_when_the_other_voice_plays(tmp_path: Path) -> None:
    feet_only = [(b, "kick") for b in range(4)]
    root = engrave_bars(tmp_path, feet_only, [])
    assert [printed for _, printed in rests(root, 1, "1")] == [False, False]
    assert rests(root, 2, "1") == [("measure", True)], "a silent bar shows one bar rest"
    assert rests(root, 2, "2") == [("measure", False)]


def test_feet_rests_are_hidden_where_the_hands_play(tmp_path: Path) -> None:
    root = engrave_bars(tmp_path, [(0, "snare"), (2, "kick")])  # snare on 1, kick on 3
    assert rests(root, 1, "1") == [("quarter", True), ("quarter", False), ("quarter", True)]
    assert rests(root, 1, "2") == [("quarter", False), ("quarter", False), ("quarter", False)]


def test_where_both_voices_rest_only_the_hands_rest_is_printed(tmp_path: Path) -> None:
    root = engrave_bars(tmp_path, [(0, "kick"), (0, "crash")])  # a crash on 1, then silence
    assert rests(root, 1, "1") == [("quarter", True), ("half", True)]
    assert rests(root, 1, "2") == [("quarter", False), ("half", False)]


def test_the_feet_print_their_rests_in_a_beat_they_carry(tmp_path: Path) -> None:
    root = engrave_bars(tmp_path, [(Fraction(1, 2), "kick"), (1, "snare"), (Fraction(3, 2), "kick"), (3, "snare")])
    assert rests(root, 1, "1") == [("quarter", False), ("quarter", True)]  # the kick carries beat 1; beat 3 is silent
    assert rests(root, 1, "2") == [("eighth", True), ("eighth", False), ("quarter", False), ("quarter", False)]


def test_a_rest_within_a_beat_is_hidden_when_the_other_voice_plays_in_that_beat(tmp_path: Path) -> None:
    root = engrave_bars(tmp_path, [(Fraction(1, 4), "snare"), (1, "snare"), (Fraction(5, 4), "kick"), (3, "kick")])
    assert rests(root, 1, "1") == [("16th", True), ("quarter", True), ("quarter", False)]
    assert rests(root, 1, "2") == [("quarter", False), ("16th", False), ("quarter", False)]
    assert_measures_add_up(root)


def test_silent_beats_merge_into_half_rests(kit_song: ET.Element, tmp_path: Path) -> None:
    crash = kit_song.find("part/measure[@number='4']")  # kick on 1 and 3 only
    feet = [(n.find("rest") is not None, n.findtext("type")) for n in crash.iter("note") if n.findtext("voice") == "2"]
    assert feet == [(False, "quarter"), (True, "quarter"), (False, "quarter"), (True, "quarter")]
    _, root = engrave(tmp_path, {"kick": [(0.0, 100), (1.0, 100)], "snare": [(0.0, 100)]})
    feet = [n.findtext("type") for n in root.find("part/measure").iter("note") if n.findtext("voice") == "2"]
    assert feet == ["quarter", "quarter", "half"]


def test_triplets_are_bracketed_per_beat(tmp_path: Path) -> None:
    _, root = engrave(tmp_path, TRIPLETS, TRIPLETS)
    ride = [n for n in root.find("part/measure").iter("note") if n.findtext("voice") == "1" and n.find("chord") is None]
    assert [n.findtext("type") for n in ride] == ["eighth"] * 12
    assert [t.get("type") if (t := n.find("notations/tuplet")) is not None else None for n in ride] == [
        "start",
        None,
        "stop",
    ] * 4
    assert {n.findtext("time-modification/actual-notes") for n in ride} == {"3"}
    feet = [n for n in root.find("part/measure").iter("note") if n.findtext("voice") == "2"]
    assert all(n.find("time-modification") is None for n in feet), "a lone kick is a plain quarter"


def test_sixteenth_triplets_are_sextuplets(tmp_path: Path) -> None:
    _, root = engrave(tmp_path, ROCK_BEAT, SEXTUPLETS)
    fill = [n for n in root.find("part/measure[@number='2']").iter("note") if n.findtext("voice") == "1"]
    first_beat = fill[:6]
    assert [n.findtext("type") for n in first_beat] == ["16th"] * 6
    assert {n.findtext("time-modification/actual-notes") for n in first_beat} == {"6"}
    assert [n.find("notations/tuplet") is not None for n in first_beat] == [True, False, False, False, False, True]


def test_tempo_title_and_transcriber(kit_song: ET.Element) -> None:
    assert kit_song.findtext("part/measure/direction/direction-type/metronome/per-minute") == str(BPM)
    assert kit_song.find("part/measure/direction/sound").get("tempo") == str(BPM)
    assert kit_song.findtext("movement-title") == "Kit Check"
    assert kit_song.findtext("identification/creator[@type='transcriber']") == "DrumScribe"
    assert kit_song.findtext("part/measure/attributes/clef/sign") == "percussion"


def test_music21_reads_the_file_back(tmp_path: Path) -> None:
    transcription, _ = engrave(tmp_path, ROCK_BEAT, ROCK_BEAT)
    score = converter.parse(tmp_path / "sheet_music.musicxml")
    measures = score.parts[0].getElementsByClass("Measure")
    assert len(measures) == len(transcription.bars) == 2
    assert all(len(m.voices) == 2 for m in measures)


def test_no_bars_is_a_clear_error() -> None:
    with pytest.raises(TranscriptionError, match="no bars"):
        build_score(Transcription(tempo_bpm=120.0, time_signature="4/4", beat_times=(), bars=()), "Empty")


ROCK_STROKES: list[tuple[Fraction | int, str]] = [
    *((Fraction(k, 2), "hihat_closed") for k in range(8)),
    (0, "kick"),
    (2, "kick"),
    (Fraction(5, 2), "kick"),
    (1, "snare"),
    (3, "snare"),
]
FILL_STROKES: list[tuple[Fraction | int, str]] = [(Fraction(k, 2), "tom_high") for k in range(8)]


def repeat_signs(root: ET.Element) -> list[str | None]:
    """Per measure: "start 1", "stop" or None, as its measure-repeat says."""
    signs = []
    for measure in root.iter("measure"):
        sign = measure.find("attributes/measure-style/measure-repeat")
        signs.append(None if sign is None else " ".join(filter(None, (sign.get("type"), sign.text))))
    return signs


def test_identical_bars_become_repeat_signs_with_their_notes_kept(tmp_path: Path) -> None:
    bars = (ROCK_STROKES, ROCK_STROKES, ROCK_STROKES, FILL_STROKES, ROCK_STROKES, ROCK_STROKES)
    root = engrave_bars(tmp_path, *bars, simile=True)
    assert repeat_signs(root) == [None, "start 1", None, "stop", None, "start 1"]
    for measure, strokes in zip(root.iter("measure"), bars, strict=True):
        assert len([n for n in measure.iter("note") if n.find("rest") is None]) == len(strokes)
    assert_measures_add_up(root)


def test_bars_are_written_out_unless_simile_is_asked_for(tmp_path: Path) -> None:
    root = engrave_bars(tmp_path, ROCK_STROKES, ROCK_STROKES, ROCK_STROKES)
    assert repeat_signs(root) == [None, None, None]


def test_a_bar_whose_ghost_notes_differ_is_written_out(tmp_path: Path) -> None:
    def bar(number: int, last_snare: int) -> Bar:
        strokes = [(Fraction(0), "kick", 110), (Fraction(1), "snare", 110), (Fraction(3), "snare", last_snare)]
        return Bar(number, 2.0 * (number - 1), (4, 4, 4, 4), tuple(QuantizedHit(o, i, v, 0.0) for o, i, v in strokes))

    bars = (bar(1, 110), bar(2, 110), bar(3, 20), bar(4, 20))  # bars 3-4 play beat 4 as a ghost note
    transcription = Transcription(120.0, "4/4", tuple(0.5 * k for k in range(16)), bars)
    write_musicxml(build_score(transcription, "Ghosts"), tmp_path / "ghosts.musicxml", simile=True)
    root = ET.parse(tmp_path / "ghosts.musicxml").getroot()
    assert repeat_signs(root) == [None, "start 1", "stop", "start 1"]


def test_rests_in_six_eight_are_hidden_by_dotted_quarter_beats(tmp_path: Path) -> None:
    # The kick's second stroke (quarter 1) is still in the first dotted-quarter beat, so the hands'
    # rest on the second beat is the only one printed there.
    strokes = [(Fraction(0), "crash"), (Fraction(0), "kick"), (Fraction(1), "kick")]
    bar = Bar(1, 0.0, (3, 3), tuple(QuantizedHit(o, i, 100, 0.0) for o, i in strokes), time_signature="6/8")
    transcription = Transcription(80.0, "6/8", (0.0, 0.75), (bar,))
    write_musicxml(build_score(transcription, "Six Eight"), tmp_path / "six_eight.musicxml")
    root = ET.parse(tmp_path / "six_eight.musicxml").getroot()
    assert rests(root, 1, "1") == [("quarter", True)]
    assert rests(root, 1, "2") == [("quarter", False)]


def test_a_bar_that_starts_a_swing_is_written_out_and_the_swung_bars_after_it_repeat(tmp_path: Path) -> None:
    def bar(number: int, swing: bool) -> Bar:
        hits = tuple(QuantizedHit(Fraction(o), i, 100, 0.0) for o, i in ROCK_STROKES)
        return Bar(number, 2.0 * (number - 1), (2, 2, 2, 2), hits, swing=swing)

    bars = (bar(1, False), bar(2, True), bar(3, True), bar(4, True))
    transcription = Transcription(120.0, "4/4", tuple(0.5 * k for k in range(16)), bars)
    write_musicxml(build_score(transcription, "Swing"), tmp_path / "swing.musicxml", simile=True)
    root = ET.parse(tmp_path / "swing.musicxml").getroot()
    assert repeat_signs(root) == [None, None, "start 1", None]
    swing = root.find("part/measure[@number='2']/direction/sound/swing")
    assert swing is not None and swing.findtext("first") == "2"


def test_cut_time_beams_eighths_by_the_half_and_sixteenths_by_the_quarter(tmp_path: Path) -> None:
    hits = song(ROCK_BEAT, FUNK_SIXTEENTHS)
    half_s = 2 * 60 / BPM
    transcription = transcribe(hits, duration_s=2 * BAR_S, grid=FixedGrid((0.0, half_s), "2/2", 0.0, BPM / 2))
    path = tmp_path / "cut.musicxml"
    write_musicxml(build_score(transcription, "Cut Time"), path)
    root = ET.parse(path).getroot()

    def hands(bar: int) -> list[ET.Element]:
        measure = root.find(f"part/measure[@number='{bar}']")
        return [n for n in measure.iter("note") if n.findtext("voice") == "1" and n.find("chord") is None]

    rock, funk = hands(1), hands(2)
    assert [n.findtext("type") for n in rock] == ["eighth"] * 8
    assert [n.findtext("beam[@number='1']") for n in rock] == ["begin", "continue", "continue", "end"] * 2
    assert [n.findtext("type") for n in funk] == ["16th"] * 16
    assert [n.findtext("beam[@number='1']") for n in funk] == ["begin"] + ["continue"] * 6 + ["end"] + ["begin"] + [
        "continue"
    ] * 6 + ["end"]
    assert [n.findtext("beam[@number='2']") for n in funk] == ["begin", "continue", "continue", "end"] * 4
    assert root.findtext("part/measure/attributes/time/beats") == "2"
    assert root.findtext("part/measure/attributes/time/beat-type") == "2"
    assert root.findtext(".//metronome/beat-unit") == "half"
