"""MusicXML to PDF without a desktop program: verovio engraves SVG pages, librsvg's `rsvg-convert`
prints them as one PDF, and pypdf sets the document's title and author."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import verovio
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from app.core.errors import TranscriptionError
from app.pipeline.atomic import write_bytes_atomic

PAGE_SIZES_PT: dict[str, tuple[int, int]] = {"a4": (595, 842), "letter": (612, 792)}
"""Paper sizes (SHEET_PAGE_SIZE) in PostScript points, as PDF MediaBoxes give them."""

_MM_TENTHS_PER_PT = 254 / 72
"""Verovio lays a page out in tenths of a millimetre; a point is 1/72 inch."""

PAGE_OPTIONS: dict[str, object] = {
    # Page width and height come from the paper size (page_options); 12 mm margins. The staff is about
    # 7 mm high, the size of printed drum charts, with six to eight systems a page.
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
which the SVG printer does not load; they are swapped for the same symbols in an installed text font."""

_SPACE_BEFORE_DOT = re.compile("\\s+(?=[\uecb7\ue1e7])")
"""Space between a tempo mark's note and its augmentation dot (either code point)."""

_TEMPO_TEXT = re.compile(r'(<g\b[^>]*\bclass="tempo"[^>]*>\s*<text\b)')
"""The tempo mark's text ("♩ = 120"). Verovio writes the space after the note at the start of the next
piece of text, which SVG's default whitespace rule drops (rsvg-convert follows it); kept, it prints. The
line breaks between the pieces sit in text of size 0, so keeping them adds no width."""

_TEXT_FOR_GLYPH = {
    "\ueca3": "\U0001d15e\u2004",  # metNoteHalfUp → 𝅗𝅥 (2/2's tempo mark), spaced: its glyph is wider than its advance
    "\ueca5": "\u2669",  # metNoteQuarterUp → ♩
    "\ueca7": "\u266a",  # metNote8thUp → ♪
    "\uecb7": ".",  # metAugmentationDot
    "\ue1d3": "\U0001d15e\u2004",  # the same four at their older SMuFL code points
    "\ue1d5": "\u2669",
    "\ue1d7": "\u266a",
    "\ue1e7": ".",
}
"""DejaVu Sans has the quarter and the 8th; the half note is FreeSerif's (fonts-freefont-ttf), which the
printer falls back to."""


def page_options(page_size: str) -> dict[str, object]:
    """Verovio's options for pages of `page_size` ("a4" or "letter")."""
    if page_size not in PAGE_SIZES_PT:
        raise TranscriptionError(
            f"Unknown page size {page_size!r} for the sheet music; use one of {', '.join(PAGE_SIZES_PT)}."
        )
    width_pt, height_pt = PAGE_SIZES_PT[page_size]
    return {
        **PAGE_OPTIONS,
        "pageWidth": round(width_pt * _MM_TENTHS_PER_PT),
        "pageHeight": round(height_pt * _MM_TENTHS_PER_PT),
    }


def write_pdf(musicxml_path: Path, pdf_path: Path, *, page_size: str = "a4") -> int:
    """Engrave `musicxml_path` into a PDF at `pdf_path` (atomically) on `page_size` paper; returns the page count.

    The page header shows the MusicXML's title, below it the artist (its composer credit) and
    "Transcribed by <transcriber>".
    """
    musicxml = Path(musicxml_path).read_text(encoding="utf-8")
    title, artist, transcriber = _titles(musicxml)
    pages = svg_pages(musicxml, title=title, artist=artist, transcriber=transcriber, page_size=page_size)
    printed = print_pages(pages)
    try:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(printed)))
    except PyPdfError as exc:
        raise TranscriptionError(f"The printed sheet music is not a readable PDF: {exc}") from exc
    if len(writer.pages) != len(pages):
        raise TranscriptionError(f"The sheet music has {len(pages)} pages but its PDF {len(writer.pages)}.")
    writer.add_metadata({"/Title": title, "/Creator": "DrumScribe", **({"/Author": artist} if artist else {})})
    buffer = io.BytesIO()
    writer.write(buffer)
    write_bytes_atomic(Path(pdf_path), buffer.getvalue())
    return len(writer.pages)


PRINTER = "rsvg-convert"
"""librsvg's command-line converter (Debian: librsvg2-bin), which prints SVG pages as one PDF. It took a
sixth of the CPU time cairosvg did on a 3-minute song's five pages."""

_PRINT_TIMEOUT_S = 120


