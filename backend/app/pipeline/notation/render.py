"""MusicXML to PDF without a desktop program: verovio engraves SVG pages, cairosvg prints each to
PDF, pypdf binds them into one file."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import cairosvg
import verovio
from pypdf import PdfReader, PdfWriter

from app.core.errors import TranscriptionError
from app.pipeline.atomic import write_bytes_atomic

PAGE_OPTIONS: dict[str, object] = {
    # A4 in verovio's units (tenths of a millimetre), 12 mm margins. Scale 55 gives a staff of about
    # 5.5 mm, the size of printed drum charts, and six to eight systems a page.
    "pageWidth": 2100,
    "pageHeight": 2970,
    "pageMarginTop": 120,
    "pageMarginBottom": 120,
    "pageMarginLeft": 120,
    "pageMarginRight": 120,
    "scale": 55,
    "font": "Leipzig",
    "header": "auto",
    "footer": "none",
    "breaks": "auto",
    "spacingSystem": 10,
    "staffLineWidth": 0.18,  # a touch heavier than the default so the staff survives screen previews
}

_MUSIC_FONT_TEXT = re.compile(r'<tspan font-family="Leipzig" font-size="(\d+(?:\.\d+)?)px">([^<]*)</tspan>')
"""Music symbols that verovio sets in text (the note of the tempo mark) use its embedded web font,
which cairosvg cannot load; they are swapped for the same symbols in an installed text font."""

_TEXT_FOR_GLYPH = {
    "\ueca5": "\u2669",  # metNoteQuarterUp → ♩
    "\ueca7": "\u266a",  # metNote8thUp → ♪
    "\uecb7": ".",  # metAugmentationDot
    "\ue1d5": "\u2669",  # the same three at their older SMuFL code points
    "\ue1d7": "\u266a",
    "\ue1e7": ".",
}


def write_pdf(musicxml_path: Path, pdf_path: Path) -> int:
    """Engrave `musicxml_path` into a PDF at `pdf_path` (atomically); returns the page count.

    The page header shows the MusicXML's title and, below it, "Transcribed by <transcriber>".
    """
    musicxml = Path(musicxml_path).read_text(encoding="utf-8")
    title, transcriber = _titles(musicxml)
    writer = PdfWriter()
    try:
        for svg in svg_pages(musicxml, title=title, transcriber=transcriber):
            writer.append(PdfReader(io.BytesIO(cairosvg.svg2pdf(bytestring=svg.encode("utf-8")))))
    except TranscriptionError:
        raise
    except Exception as exc:  # cairosvg and pypdf raise many types; all mean the same to the user
        raise TranscriptionError(f"Could not print the engraved sheet music to PDF: {exc}") from exc
    writer.add_metadata({"/Title": title, "/Creator": "DrumScribe"})
    buffer = io.BytesIO()
    writer.write(buffer)
    write_bytes_atomic(Path(pdf_path), buffer.getvalue())
    return len(writer.pages)


def svg_pages(musicxml: str, *, title: str = "", transcriber: str = "") -> list[str]:
    """Engrave MusicXML into one SVG document per page, ready for cairosvg."""
    toolkit = verovio.toolkit()
    toolkit.setOptions(PAGE_OPTIONS)
    if not toolkit.loadData(musicxml):
        raise TranscriptionError("The engraver could not read the MusicXML sheet music.")
    # Verovio's own header shows only the title; a header written into its MEI shows both lines at
    # their proper sizes.
    if not toolkit.loadData(_with_header(toolkit.getMEI(), title, transcriber)):
        raise TranscriptionError("The engraver could not lay out the sheet music.")
    pages = [_printable(toolkit.renderToSVG(page)) for page in range(1, toolkit.getPageCount() + 1)]
    if not pages:
        raise TranscriptionError("The engraver produced no pages for the sheet music.")
    return pages


def _titles(musicxml: str) -> tuple[str, str]:
    """(title, transcriber) from a MusicXML document."""
    root = ET.fromstring(musicxml[musicxml.index("<score-partwise") :])
    title = root.findtext("movement-title") or root.findtext("work/work-title") or ""
    transcriber = ""
    for creator in root.iterfind("identification/creator"):
        if creator.get("type") == "transcriber":
            transcriber = creator.text or ""
    return title.strip(), transcriber.strip()


def _with_header(mei: str, title: str, transcriber: str) -> str:
    """`mei` with a first-page header: the title large, "Transcribed by …" small below it."""
    lines = []
    if title:
        lines.append(f'<rend fontsize="x-large">{escape(title)}</rend>')
    if transcriber:
        lines.append(f'<rend fontsize="small">Transcribed by {escape(transcriber)}</rend>')
    if not lines:
        return mei
    header = f'<pgHead func="first"><rend halign="center" valign="top">{"<lb/>".join(lines)}</rend></pgHead>'
    return re.sub(r"(<scoreDef\b[^>]*>)", lambda m: m.group(1) + header, mei, count=1)


def _printable(svg: str) -> str:
    """Swap music-font text for installed-font text that cairosvg can draw."""

    def swap(match: re.Match[str]) -> str:
        text = "".join(_TEXT_FOR_GLYPH.get(ch, ch) for ch in match.group(2))
        size = float(match.group(1)) * 0.75  # the text font's note is larger than the music font's
        return f'<tspan font-family="DejaVu Sans" font-size="{size:.0f}px">{text}</tspan>'

    return _MUSIC_FONT_TEXT.sub(swap, svg)
