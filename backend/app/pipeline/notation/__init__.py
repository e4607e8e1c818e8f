"""The transcribe_and_export stage's engine.

`transcribe` finds tempo, metre and bars in the hits and quantizes them (rhythm.py, no notation
software involved); `build_score` engraves that as drum-set notation with music21 (score.py);
`write_musicxml`, `write_pdf` (verovio → cairosvg → pypdf, render.py) and `write_midi` (the
performance as General MIDI, midi.py) write the files; `export_all` writes all three.
"""

from __future__ import annotations

from pathlib import Path

from app.pipeline import constants
from app.pipeline.hits import Hit
from app.pipeline.notation.midi import write_midi
from app.pipeline.notation.render import write_pdf
from app.pipeline.notation.rhythm import Bar, QuantizedHit, Transcription, transcribe
from app.pipeline.notation.score import build_score, write_musicxml

__all__ = [
    "Bar",
    "QuantizedHit",
    "Transcription",
    "build_score",
    "export_all",
    "transcribe",
    "write_midi",
    "write_musicxml",
    "write_pdf",
]


def export_all(transcription: Transcription, hits: list[Hit], out_dir: Path, title: str) -> dict[str, Path]:
    """Write sheet_music.musicxml, sheet_music.pdf and drums.mid into `out_dir`; returns them by file name.

    Each file appears complete or not at all. Raises TranscriptionError when one cannot be written.
    """
    out_dir = Path(out_dir)
    paths = {name: out_dir / name for name in (constants.MUSICXML, constants.PDF, constants.MIDI)}
    write_musicxml(build_score(transcription, title), paths[constants.MUSICXML])
    write_pdf(paths[constants.MUSICXML], paths[constants.PDF])
    write_midi(hits, transcription.quarter_bpm, paths[constants.MIDI], time_signature=transcription.time_signature)
    return paths
