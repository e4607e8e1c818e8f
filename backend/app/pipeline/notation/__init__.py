"""The transcribe_and_export stage's engine.

`transcribe` finds tempo, metre and bars in the hits and quantizes them (rhythm.py, no notation
software involved), or quantizes them on a grid a revision keeps or sets (fixed_grid.py);
`build_score` engraves that as drum-set notation with music21 (score.py); `write_musicxml`,
`write_pdf` (verovio → rsvg-convert → pypdf, render.py) and `write_midi` (the performance as General MIDI,
midi.py) write the files; `export_all` writes all three.
"""

from __future__ import annotations

from pathlib import Path

from app.pipeline import constants
from app.pipeline.hits import Hit
from app.pipeline.notation.fixed_grid import FixedGrid, revised_grid
from app.pipeline.notation.midi import write_midi
from app.pipeline.notation.render import write_pdf
from app.pipeline.notation.rhythm import Bar, QuantizedHit, Transcription, transcribe
from app.pipeline.notation.score import build_score, ghost_limit, write_musicxml

__all__ = [
    "Bar",
    "FixedGrid",
    "QuantizedHit",
    "Transcription",
    "build_score",
    "export_all",
    "ghost_limit",
    "revised_grid",
    "transcribe",
    "write_midi",
    "write_musicxml",
    "write_pdf",
]


def export_all(
    transcription: Transcription,
    hits: list[Hit],
    out_dir: Path,
    title: str,
    *,
    artist: str | None = None,
    page_size: str = "a4",
    simile: bool = False,
    automatic_ghosts: bool = True,
) -> dict[str, Path]:
    """Write sheet_music.musicxml, sheet_music.pdf (on `page_size` paper) and drums.mid into `out_dir`;
    returns them by file name. The sheet is headed by `title` and, below it, `artist` when given; with
    `simile`, a bar that repeats the one before is written as a repeat sign (MIDI is not affected).

    `automatic_ghosts`: as `build_score`. Each file appears complete or not at all. Raises
    TranscriptionError when one cannot be written.
    """
    out_dir = Path(out_dir)
    paths = {name: out_dir / name for name in (constants.MUSICXML, constants.PDF, constants.MIDI)}
    score = build_score(transcription, title, artist=artist, automatic_ghosts=automatic_ghosts)
    write_musicxml(score, paths[constants.MUSICXML], simile=simile)
    write_pdf(paths[constants.MUSICXML], paths[constants.PDF], page_size=page_size)
    write_midi(hits, transcription.quarter_bpm, paths[constants.MIDI], time_signature=transcription.time_signature)
    return paths
