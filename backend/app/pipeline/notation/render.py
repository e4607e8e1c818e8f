"""MusicXML to PDF without a desktop program: verovio engraves SVG pages, cairosvg prints them."""

from __future__ import annotations

import io
from pathlib import Path

import cairosvg
import verovio
from pypdf import PdfWriter

from app.core.errors import TranscriptionError
from app.pipeline.atomic import atomic_path

# A4 in verovio's units (tenths of a millimetre); scale 40 gives about nine systems a page.
PAGE_OPTIONS = {
    "pageWidth": 2100,
    "pageHeight": 2970,
    "pageMarginTop": 100,
    "pageMarginBottom": 100,
    "pageMarginLeft": 100,
    "pageMarginRight": 100,
    "scale": 40,
    "footer": "none",
    "breaks": "auto",
}


def svg_pages(musicxml: str) -> list[str]:
    """Engrave MusicXML into one SVG string per page."""
    toolkit = verovio.toolkit()
    toolkit.setOptions(PAGE_OPTIONS)
    if not toolkit.loadData(musicxml):
        raise TranscriptionError("the engraver could not read the MusicXML it was given")
    return [toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1)]


def write_pdf(musicxml_path: Path, pdf_path: Path) -> int:
    """Render `musicxml_path` to a multi-page PDF at `pdf_path`; returns the page count."""
    pages = svg_pages(Path(musicxml_path).read_text())
    writer = PdfWriter()
    for svg in pages:
        writer.append(io.BytesIO(cairosvg.svg2pdf(bytestring=svg.encode())))
    with atomic_path(pdf_path) as tmp, tmp.open("wb") as sink:
        writer.write(sink)
    return len(pages)
