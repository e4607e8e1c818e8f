"""The functions of the four pipeline stages.

The stages themselves (order, queue, job status, labels, the files each reads and writes) are declared
once, in `app.pipeline.stage_table`. Each function reads and writes files in one job folder, so the
command line, the Celery tasks and the tests drive the very same functions. Every file is written
atomically and a stage may run twice (a re-queued Celery task) without harm. The notation stage takes
its beat grid from the tracker that `BEAT_TRACKER` names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import soundfile as sf

from app.core.config import Settings
from app.core.errors import PredictionError, TranscriptionError
from app.pipeline import constants as c
from app.pipeline.atomic import write_text_atomic
from app.pipeline.hits import HitsDocument
from app.pipeline.ingest import IngestResult, ingest, write_pcm16_copy

if TYPE_CHECKING:
    from app.pipeline.beats.decode import BeatTrack
    from app.pipeline.notation import FixedGrid
    from app.pipeline.separation import SeparationResult

ProgressFn = Callable[[float], None]

SOURCE_META = "source.json"
SEPARATION_META = "separation.json"


def ingest_audio(
    source: str | Path,
    work_dir: Path,
    *,
    settings: Settings,
    progress: ProgressFn | None = None,
    fallback_title: str | None = None,
) -> IngestResult:
    """Stage 1: decode a file or a link to work_dir/input.wav (44.1 kHz, 32-bit float) and song.wav (the same
    samples in 16-bit PCM, for listening), and record its title and length."""
    result = ingest(
        source,
        work_dir / c.INPUT_AUDIO,
        max_duration_s=settings.MAX_DURATION_SECONDS,
        progress=progress,
        fallback_title=fallback_title,
        allowed_networks=settings.link_allowed_networks,
    )
    write_pcm16_copy(work_dir / c.INPUT_AUDIO, work_dir / c.SONG_AUDIO)
    _write_json(work_dir / SOURCE_META, asdict(result))
    return result


def separate_drums(
    work_dir: Path,
    *,
    settings: Settings,
    separator: str | None = None,
    progress: ProgressFn | None = None,
) -> SeparationResult:
    """Stage 2: isolate the drums of input.wav into drums.wav with SEPARATOR (or `separator`), and the rest of
    the band into band.wav where the separator produces it (Demucs, HPSS)."""
    # Imported here, like the model and notation modules below, so the API never loads torch.
    from app.pipeline.separation import separate

    result = separate(
        work_dir / c.INPUT_AUDIO,
        work_dir / c.DRUMS_AUDIO,
        separator=separator or settings.SEPARATOR,
        settings=settings,
        band_wav=work_dir / c.BAND_AUDIO,
        progress=progress,
    )
    _write_json(work_dir / SEPARATION_META, asdict(result))
    return result


def predict_hits(work_dir: Path, *, settings: Settings, progress: ProgressFn | None = None) -> HitsDocument:
    """Stage 3: find every drum hit in drums.wav and write hits.json."""
    from app.pipeline.prediction.factory import load_predictor

    predictor = load_predictor(settings)
    mono, sr = read_mono(work_dir / c.DRUMS_AUDIO)
    try:
        hits = predictor.predict(mono, sr, progress=progress)
    except PredictionError:
        raise
    except Exception as exc:
        raise PredictionError(f"the drum-hit model {predictor.name} failed on {c.DRUMS_AUDIO}: {exc}") from exc
    separation = _read_json(work_dir / SEPARATION_META)
    document = HitsDocument(
        duration_s=len(mono) / sr,
        separator=str(separation["separator"]),
        separator_reason=separation.get("reason"),
        model=predictor.name,
        hits=sorted(hits, key=lambda h: (h.time, h.instrument)),
    )
    document.save(work_dir / c.HITS_JSON)
    return document


def transcribe_and_export(
    work_dir: Path, *, settings: Settings, progress: ProgressFn | None = None, beats: BeatTrack | None = None
) -> HitsDocument:
    """Stage 4: tempo, metre and notation; writes the sheet (MusicXML, PDF), the MIDI file and final hits.json.

    The beat grid is BEAT_TRACKER's, or `beats` when given (`drumscribe evaluate --beats-from`: another
    tracker's beats, to compare sheets on)."""
    document = HitsDocument.load(work_dir / c.HITS_JSON)
    audio, sr = read_mono(work_dir / c.DRUMS_AUDIO)
    if beats is None and settings.BEAT_TRACKER == "learned" and document.hits:
        from app.pipeline.beats.tracker import track_beats

        beats = track_beats(audio, sr, document.hits)
    title, artist = read_heading(work_dir)
    return write_notation(
        document,
        work_dir,
        title=title,
        artist=artist,
        sheet=SheetLayout.from_settings(settings),
        audio=audio,
        sr=sr,
        beats=beats,
        progress=progress,
    )


