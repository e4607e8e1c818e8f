"""An edited sheet: the notation stage on a given grid, the editor's marks, and what changes between revisions."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import TranscriptionError
from app.pipeline.beats.decode import BeatTrack
from app.pipeline.hits import Hit, HitsDocument
from app.pipeline.notation import FixedGrid, revised_grid, transcribe
from app.pipeline.stages import write_notation
from app.synth.grooves import FUNK_SIXTEENTHS, ROCK_BEAT, Pattern, groove_from_pattern
from tests.notation_files import midi_notes, sheet_notes

BPM = 100
BEAT_S = 60 / BPM


def performed(bars: int = 4) -> list[Hit]:
    """Rock and funk bars at 100 bpm, a few milliseconds off the grid as a drummer plays them."""
    rng = np.random.default_rng(3)
    events = groove_from_pattern(ROCK_BEAT, bpm=BPM, bars=bars // 2, start_s=0.4).events
    events += groove_from_pattern(
        FUNK_SIXTEENTHS, bpm=BPM, bars=bars - bars // 2, start_s=0.4 + bars // 2 * 4 * BEAT_S
    ).events
    hits = [Hit(round(e.time + rng.uniform(-0.008, 0.008), 4), e.instrument, e.velocity, 0.9) for e in events]
    return sorted(hits, key=lambda h: (h.time, h.instrument))


SIX_EIGHT: Pattern = {
    "kick": [(0.0, 110)],
    "snare": [(1.0, 105)],
    "hihat_closed": [(b + e / 3, 85) for b in range(2) for e in range(3)],
}
"""6/8 counted in dotted quarters: two beats a bar, the hi-hat on every eighth."""


def grid_of(document: HitsDocument, **overrides: object) -> FixedGrid:
    return revised_grid(
        document.beat_times, document.downbeat_times, document.time_signature, document.tempo_bpm, **overrides
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, HitsDocument]:
    """Revision 0: the notation stage as a job runs it, and its hits.json read back as the editor gets it."""
    folder = tmp_path_factory.mktemp("rev0")
    hits = performed()
    document = HitsDocument(duration_s=max(h.time for h in hits) + 1.0, separator="none", model="test", hits=hits)
    write_notation(document, folder, title="Edit Me")
    return folder, HitsDocument.load(folder / "hits.json")


@pytest.fixture(scope="module")
def six_eight(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, HitsDocument]:
    """Revision 0 of a song the learned tracker found in 6/8: six bars at 60 dotted quarters a minute."""
    folder = tmp_path_factory.mktemp("rev0-6-8")
    events = groove_from_pattern(SIX_EIGHT, bpm=60.0, bars=6, beats_per_bar=2, start_s=0.5).events
    hits = [Hit(e.time, e.instrument, e.velocity, 0.9) for e in events]
    beats = BeatTrack(0.5 + np.arange(12.0), np.array([k % 2 + 1 for k in range(12)]), ("6/8",) * 12)
    document = HitsDocument(duration_s=13.0, separator="none", model="test", hits=hits)
    write_notation(document, folder, title="Edit Me", beats=beats)
    return folder, HitsDocument.load(folder / "hits.json")


def revise(tmp_path: Path, base: HitsDocument, hits: list[Hit], **overrides: object) -> tuple[Path, HitsDocument]:
    """A revision as the worker renders it: the base's grid with `overrides`, the editor's marks only."""
    document = replace(base, hits=hits)
    result = write_notation(
        document, tmp_path, title="Edit Me", grid=grid_of(base, **overrides), automatic_ghosts=False
    )
    return tmp_path, result


def sheet(folder: Path) -> list[tuple[str, ...]]:
    return sheet_notes((folder / "sheet_music.musicxml").read_bytes())


def midi(folder: Path) -> list[tuple[int, int, int]]:
    return midi_notes((folder / "drums.mid").read_bytes())


def test_the_stage_records_the_ghost_notes_it_writes(original: tuple[Path, HitsDocument]) -> None:
    folder, document = original
    ghosts = [h for h in document.hits if h.ghost]
    assert ghosts and all(h.instrument == "snare" and h.velocity < 64 for h in ghosts)
    raw = json.loads((folder / "hits.json").read_text())["hits"]
    assert all(set(h) == {"time", "instrument", "velocity", "confidence"} for h in raw if not h.get("ghost"))
    parenthesised = [n for n in sheet(folder) if n[5] == "yes"]
    assert len(parenthesised) == len(ghosts)


def test_the_original_grid_reproduces_the_original_sheet(tmp_path: Path, original: tuple[Path, HitsDocument]) -> None:
    folder, base = original
    again, document = revise(tmp_path, base, base.hits)
    assert sheet(again) == sheet(folder)
    assert midi(again) == midi(folder)
    assert (document.tempo_bpm, document.time_signature) == (base.tempo_bpm, base.time_signature)
    assert document.beat_times == pytest.approx(base.beat_times, abs=1e-4)


def test_one_changed_note_changes_the_sheet_and_the_midi_at_that_note_only(
    tmp_path: Path, original: tuple[Path, HitsDocument]
) -> None:
    folder, base = original
    index = next(i for i, h in enumerate(base.hits) if h.instrument == "snare" and h.velocity > 90 and h.time > 3)
    edited = list(base.hits)
    edited[index] = replace(edited[index], instrument="tom_high")
    changed, _ = revise(tmp_path, base, edited)

    before, after = sheet(folder), sheet(changed)
    assert len(before) == len(after)
    differences = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert len(differences) == 1
    (old, new) = differences[0]
    assert old[:3] == new[:3], "same bar, voice and place"
    assert (old[3], new[3]) == ("C5", "E5"), "snare to high tom"
    midi_before, midi_after = midi(folder), midi(changed)
    removed = [n for n in midi_before if n not in midi_after]
    added = [n for n in midi_after if n not in midi_before]
    assert len(removed) == len(added) == 1
    assert removed[0][0] == added[0][0], "at the same tick"
    assert (removed[0][1:], added[0][1:]) == ((38, edited[index].velocity), (50, edited[index].velocity))


def test_accents_and_ghosts_are_written_where_the_editor_marks_them(
    tmp_path: Path, original: tuple[Path, HitsDocument]
) -> None:
    folder, base = original
    kick = next(i for i, h in enumerate(base.hits) if h.instrument == "kick" and h.time > 3)
    ghost = next(i for i, h in enumerate(base.hits) if h.ghost)
    edited = list(base.hits)
    edited[kick] = replace(edited[kick], accent=True)
    edited[ghost] = replace(edited[ghost], ghost=False)
    marked, document = revise(tmp_path, base, edited)

    differences = [(b, a) for b, a in zip(sheet(folder), sheet(marked), strict=True) if b != a]
    assert sorted((b[3], b[5], b[6], a[5], a[6]) for b, a in differences) == [
        ("C5", "yes", "", "no", ""),  # the ghost note is a plain snare now
        ("F4", "no", "", "no", "accent"),  # the kick carries an accent
    ]
    velocities = {(n[1], n[2]) for n in midi(marked)} - {(n[1], n[2]) for n in midi(folder)}
    assert (36, max(base.hits[kick].velocity, 112)) in velocities
    assert [h.accent for h in document.hits].count(True) == 1


def test_a_fixed_metre_regroups_the_same_beats(tmp_path: Path, original: tuple[Path, HitsDocument]) -> None:
    _, base = original
    _, document = revise(tmp_path, base, base.hits, fixed_time_signature="3/4")
    assert document.time_signature == "3/4"
    assert document.downbeat_times is not None and base.beat_times is not None
    assert document.downbeat_times[:3] == pytest.approx(base.beat_times[0:9:3], abs=1e-4)


def test_a_fixed_tempo_lays_an_even_grid_from_the_first_downbeat(
    tmp_path: Path, original: tuple[Path, HitsDocument]
) -> None:
    _, base = original
    assert base.downbeat_times is not None
    start = base.downbeat_times[0]
    _, document = revise(tmp_path, base, base.hits, fixed_tempo_bpm=50.0, first_downbeat_s=start)
    assert document.tempo_bpm == 50.0 and document.beat_times is not None
    assert np.allclose(np.diff(document.beat_times), 1.2, atol=1e-4)
    assert document.downbeat_times is not None and document.downbeat_times[0] == pytest.approx(start, abs=1e-4)


def test_a_moved_downbeat_moves_the_bar_lines_onto_the_nearest_beat(
    tmp_path: Path, original: tuple[Path, HitsDocument]
) -> None:
    _, base = original
    assert base.beat_times is not None
    second_beat = base.beat_times[1]
    _, document = revise(tmp_path, base, base.hits, first_downbeat_s=second_beat + 0.05)
    assert document.downbeat_times is not None
    # The song's first beat now comes before a bar line: bar 1 starts three beats earlier, a pickup bar.
    assert document.downbeat_times[1] == pytest.approx(second_beat, abs=1e-4)
    assert document.downbeat_times[0] == pytest.approx(second_beat - 4 * BEAT_S, abs=0.01)


def test_a_grid_must_be_usable() -> None:
    with pytest.raises(TranscriptionError, match="older DrumScribe"):
        revised_grid(None, None, None, None)
    with pytest.raises(TranscriptionError, match="two beats"):
        FixedGrid((1.0,), "4/4", 1.0, 120.0)
    with pytest.raises(TranscriptionError, match="9/8"):
        revised_grid([0.0, 0.5], [0.0], "4/4", 120.0, fixed_time_signature="9/8")
    with pytest.raises(TranscriptionError, match="'7/3' cannot be written"):
        FixedGrid((1.0, 1.5), "7/3", 1.0, 120.0)


def test_a_hit_past_the_grid_is_quantized_on_its_continuation() -> None:
    grid = FixedGrid((1.0, 1.5, 2.0, 2.5), "4/4", 1.0, 120.0)
    hits = [Hit(1.0, "kick", 100, 1.0), Hit(4.25, "snare", 100, 1.0)]
    transcription = transcribe(hits, duration_s=5.0, grid=grid)
    assert [bar.start_s for bar in transcription.bars] == pytest.approx([1.0, 3.0])
    assert [(h.instrument, h.offset) for bar in transcription.bars for h in bar.hits] == [("kick", 0), ("snare", 2.5)]


def test_a_compound_sheet_keeps_its_metre_when_none_is_fixed(
    tmp_path: Path, six_eight: tuple[Path, HitsDocument]
) -> None:
    folder, base = six_eight
    assert base.time_signature == "6/8"
    again, document = revise(tmp_path, base, base.hits)
    assert document.time_signature == "6/8"
    assert document.tempo_bpm == base.tempo_bpm == 60.0
    assert document.downbeat_times == pytest.approx(base.downbeat_times, abs=1e-4)
    assert sheet(again) == sheet(folder)
    assert midi(again) == midi(folder)
    assert b"<beats>6</beats>" in (again / "sheet_music.musicxml").read_bytes()


def test_a_compound_sheet_may_be_regrouped_in_12_8(tmp_path: Path, six_eight: tuple[Path, HitsDocument]) -> None:
    _, base = six_eight
    _, document = revise(tmp_path, base, base.hits, fixed_time_signature="12/8")
    assert document.time_signature == "12/8"
    assert base.beat_times is not None and document.downbeat_times is not None
    assert document.downbeat_times[:3] == pytest.approx(base.beat_times[0:12:4], abs=1e-4)


def test_a_simple_sheet_may_be_written_in_6_8_on_the_same_beats(
    tmp_path: Path, original: tuple[Path, HitsDocument]
) -> None:
    _, base = original
    _, document = revise(tmp_path, base, base.hits, fixed_time_signature="6/8")
    assert document.time_signature == "6/8"
    assert base.beat_times is not None and document.downbeat_times is not None
    # Each performed beat is now a dotted quarter: two to a bar.
    assert document.downbeat_times[:4] == pytest.approx(base.beat_times[0:8:2], abs=1e-4)


def test_cut_time_counts_the_same_notes_in_halves(tmp_path: Path, original: tuple[Path, HitsDocument]) -> None:
    folder, base = original
    assert base.beat_times is not None and base.downbeat_times is not None and base.tempo_bpm is not None
    cut, document = revise(tmp_path / "cut", base, base.hits, fixed_time_signature="2/2")
    assert (document.time_signature, document.tempo_bpm) == ("2/2", base.tempo_bpm / 2)
    # Each counted beat is a half note: every other beat of the 4/4 sheet, from its bar lines.
    assert document.beat_times == pytest.approx(base.beat_times[::2], abs=1e-4)
    assert document.downbeat_times == pytest.approx(base.downbeat_times, abs=1e-4)
    # The notes keep their values and places (16ths stay 16ths); only the count and the tempo mark change.
    assert sheet(cut) == sheet(folder)
    assert midi(cut) == midi(folder)
    written = (cut / "sheet_music.musicxml").read_bytes()
    assert b"<beats>2</beats>" in written and b"<beat-type>2</beat-type>" in written
    assert b"<beat-unit>half</beat-unit>" in written
    assert f"<per-minute>{base.tempo_bpm / 2:g}</per-minute>".encode() in written

    back, again = revise(tmp_path / "back", document, document.hits, fixed_time_signature="4/4")
    assert (again.time_signature, again.tempo_bpm) == ("4/4", base.tempo_bpm)
    assert again.beat_times == pytest.approx(base.beat_times, abs=1e-4)
    assert sheet(back) == sheet(folder)


def test_cut_time_pairs_the_beats_from_a_moved_downbeat(original: tuple[Path, HitsDocument]) -> None:
    _, base = original
    assert base.beat_times is not None
    grid = grid_of(base, fixed_time_signature="2/2", first_downbeat_s=base.beat_times[1] + 0.02)
    assert grid.beat_times == pytest.approx(base.beat_times[1::2], abs=1e-9)
    hits = [Hit(base.beat_times[1], "kick", 100, 1.0), Hit(base.beat_times[4], "snare", 100, 1.0)]
    transcription = transcribe(hits, duration_s=base.duration_s, grid=grid)
    bar = transcription.bars[0]
    assert (bar.time_signature, bar.beats, bar.start_s) == ("2/2", 4, pytest.approx(base.beat_times[1]))
    assert [(h.instrument, h.offset) for h in bar.hits] == [("kick", 0), ("snare", 3)]
    assert transcription.beats_per_bar == 2 and transcription.quarter_bpm == pytest.approx(2 * grid.tempo_bpm)
