"""The performance as a General MIDI drum file (app.pipeline.notation.midi)."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest

from app.core.errors import TranscriptionError
from app.pipeline.hits import Hit
from app.pipeline.notation import write_midi
from app.pipeline.notation.midi import DRUM_CHANNEL, GM_NOTES
from app.synth.grooves import CRASH_AND_RIDE, FUNK_SIXTEENTHS, TOM_FILL, groove_from_pattern

GM = {
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


def played(path: Path) -> list[tuple[float, str, int, int, int]]:
    """(seconds, type, note, velocity, channel) of every note message, as a player would time them."""
    now, out = 0.0, []
    for message in mido.MidiFile(path):
        now += message.time
        if message.type in ("note_on", "note_off"):
            kind = "on" if message.type == "note_on" and message.velocity > 0 else "off"
            out.append((now, kind, message.note, message.velocity, message.channel))
    return out


def test_general_midi_numbers() -> None:
    assert GM_NOTES == GM
    assert DRUM_CHANNEL == 9


@pytest.mark.parametrize("bpm", [87.3, 120.0])
def test_every_hit_is_a_channel_10_note_at_its_performed_time(tmp_path: Path, bpm: float) -> None:
    rng = np.random.default_rng(11)
    events = []
    for index, pattern in enumerate((FUNK_SIXTEENTHS, TOM_FILL, CRASH_AND_RIDE)):
        events += groove_from_pattern(pattern, bpm=96, bars=1, start_s=0.3 + index * 2.5).events
    hits = [Hit(e.time + rng.uniform(-0.01, 0.01), e.instrument, e.velocity, 0.8) for e in events]
    write_midi(hits, bpm, tmp_path / "drums.mid")
    ons = [m for m in played(tmp_path / "drums.mid") if m[1] == "on"]
    assert len(ons) == len(hits)
    assert {m[4] for m in ons} == {9}
    expected = sorted((h.time, GM[h.instrument], h.velocity) for h in hits)
    got = sorted((t, note, velocity) for t, _, note, velocity, _ in ons)
    for (t_expected, note_expected, v_expected), (t, note, v) in zip(expected, got, strict=True):
        assert abs(t - t_expected) < 0.001
        assert (note, v) == (note_expected, v_expected)


def test_tempo_time_signature_and_short_notes(tmp_path: Path) -> None:
    hits = [Hit(0.25 * i, "hihat_closed", 80, 0.9) for i in range(8)] + [Hit(1.0, "kick", 100, 0.9)]
    write_midi(hits, 95.0, tmp_path / "drums.mid", time_signature="3/4")
    midi = mido.MidiFile(tmp_path / "drums.mid")
    meta = {m.type: m for m in midi.tracks[0] if m.is_meta}
    assert mido.tempo2bpm(meta["set_tempo"].tempo) == pytest.approx(95.0, abs=0.001)
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (3, 4)
    notes = played(tmp_path / "drums.mid")
    starts: dict[int, float] = {}
    for t, kind, note, _, _ in notes:
        if kind == "on":
            starts[note] = t
        else:
            assert 0 < t - starts.pop(note) <= 0.051, "drum notes are short"


def test_a_note_ends_before_the_same_drum_sounds_again(tmp_path: Path) -> None:
    hits = [Hit(1.0, "snare", 100, 0.9), Hit(1.02, "snare", 60, 0.9)]  # a drag, 20 ms apart
    write_midi(hits, 120.0, tmp_path / "drums.mid")
    sequence = [(kind, round(t, 3)) for t, kind, *_ in played(tmp_path / "drums.mid")]
    assert sequence == [("on", 1.0), ("off", 1.02), ("on", 1.02), ("off", 1.07)]


def test_a_bad_tempo_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TranscriptionError, match="tempo"):
        write_midi([Hit(0.0, "kick", 100, 0.9)], 0.0, tmp_path / "drums.mid")
    assert not list(tmp_path.iterdir())
