"""The engraved PDF: pages a person can read, checked as a picture."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from app.pipeline.hits import Hit
from app.pipeline.notation import export_all, transcribe
from app.synth.grooves import ROCK_BEAT, groove_from_pattern

pytestmark = pytest.mark.integration


def test_pdf_has_pages_with_ink(tmp_path: Path) -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=120, bars=40, start_s=0.5)
    hits = [Hit(e.time, e.instrument, e.velocity, 0.9) for e in groove.events]
    paths = export_all(transcribe(hits, duration_s=groove.duration_s + 1.5), hits, tmp_path, title="Long Rock")
    reader = PdfReader(paths["sheet_music.pdf"])
    assert len(reader.pages) >= 1
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(paths["sheet_music.pdf"]),
                    str(tmp_path / "page")], check=True)  # fmt: skip
    page = np.asarray(Image.open(next(tmp_path.glob("page*.png"))).convert("L"))
    ink = np.mean(page < 128)
    assert 0.005 < ink < 0.3, f"page 1 has {ink:.1%} dark pixels"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("page")) == [
        "drums.mid", "sheet_music.musicxml", "sheet_music.pdf",
    ]  # fmt: skip