def print_pages(pages: list[str], *, printer: str = PRINTER) -> bytes:
    """The SVG `pages` printed as one PDF, a page each, by `printer` (rsvg-convert)."""
    program = shutil.which(printer)
    if program is None:
        raise TranscriptionError(
            f"{printer!r} is not installed, so the sheet music cannot be printed as PDF: install librsvg "
            "(Debian and Ubuntu: apt-get install librsvg2-bin; macOS: brew install librsvg)."
        )
    with tempfile.TemporaryDirectory(prefix="drumscribe-pages-") as folder:
        files = []
        for number, svg in enumerate(pages, 1):
            path = Path(folder) / f"page-{number:04d}.svg"
            path.write_text(svg, encoding="utf-8")
            files.append(str(path))
        try:
            done = subprocess.run(
                [program, "--format", "pdf", *files], capture_output=True, timeout=_PRINT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise TranscriptionError(
                f"Printing {len(pages)} pages of sheet music as PDF took over {_PRINT_TIMEOUT_S} s; "
                f"{printer} was stopped."
            ) from exc
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF"):
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise TranscriptionError(f"{printer} could not print the sheet music as PDF: {reason[0]}")
    return done.stdout


def svg_pages(
    musicxml: str, *, title: str = "", artist: str = "", transcriber: str = "", page_size: str = "a4"
) -> list[str]:
    """Engrave MusicXML into one SVG document per page of `page_size` paper, ready to print."""
    toolkit = verovio.toolkit()
    toolkit.setOptions(page_options(page_size))
    if not toolkit.loadData(musicxml):
        raise TranscriptionError("The engraver could not read the MusicXML sheet music.")
    # Verovio's own header shows only the title; a header written into its MEI shows every line at
    # its proper size.
    if not toolkit.loadData(_with_wide_repeat_bars(_with_header(toolkit.getMEI(), title, artist, transcriber))):
        raise TranscriptionError("The engraver could not lay out the sheet music.")
    pages = [
        _on_paper(_printable(toolkit.renderToSVG(page)), page_size) for page in range(1, toolkit.getPageCount() + 1)
    ]
    if not pages:
        raise TranscriptionError("The engraver produced no pages for the sheet music.")
    return pages


def _titles(musicxml: str) -> tuple[str, str, str]:
    """(title, artist, transcriber) from a MusicXML document; the artist is its composer credit."""
    root = ET.fromstring(musicxml[musicxml.index("<score-partwise") :])
    title = root.findtext("movement-title") or root.findtext("work/work-title") or ""
    creators = {c.get("type"): (c.text or "").strip() for c in root.iterfind("identification/creator")}
    return title.strip(), creators.get("composer", ""), creators.get("transcriber", "")


def _with_header(mei: str, title: str, artist: str, transcriber: str) -> str:
    """`mei` with a first-page header: the title large, the artist below it, "Transcribed by …" small."""
    lines = []
    if title:
        lines.append(f'<rend fontsize="x-large">{escape(title)}</rend>')
    if artist:
        lines.append(f'<rend fontsize="large">{escape(artist)}</rend>')
    if transcriber:
        lines.append(f'<rend fontsize="small">Transcribed by {escape(transcriber)}</rend>')
    if not lines:
        return mei
    header = f'<pgHead func="first"><rend halign="center" valign="top">{"<lb/>".join(lines)}</rend></pgHead>'
    return re.sub(r"(<scoreDef\b[^>]*>)", lambda m: m.group(1) + header, mei, count=1)


_SVG_SIZE = re.compile(r'^(<svg\b[^>]*?) width="[^"]*" height="[^"]*"')


def _on_paper(svg: str, page_size: str) -> str:
    """`svg` sized in points as the paper is, so it is printed on exactly that page.

    Verovio sizes its SVG in pixels (its page times its scale), which SVG printers read at 96 per inch:
    a page neither A4 nor Letter. The drawing keeps its own viewBox and so scales to the paper.
    """
    width_pt, height_pt = PAGE_SIZES_PT[page_size]
    sized, count = _SVG_SIZE.subn(rf'\1 width="{width_pt}pt" height="{height_pt}pt"', svg, count=1)
    if count != 1:
        raise TranscriptionError("The engraver's page has no size to set; the sheet music cannot be printed.")
    return sized


_METER_OR_REPEAT = re.compile(
    r'<meterSig\b[^>]*?\bcount="(\d+)"[^>]*?\bunit="(\d+)"[^>]*>'
    r'|(<layer\b[^>]*\bn="2"[^>]*>)\s*<mRpt\b[^>]*/>'
)


def _with_wide_repeat_bars(mei: str) -> str:
    """`mei` with the feet's copy of each bar-repeat sign swapped for silent 8th-note spaces.

    Verovio spaces a bar by what it holds, so a bar holding only the sign shrinks to a sliver; the
    spaces give it the width of a bar of 8ths, as drum charts print a repeat bar. The hands' sign
    is the one drawn.
    """
    eighths_per_bar = 8

    def swap(match: re.Match[str]) -> str:
        nonlocal eighths_per_bar
        if match.group(1):  # a time signature: bars from here on hold this many 8ths
            eighths_per_bar = int(match.group(1)) * 8 // int(match.group(2))
            return match.group(0)
        return match.group(3) + '<space dur="8" />' * eighths_per_bar

    return _METER_OR_REPEAT.sub(swap, mei)


def _printable(svg: str) -> str:
    """Swap music-font text for installed-font text that the printer can draw, and keep the tempo mark's spaces."""

    def swap(match: re.Match[str]) -> str:
        # Verovio spaces the dot from the note for the music font; in a text font the space would part them.
        glyphs = _SPACE_BEFORE_DOT.sub("", match.group(2))
        text = "".join(_TEXT_FOR_GLYPH.get(ch, ch) for ch in glyphs)
        size = float(match.group(1)) * 0.75  # the text font's note is larger than the music font's
        return f'<tspan font-family="DejaVu Sans" font-size="{size:.0f}px">{text}</tspan>'

    return _TEMPO_TEXT.sub(r'\1 xml:space="preserve"', _MUSIC_FONT_TEXT.sub(swap, svg))
