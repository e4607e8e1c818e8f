"""`drumscribe evaluate` scores the sheet of a rendered groove whose beats are known exactly."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import pytest

from app.cli import main
from app.pipeline.notation.kit import KIT
from app.synth.grooves import ROCK_BEAT, Groove, groove_from_pattern
from app.synth.kits import default_sample_kit, render_groove
from tests.conftest import write_wav

pytestmark = pytest.mark.integration

TICKS_PER_BEAT = 480


def write_annotations(groove: Groove, start_s: float, folder: Path, name: str) -> None:
    """audio/NAME.wav, midi/NAME.mid (the strokes as GM drum notes) and beats/NAME.beats (its exact grid)."""
    for sub in ("audio", "midi", "beats"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    write_wav(folder / "audio" / f"{name}.wav", render_groove(groove, default_sample_kit()))
    beat_s = 60.0 / groove.bpm
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(groove.bpm))])
    midi.tracks.append(track)
    now = 0
    for event in groove.events:
        tick = round(event.time / beat_s * TICKS_PER_BEAT)
        note = KIT[event.instrument].gm_note
        track.append(mido.Message("note_on", channel=9, note=note, velocity=event.velocity, time=tick - now))
        now = tick
    midi.save(folder / "midi" / f"{name}.mid")
    beats = groove.bars * groove.beats_per_bar
    lines = [f"{start_s + k * beat_s:.4f}\t{k % groove.beats_per_bar + 1}" for k in range(beats)]
    (folder / "beats" / f"{name}.beats").write_text("\n".join(lines) + "\n")


def test_a_rendered_groove_is_written_as_played(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=120, bars=4, start_s=0.5)
    write_annotations(groove, 0.5, tmp_path / "set", "rock")
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "models"))
    assert main(["evaluate", str(tmp_path / "set"), "--separator", "none", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tracks"]["rock"] > 0.9, "the onset report is still there"
    rock = report["sheet"]["tracks"]["rock"]
    assert (rock["tempo_reading"], rock["tempo_bpm"], rock["time_signature"]) == ("as played", 120.0, "4/4")
    assert (rock["beat_f"], rock["cmlt"], rock["amlt"], rock["downbeat_f"]) == (1.0, 1.0, 1.0, 1.0)
    assert rock["bar_shift"] == 0
    assert rock["sheet_f"] > 0.9, rock
    assert report["sheet"]["overall"]["as_played"] == 1


def test_the_sheet_is_written_on_beats_given_with_beats_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=120, bars=4, start_s=0.5)
    write_annotations(groove, 0.5, tmp_path / "set", "rock")
    # The played beats, counted in bars of three: no tracker would hear this 4/4 groove so.
    given = tmp_path / "given"
    given.mkdir()
    (given / "rock.beats").write_text("".join(f"{0.5 + k * 0.5:.3f}\t{k % 3 + 1}\n" for k in range(16)))
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "models"))
    argv = ["evaluate", str(tmp_path / "set"), "--separator", "none", "--json"]
    assert main([*argv, "--beats-from", str(given)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["beats"] == f"given in {given}"
    rock = report["sheet"]["tracks"]["rock"]
    assert (rock["time_signature"], rock["tempo_bpm"], rock["tempo_reading"]) == ("3/4", 120.0, "as played")
    assert rock["beat_f"] == 1.0 and rock["downbeat_f"] < 0.5, "the beats are the played ones, the bars are not"
    assert report["tracks"]["rock"] > 0.9, "the hits are transcribed and scored as without --beats-from"

    (given / "rock.beats").unlink()
    assert main([*argv[:-1], "--beats-from", str(given)]) == 1
    assert f"{given / 'rock.beats'} is missing; write it (scripts/madmom_beats.py" in capsys.readouterr().err

    (tmp_path / "set" / "beats" / "rock.beats").unlink()  # no sheet is written without human beats
    assert main([*argv[:-1], "--beats-from", str(given)]) == 1
    assert "no song of" in capsys.readouterr().err
