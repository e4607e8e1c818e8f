"""The engraved PDF (verovio → rsvg-convert → pypdf): pages a person can read, checked as a picture."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import verovio
from PIL import Image
from pypdf import PdfReader

from app.core.errors import TranscriptionError
from app.pipeline.hits import Hit
from app.pipeline.notation import Bar, QuantizedHit, Transcription, build_score, export_all, transcribe, write_musicxml
from app.pipeline.notation.render import page_options, print_pages, svg_pages, write_pdf
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
    text = reader.pages[0].extract_text().replace("\xa0", " ")  # the printer keeps the tempo's space unbreakable
    assert "Kit Tour" in text and "Transcribed by DrumScribe" in text
    assert "\u2669 = 112" in text, "the tempo mark's note is drawn, not a missing-glyph box, and spaced from the ="

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


def test_svg_pages_leave_no_music_font_text_for_the_printer(tmp_path: Path) -> None:
    hits, duration_s = song(bars_each=1)
    paths = export_all(transcribe(hits, duration_s=duration_s), hits, tmp_path, title="Fonts")
    (svg,) = svg_pages(paths["sheet_music.musicxml"].read_text(), title="Fonts", transcriber="DrumScribe")
    assert 'font-family="Leipzig"' not in svg


def test_print_pages_binds_every_page_into_one_pdf(tmp_path: Path) -> None:
    pages = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="595pt" height="842pt"><text x="50" y="50">{n}</text></svg>'
        for n in range(3)
    ]
    pdf = tmp_path / "pages.pdf"
    pdf.write_bytes(print_pages(pages))
    reader = PdfReader(pdf)
    assert [page.extract_text().strip() for page in reader.pages] == ["0", "1", "2"]


def test_a_missing_printer_names_the_package_to_install() -> None:
    with pytest.raises(TranscriptionError, match=r"'drumscribe-no-such-printer' is not installed.*librsvg2-bin"):
        print_pages(["<svg/>"], printer="drumscribe-no-such-printer")


def test_a_page_the_printer_cannot_read_is_a_clear_error() -> None:
    with pytest.raises(TranscriptionError, match=r"rsvg-convert could not print the sheet music as PDF: .+"):
        print_pages(["<svg xmlns='http://www.w3.org/2000/svg'><unclosed></svg>"])


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


SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[float, float, float, float]

RESTS_AND_VOICES: list[list[tuple[Fraction | int, str]]] = [
    [(0, "kick"), (0, "crash")],  # both voices silent after beat 1
    [(0, "snare"), (2, "kick")],  # hands on 1, feet on 3, silence on 2 and 4
    [],  # a silent bar
    [(b, "kick") for b in range(4)],  # feet alone
    [(Fraction(1, 2), "hihat_closed"), (Fraction(3, 2), "hihat_closed"), (0, "kick"), (Fraction(3, 4), "kick")],
    [(Fraction(1, 4), "snare"), (Fraction(3, 4), "snare"), (1, "kick"), (Fraction(5, 4), "kick"), (3, "tom_low")],
    [(Fraction(1, 2), "kick"), (1, "snare"), (Fraction(3, 2), "kick"), (2, "snare"), (3, "snare")],
]


def engraved_measures(musicxml: str) -> list[dict[str, list[Box]]]:
    """Per measure of verovio's engraving: the boxes of its printed rests, of its notes (heads,
    stems, flags, dots, beams) and the y of its staff lines (as one-box entries)."""
    toolkit = verovio.toolkit()
    toolkit.setOptions({**page_options("a4"), "svgBoundingBoxes": True})
    assert toolkit.loadData(musicxml)
    measures = []
    for page in range(1, toolkit.getPageCount() + 1):
        for measure in ET.fromstring(toolkit.renderToSVG(page)).iter(f"{SVG}g"):
            if measure.get("class") != "measure":
                continue
            found: dict[str, list[Box]] = {"rests": [], "notes": [], "lines": []}
            for g in measure.iter(f"{SVG}g"):
                kind = (g.get("class") or "").removesuffix(" bounding-box")
                rect = g.find(f"{SVG}rect")
                if g.get("class", "").endswith(" bounding-box") and rect is not None:
                    box = tuple(float(rect.get(k, "0")) for k in ("x", "y", "width", "height"))
                    if kind in ("rest", "mRest"):
                        found["rests"].append(box)
                    elif kind in ("note", "stem", "flag", "dots", "beam"):
                        found["notes"].append(box)
                if kind == "staff":
                    for line in g.findall(f"{SVG}path"):
                        y = float(re.match(r"M\S+ (\S+) L", line.get("d", "")).group(1))
                        found["lines"].append((0.0, y, 0.0, 0.0))
            measures.append(found)
    return measures


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_printed_rests_touch_no_note_stand_alone_and_sit_in_the_middle_of_the_staff(tmp_path: Path) -> None:
    bars = tuple(
        Bar(n, 2.0 * (n - 1), (4, 4, 4, 4), tuple(QuantizedHit(Fraction(o), i, 100, 0.0) for o, i in strokes))
        for n, strokes in enumerate(RESTS_AND_VOICES, start=1)
    )
    transcription = Transcription(120.0, "4/4", tuple(0.5 * k for k in range(4 * len(bars))), bars)
    write_musicxml(build_score(transcription, "Rests"), tmp_path / "rests.musicxml")
    measures = engraved_measures((tmp_path / "rests.musicxml").read_text())
    assert len(measures) == len(RESTS_AND_VOICES)
    assert sum(len(m["rests"]) for m in measures) >= 8, "the silent beats show rests"
    for number, measure in enumerate(measures, start=1):
        lines = sorted({y for _, y, _, _ in measure["lines"]})
        middle, space = lines[2], lines[1] - lines[0]
        for rest in measure["rests"]:
            assert not any(overlap(rest, n) for n in measure["notes"]), f"a rest touches a note in bar {number}"
            others = [r for r in measure["rests"] if r is not rest]
            assert not any(abs(r[0] - rest[0]) < space for r in others), f"rests stacked in bar {number}"
            centre = rest[1] + rest[3] / 2
            assert abs(centre - middle) <= space, f"a rest off the middle of the staff in bar {number}"


def test_no_rest_touches_a_note_on_a_real_page(tmp_path: Path) -> None:
    hits, duration_s = song(bars_each=2)
    paths = export_all(transcribe(hits, duration_s=duration_s), hits, tmp_path, title="Kit Tour")
    measures = engraved_measures(paths["sheet_music.musicxml"].read_text())
    assert len(measures) >= 8
    for measure in measures:
        assert not any(overlap(r, n) for r in measure["rests"] for n in measure["notes"])


def test_repeated_bars_are_engraved_as_full_width_repeat_signs_and_the_midi_is_unchanged(tmp_path: Path) -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=112, bars=4, start_s=0.4)
    hits = [Hit(e.time, e.instrument, e.velocity, 0.9) for e in groove.events]
    transcription = transcribe(hits, duration_s=groove.duration_s + 1.0)
    plain = export_all(transcription, hits, tmp_path / "plain", title="Rock")
    simile = export_all(transcription, hits, tmp_path / "simile", title="Rock", simile=True)
    assert simile["drums.mid"].read_bytes() == plain["drums.mid"].read_bytes()

    (svg,) = svg_pages(simile["sheet_music.musicxml"].read_text(), title="Rock")
    assert svg.count('class="mRpt"') == 3, "bars 2-4 are each one repeat sign"
    widths = []
    for measure in ET.fromstring(svg).iter(f"{SVG}g"):
        if measure.get("class") == "measure":
            staff = next(g for g in measure.iter(f"{SVG}g") if g.get("class") == "staff")
            x1, x2 = re.match(r"M(\S+) \S+ L(\S+)", staff.find(f"{SVG}path").get("d", "")).groups()
            widths.append(float(x2) - float(x1))
    assert len(widths) == 4
    assert min(widths[1:]) > 0.6 * widths[0], f"repeat bars squeezed: {widths}"


def test_a_compound_tempo_mark_prints_its_dotted_note_whole(tmp_path: Path) -> None:
    strokes = [(Fraction(0), "kick"), (Fraction(3, 2), "snare")]
    bar = Bar(1, 0.0, (3, 3), tuple(QuantizedHit(o, i, 100, 0.0) for o, i in strokes), time_signature="6/8")
    score = build_score(Transcription(60.0, "6/8", (0.0, 1.0), (bar,)), "Six Eight")
    write_musicxml(score, tmp_path / "six.musicxml")
    (svg,) = svg_pages((tmp_path / "six.musicxml").read_text(), title="Six Eight")
    assert ">\u2669.</tspan>" in svg, "the dotted quarter of the tempo mark, its dot beside the note"


def test_a_cut_time_tempo_mark_prints_its_half_note(tmp_path: Path) -> None:
    strokes = [(Fraction(0), "kick"), (Fraction(2), "snare")]
    bar = Bar(1, 0.0, (2, 2, 2, 2), tuple(QuantizedHit(o, i, 100, 0.0) for o, i in strokes), time_signature="2/2")
    score = build_score(Transcription(60.0, "2/2", (0.0, 1.0), (bar,)), "Cut Time")
    write_musicxml(score, tmp_path / "cut.musicxml")
    (svg,) = svg_pages((tmp_path / "cut.musicxml").read_text(), title="Cut Time")
    assert "\U0001d15e" in svg, "the half note of the tempo mark, in a font the printer has"
    # The printer draws it with whichever installed font has it (FreeSerif, from fonts-freefont-ttf).
    fonts = subprocess.run(["fc-list", ":charset=1d15e", "family"], capture_output=True, text=True, check=True).stdout
    assert fonts.strip(), "no installed font has the half note: apt-get install fonts-freefont-ttf"
    assert write_pdf(tmp_path / "cut.musicxml", tmp_path / "cut.pdf") == 1
