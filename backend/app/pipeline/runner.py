"""Run the four stages in one process, for the command line and the evaluation.

The stages work in a hidden folder beside the destination; only when all of them have succeeded are
the artifacts moved into place, so a failure never leaves a folder that looks complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.config import Settings
from app.core.errors import DrumScribeError
from app.pipeline import stages
from app.pipeline.hits import HitsDocument

StageProgress = Callable[[str, float], None]
"""Called with (stage name, fraction 0–1 of that stage)."""


class OutputExistsError(DrumScribeError):
    """The destination folder already holds files."""

    stage = "transcription"


@dataclass
class PipelineResult:
    """A finished run: where the files are, what was found, and how long each stage took."""

    out_dir: Path
    document: HitsDocument
    title: str
    timings_s: dict[str, float] = field(default_factory=dict)


def run_pipeline(
    source: str | Path,
    out_dir: Path,
    *,
    settings: Settings,
    separator: str | None = None,
    force: bool = False,
    on_progress: StageProgress | None = None,
) -> PipelineResult:
    """Transcribe `source` into `out_dir` (drums.wav, hits.json, sheet_music.musicxml/.pdf, drums.mid)."""
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise OutputExistsError(f"{out_dir} already holds files; choose an empty folder or pass --force to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    notify = on_progress or (lambda _s, _f: None)
    timings: dict[str, float] = {}

    def timed(name: str) -> Callable[[float], None]:
        notify(name, 0.0)
        return lambda fraction: notify(name, fraction)

    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        start = time.perf_counter()
        ingested = stages.ingest_audio(source, work, settings=settings, progress=timed("ingest_audio"))
        timings["ingest_audio"] = time.perf_counter() - start

        start = time.perf_counter()
        stages.separate_drums(work, settings=settings, separator=separator, progress=timed("separate_drums"))
        timings["separate_drums"] = time.perf_counter() - start

        start = time.perf_counter()
        stages.predict_hits(work, settings=settings, progress=timed("predict_hits"))
        timings["predict_hits"] = time.perf_counter() - start

        start = time.perf_counter()
        document = stages.transcribe_and_export(work, settings=settings, progress=timed("transcribe_and_export"))
        timings["transcribe_and_export"] = time.perf_counter() - start

        _publish(work, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return PipelineResult(out_dir=out_dir, document=document, title=ingested.title, timings_s=timings)


def _publish(work: Path, out_dir: Path) -> None:
    """Move the artifacts into a fresh folder, then swap it in with renames."""
    staged = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.ready-", dir=out_dir.parent))
    staged.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary folder
    for name in stages.ARTIFACTS:
        os.replace(work / name, staged / name)
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
        os.replace(staged, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, out_dir)
