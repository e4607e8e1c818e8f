"""The transcribe_and_export stage's engine: tempo, metre and quantization (rhythm), drum-set notation
(score), engraving to PDF (render) and the performance as General MIDI (midi)."""

from __future__ import annotations

from pathlib import Path

from app.pipeline import constants as c
from app.pipeline.atomic import atomic_path
from app.pipeline.hits import Hit
from app.pipeline.notation.midi import write_midi
from app.pipeline.notation.render import write_pdf
from app.pipeline.notation.rhythm import Transcription, transcribe
from app.pipeline.notation.score import build_score

__all__ = ["Transcription", "build_score", "export_all", "transcribe", "write_midi", "write_musicxml", "write_pdf"]


def write_musicxml(score, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Write a music21 score as MusicXML, atomically."""
    with atomic_path(path) as tmp:
        score.write("musicxml", fp=str(tmp))


def export_all(transcription: Transcription, hits: list[Hit], out_dir: Path, *, title: str) -> dict[str, Path]:
    """Write sheet_music.musicxml, sheet_music.pdf and drums.mid into `out_dir`."""
    paths = {name: Path(out_dir) / name for name in (c.MUSICXML, c.PDF, c.MIDI)}
    write_musicxml(build_score(transcription, title), paths[c.MUSICXML])
    write_pdf(paths[c.MUSICXML], paths[c.PDF])
    write_midi(hits, transcription.tempo_bpm, paths[c.MIDI])
    return paths
