"""The engraved PDF (verovio → cairosvg → pypdf): pages a person can read, checked as a picture."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from app.core.errors import TranscriptionError
from app.pipeline.hits import Hit
from app.pipeline.notation import export_all, transcribe
from app.pipeline.notation.render import svg_pages
from app.synth.grooves import CRASH_AND_RIDE, FUNK_SIXTEENTHS, ROCK_BEAT, TOM_FILL, groove_from_pattern

pytestmark = pytest.mark.integration


def song(bars_each: int) -> tuple[list[Hit], float]:
    """Rock, funk, a tom fill and crash/ride, `bars_each` bars of each at 112 bpm."""
    hits, start = [], 0.4
    for pattern in (ROCK_BEAT, FUNK_SIXTEENTHS, TOM_FILL, CRASH_AND_RIDE):
        groove = groove_from_pattern(pattern, bpm=112, bars=bars_each, start_s=start)
        hits += [Hit(e.time, e.instrument, e.velocity, 0.9) for e in groove.events]
        start += groove.duration_s
    return hits, start + 1.0


def page_png(pdf: Path, page: int, out: Path) -> np.ndarray:
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(out)],
        check=True,
    )
    return np.asarray(Image.open(out.with_suffix(".png")).convert("L"))


def test_export_all_writes_a_readable_pdf_musicxml_and_midi(tmp_path: Path) -> None:
    hits, duration_s = song(bars_each=2)
    out = tmp_path / "job"
    paths = export_all(transcribe(hits, duration_s=duration_s), hits, out, title="Kit Tour")
    assert sorted(p.name for p in out.iterdir()) == ["drums.mid", "sheet_music.musicxml", "sheet_music.pdf"]
    assert paths == {name: out / name for name in ("sheet_music.musicxml", "sheet_music.pdf", "drums.mid")}

    reader = PdfReader(paths["sheet_music.pdf"])
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Kit Tour" in text and "Transcribed by DrumScribe" in text
    assert "\u2669 = 112" in text, "the tempo mark's note is drawn, not a missing-glyph box"

    page = page_png(paths["sheet_music.pdf"], 1, tmp_path / "page1")
    ink = float(np.mean(page < 128))
    assert 0.005 < ink < 0.3, f"page 1 has {ink:.1%} dark pixels"
    rows = np.flatnonzero(np.mean(page < 128, axis=1) > 0.5)  # staff lines run across the page
    assert len(rows) >= 5, "at least one five-line staff"


def test_a_long_song_runs_onto_more_pages(tmp_path: Path) -> None:
    hits, duration_s = song(bars_each=16)
    paths = export_all(transcribe(hits, duration_s=duration_s), hits, tmp_path, title="Long Song")
    reader = PdfReader(paths["sheet_music.pdf"])
    assert len(reader.pages) >= 2
    assert "Long Song" not in reader.pages[1].extract_text(), "the title heads the first page only"
    last = page_png(paths["sheet_music.pdf"], len(reader.pages), tmp_path / "last")
    assert np.mean(last < 128) > 0.002


def test_svg_pages_leave_no_music_font_text_for_cairosvg(tmp_path: Path) -> None:
    hits, duration_s = song(bars_each=1)
    paths = export_all(transcribe(hits, duration_s=duration_s), hits, tmp_path, title="Fonts")
    (svg,) = svg_pages(paths["sheet_music.musicxml"].read_text(), title="Fonts", transcriber="DrumScribe")
    assert 'font-family="Leipzig"' not in svg


@pytest.mark.parametrize(("page_size", "points"), [("a4", (595, 842)), ("letter", (612, 792))])
def test_pages_are_a4_or_letter(tmp_path: Path, page_size: str, points: tuple[int, int]) -> None:
    hits, duration_s = song(bars_each=16)
    paths = export_all(transcribe(hits, duration_s=duration_s), hits, tmp_path, title="Paper", page_size=page_size)
    reader = PdfReader(paths["sheet_music.pdf"])
    assert len(reader.pages) >= 2
    for page in reader.pages:
        box = page.mediabox
        assert (float(box.left), float(box.bottom)) == (0, 0)
        assert (float(box.width), float(box.height)) == points


def test_an_unknown_page_size_names_the_choices(tmp_path: Path) -> None:
    hits, duration_s = song(bars_each=1)
    with pytest.raises(TranscriptionError, match=r"'a5'.*a4, letter"):
        export_all(transcribe(hits, duration_s=duration_s), hits, tmp_path, title="Paper", page_size="a5")
