"""Stage 4 writing the sheet: named by the song's tags, not its file name, and as the SHEET_* settings ask."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.core.config import Settings
from app.pipeline import constants as c
from app.pipeline.hits import Hit, HitsDocument
from app.pipeline.stages import ingest_audio, transcribe_and_export
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove
from tests.conftest import ffmpeg_convert, write_wav

pytestmark = pytest.mark.integration


def job_from(song: Path, work_dir: Path, hits: list[Hit]) -> Path:
    """A job folder after stages 1–3: ingest of `song` for real, the drums and hits as generated."""
    work_dir.mkdir()
    result = ingest_audio(song, work_dir, settings=Settings(), fallback_title=song.stem)
    shutil.copy(work_dir / c.INPUT_AUDIO, work_dir / c.DRUMS_AUDIO)
    HitsDocument(duration_s=result.duration_s, separator="none", model="generated", hits=hits).save(
        work_dir / c.HITS_JSON
    )
    return work_dir


@pytest.fixture(scope="module")
def groove(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Hit]]:
    played = groove_from_pattern(ROCK_BEAT, bpm=120, bars=4, start_s=0.5)
    wav = write_wav(tmp_path_factory.mktemp("src") / "groove.wav", render_groove(played, SynthKit()))
    return wav, [Hit(e.time, e.instrument, e.velocity, 0.9) for e in played.events]


@pytest.mark.parametrize("suffix", [".mp3", ".flac"])
def test_title_and_artist_of_the_tags_head_every_file(
    groove: tuple[Path, list[Hit]], tmp_path: Path, suffix: str
) -> None:
    wav, hits = groove
    tags = ["-metadata", "title=Back Beat", "-metadata", "artist=The Test Band"]
    song = ffmpeg_convert(wav, tmp_path / f"track_07_final{suffix}", *tags)
    job = job_from(song, tmp_path / "job", hits)
    transcribe_and_export(job, settings=Settings())

    root = ET.parse(job / c.MUSICXML).getroot()
    assert root.findtext("movement-title") == "Back Beat"
    creators = {e.get("type"): e.text for e in root.iterfind("identification/creator")}
    assert creators == {"composer": "The Test Band", "transcriber": "DrumScribe"}

    text = PdfReader(job / c.PDF).pages[0].extract_text()
    assert "Back Beat" in text and "The Test Band" in text and "Transcribed by DrumScribe" in text
    assert "track_07" not in text
    metadata = PdfReader(job / c.PDF).metadata
    assert (metadata.title, metadata.author) == ("Back Beat", "The Test Band")

    document = json.loads((job / c.HITS_JSON).read_text())
    assert (document["title"], document["artist"]) == ("Back Beat", "The Test Band")


def test_an_untagged_file_keeps_its_name_and_shows_no_artist(groove: tuple[Path, list[Hit]], tmp_path: Path) -> None:
    wav, hits = groove
    song = ffmpeg_convert(wav, tmp_path / "Garage Jam.mp3", "-map_metadata", "-1")
    job = job_from(song, tmp_path / "job", hits)
    transcribe_and_export(job, settings=Settings())
    root = ET.parse(job / c.MUSICXML).getroot()
    assert root.findtext("movement-title") == "Garage Jam"
    assert [e.get("type") for e in root.iterfind("identification/creator")] == ["transcriber"]
    document = json.loads((job / c.HITS_JSON).read_text())
    assert (document["title"], document["artist"]) == ("Garage Jam", None)


def test_sheet_settings_reach_the_files(groove: tuple[Path, list[Hit]], tmp_path: Path) -> None:
    wav, hits = groove
    job = job_from(ffmpeg_convert(wav, tmp_path / "song.flac"), tmp_path / "job", hits)
    transcribe_and_export(job, settings=Settings(SHEET_PAGE_SIZE="letter", SHEET_SIMILE=True))
    box = PdfReader(job / c.PDF).pages[0].mediabox
    assert (float(box.width), float(box.height)) == (612, 792)
    root = ET.parse(job / c.MUSICXML).getroot()
    assert root.find("part/measure[@number='2']/attributes/measure-style/measure-repeat").get("type") == "start"