def write_notation(
    document: HitsDocument,
    out_dir: Path,
    *,
    title: str,
    artist: str | None = None,
    sheet: SheetLayout | None = None,
    audio: np.ndarray | None = None,
    sr: int | None = None,
    beats: BeatTrack | None = None,
    grid: FixedGrid | None = None,
    automatic_ghosts: bool = True,
    progress: ProgressFn | None = None,
) -> HitsDocument:
    """The notation stage's work on `document`'s hits, for a transcription and for a revision alike.

    Tempo, metre and bars are estimated from the hits (and from the drums' `audio` at `sr`, when given), or
    taken from the learned tracker's `beats`, or from `grid` (an edited sheet's). With `automatic_ghosts`,
    quiet snare strokes become ghost notes; otherwise only the hits' own accent and ghost marks are
    written. Writes sheet_music.musicxml, sheet_music.pdf, drums.mid and hits.json (the hits with their
    marks, tempo, metre, beats and downbeats) into `out_dir`; returns that hits.json's content. The sheet
    is headed by `title` and `artist`, laid out as `sheet` says (A4, no repeat signs when not given).
    """
    from app.pipeline.notation import export_all, ghost_limit, transcribe

    report = progress or (lambda _f: None)
    sheet = sheet or SheetLayout()
    hits = document.hits
    try:
        transcription = transcribe(hits, duration_s=document.duration_s, audio=audio, sr=sr, beats=beats, grid=grid)
        report(0.3)
        if automatic_ghosts:
            quiet_below = ghost_limit(transcription)
            hits = [replace(h, ghost=h.instrument == "snare" and h.velocity < quiet_below) for h in hits]
        export_all(
            transcription,
            hits,
            out_dir,
            title=title,
            artist=artist,
            page_size=sheet.page_size,
            simile=sheet.simile,
            automatic_ghosts=automatic_ghosts,
        )
    except TranscriptionError:
        raise
    except Exception as exc:
        raise TranscriptionError(f"could not write the drum sheet for {title!r}: {exc}") from exc
    document = replace(
        document,
        hits=hits,
        title=title,
        artist=artist,
        tempo_bpm=round(float(transcription.tempo_bpm), 2),
        time_signature=transcription.time_signature,
        beat_times=list(transcription.beat_times),
        downbeat_times=list(transcription.downbeat_times),
    )
    document.save(out_dir / c.HITS_JSON)
    report(1.0)
    return document


def read_heading(work_dir: Path) -> tuple[str, str | None]:
    """The song's title and artist (None when unknown), as ingest recorded them."""
    source = _read_json(work_dir / SOURCE_META)
    return str(source.get("title") or "Untitled"), source.get("artist") or None


@dataclass(frozen=True)
class SheetLayout:
    """How the sheet is laid out: paper size (SHEET_PAGE_SIZE) and repeat signs for repeated bars (SHEET_SIMILE)."""

    page_size: str = "a4"
    simile: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SheetLayout:
        """The layout the deployment's settings ask for."""
        return cls(page_size=settings.SHEET_PAGE_SIZE, simile=settings.SHEET_SIMILE)


_READ_BLOCK_FRAMES = 1 << 20


def read_mono(path: Path) -> tuple[np.ndarray, int]:
    """A WAV file as mono float32 and its sample rate, read in blocks.

    Only the mono result is held whole: reading the stereo file at once and averaging would hold three
    times as much (about 480 MB for a 15-minute song).
    """
    with sf.SoundFile(path) as f:
        mono = np.empty(f.frames, dtype=np.float32)
        done = 0
        for block in f.blocks(blocksize=_READ_BLOCK_FRAMES, dtype="float32", always_2d=True):
            mono[done : done + len(block)] = block.mean(axis=1)
            done += len(block)
        return mono[:done], f.samplerate


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
