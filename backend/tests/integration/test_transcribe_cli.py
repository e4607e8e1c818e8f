"""`drumscribe transcribe` end to end: a rendered groove in, the five artifacts out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest
from music21 import converter
from pypdf import PdfReader

from app.cli import main
from app.synth.grooves import ROCK_BEAT, Groove, groove_from_pattern
from app.synth.kits import default_sample_kit, render_groove
from tests.conftest import ffmpeg_convert, write_wav

pytestmark = pytest.mark.integration

ARTIFACTS = {"song.wav", "drums.wav", "hits.json", "sheet_music.musicxml", "sheet_music.pdf", "drums.mid"}
"""SEPARATOR=none: no band.wav."""


@pytest.fixture(scope="module")
def rock_groove() -> Groove:
    # Half a second of lead-in, as real recordings have.
    return groove_from_pattern(ROCK_BEAT, bpm=120, bars=4, start_s=0.5)


@pytest.fixture(scope="module")
def rock_mp3(tmp_path_factory: pytest.TempPathFactory, rock_groove: Groove) -> Path:
    folder = tmp_path_factory.mktemp("song")
    wav = write_wav(folder / "rock.wav", render_groove(rock_groove, default_sample_kit()))
    return ffmpeg_convert(wav, folder / "Rock Groove.mp3", "-b:a", "192k")


@pytest.fixture(scope="module")
def transcribed(tmp_path_factory: pytest.TempPathFactory, rock_mp3: Path) -> tuple[Path, dict[str, object]]:
    """Run the real console command once, as a user would, with the manual's CNN and no separation."""
    shared_model = Path(__file__).resolve().parents[3].parent / "shared/models/annoteator/complete_network.h5"
    if not shared_model.is_file():
        pytest.skip(f"the reference CNN is not at {shared_model}")
    out = tmp_path_factory.mktemp("results") / "out"
    env = {**os.environ, "MODEL_CACHE_DIR": str(out.parent / "models"), "SEPARATOR": "none"}
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "transcribe", str(rock_mp3), "--out", str(out),
         "--model", shared_model.as_uri(), "--json"],
        capture_output=True, text=True, env=env, check=False, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, "--json prints exactly one line"
    return out, json.loads(lines[0])


def test_writes_the_six_artifacts_and_a_summary(transcribed: tuple[Path, dict[str, object]]) -> None:
    out, summary = transcribed
    assert {p.name for p in out.iterdir()} == ARTIFACTS
    assert summary["ok"] is True
    assert summary["title"] == "Rock Groove"
    assert summary["separator"] == "none"
    assert summary["model"] == "annoteator-cnn"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")], "no partial folders remain"


def test_kick_and_snare_are_found_within_20_ms(
    transcribed: tuple[Path, dict[str, object]], rock_groove: Groove
) -> None:
    out, _ = transcribed
    doc = json.loads((out / "hits.json").read_text())
    assert doc["tempo_bpm"] == pytest.approx(120, abs=1)
    assert doc["time_signature"] == "4/4"
    # The sheet's beats, as heard: 0.5 s apart at 120 bpm, the first bar starting at the first downbeat.
    beats = np.array(doc["beat_times"])
    assert len(beats) % 4 == 0 and np.allclose(np.diff(beats), 0.5, atol=0.02)
    first_kick = min(e.time for e in rock_groove.events if e.instrument == "kick")
    assert beats[0] == pytest.approx(first_kick, abs=0.03)
    # The manual's CNN hears the kick on the "and" of 3, under a hi-hat stroke, as hi-hat only: it finds
    # the other two kicks of every bar. Every snare is expected.
    for instrument, share in (("kick", 0.66), ("snare", 0.9)):
        expected = np.array([e.time for e in rock_groove.events if e.instrument == instrument])
        found = np.array([h["time"] for h in doc["hits"] if h["instrument"] == instrument])
        nearest = np.min(np.abs(expected[:, None] - found[None, :]), axis=1)
        assert np.mean(nearest <= 0.02) >= share, f"{instrument}: {np.round(nearest, 3)}"
    onsets = np.array(sorted({round(e.time, 4) for e in rock_groove.events}))
    hit_times = np.array([h["time"] for h in doc["hits"]])
    nearest_hit = np.min(np.abs(onsets[:, None] - hit_times[None, :]), axis=1)
    assert np.mean(nearest_hit <= 0.02) >= 0.95, "nearly every stroke of the groove is detected within ±20 ms"


def test_sheet_has_four_bars_and_a_pdf_with_pages(transcribed: tuple[Path, dict[str, object]]) -> None:
    out, _ = transcribed
    score = converter.parse(out / "sheet_music.musicxml")
    measures = score.parts[0].getElementsByClass("Measure")
    assert len(measures) == 4
    assert len(PdfReader(out / "sheet_music.pdf").pages) >= 1


def test_midi_is_a_drum_track_on_channel_10(transcribed: tuple[Path, dict[str, object]]) -> None:
    out, _ = transcribed
    notes = [m for m in mido.MidiFile(out / "drums.mid") if m.type == "note_on" and m.velocity > 0]
    assert notes and all(m.channel == 9 for m in notes)
    assert {36, 38} <= {m.note for m in notes}


def test_not_audio_fails_with_one_line_and_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "setlist.txt"
    notes.write_text("1. Intro\n2. Verse\n" * 20)
    out = tmp_path / "out"
    assert main(["transcribe", str(notes), "--out", str(out), "--separator", "none"]) == 1
    reason = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress lines
    assert reason.startswith("drumscribe: setlist.txt is not an audio")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["setlist.txt"], "no output folder, no partial folder"


def test_json_failure_names_the_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    silent = write_wav(tmp_path / "silence.wav", np.zeros(44_100, dtype=np.float32))
    assert main(["transcribe", str(silent), "--out", str(tmp_path / "out"), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result == {"ok": False, "stage": "ingest", "error": result["error"]}
    assert "silent" in result["error"]


def test_refuses_to_overwrite_without_force(tmp_path: Path, rock_mp3: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert main(["transcribe", str(rock_mp3), "--out", str(out), "--separator", "none"]) == 1
    assert "--force" in capsys.readouterr().err
    assert (out / "mine.txt").read_text() == "keep me"


def test_the_default_model_gets_every_drum_of_the_groove(
    tmp_path: Path, rock_mp3: Path, rock_groove: Groove, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No --model: the frame-level model bundled in the package, no download.
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("MODEL_URI", raising=False)
    assert main(["transcribe", str(rock_mp3), "--out", str(tmp_path / "out"), "--separator", "none", "--quiet"]) == 0
    doc = json.loads((tmp_path / "out" / "hits.json").read_text())
    assert doc["model"] == "drumscribe-frame"
    for instrument in ("kick", "snare", "hihat_closed"):
        expected = np.array([e.time for e in rock_groove.events if e.instrument == instrument])
        found = np.array([h["time"] for h in doc["hits"] if h["instrument"] == instrument])
        nearest = np.min(np.abs(expected[:, None] - found[None, :]), axis=1)
        assert np.mean(nearest <= 0.02) >= 0.95, f"{instrument}: {np.round(nearest, 3)}"
