"""Run the stages of the stage table in one process, for the command line.

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
from app.pipeline import constants as c
from app.pipeline.hits import HitsDocument
from app.pipeline.stage_table import ARTIFACTS, STAGES, JobFacts, Song, StageRun

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
    force: bool = False,
    on_progress: StageProgress | None = None,
) -> PipelineResult:
    """Transcribe `source` (a file or a link) into `out_dir`, which receives the stage table's ARTIFACTS."""
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise OutputExistsError(f"{out_dir} already holds files; choose an empty folder or pass --force to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    notify = on_progress or (lambda _s, _f: None)
    song = Song(source)
    facts: JobFacts = {}
    timings: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        for stage in STAGES:
            notify(stage.name, 0.0)
            start = time.perf_counter()
            outcome = stage.run(StageRun(work, song, settings, _reporter(notify, stage.name)))
            timings[stage.name] = time.perf_counter() - start
            facts.update(stage.record(outcome))
        _publish(work, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    document = HitsDocument.load(out_dir / c.HITS_JSON)
    return PipelineResult(out_dir=out_dir, document=document, title=facts["title"], timings_s=timings)


def _reporter(notify: StageProgress, stage: str) -> Callable[[float], None]:
    return lambda fraction: notify(stage, fraction)


def _publish(work: Path, out_dir: Path) -> None:
    """Move the artifacts into a fresh folder, then swap it in with renames."""
    staged = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.ready-", dir=out_dir.parent))
    staged.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary folder
    for artifact in ARTIFACTS:
        if artifact.optional and not (work / artifact.name).exists():
            continue
        os.replace(work / artifact.name, staged / artifact.name)
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
        os.replace(staged, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, out_dir)
