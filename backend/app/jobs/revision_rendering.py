"""Rendering a revision of a job's sheet inside a worker (Celery task app.worker.render_revision).

The notation stage runs again, alone, on the editor's hits (rev-N.input.json), on the grid of the revision
it was edited from with the editor's overrides, and writes rev-N.sheet_music.musicxml, .pdf, rev-N.drums.mid
and rev-N.hits.json. Nothing of another revision is touched. Running it twice is harmless: the files are
rewritten from the same inputs.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import DrumScribeError, for_musicians
from app.core.job_status import RevisionStatus
from app.core.logging import get_logger
from app.jobs.execution import DATABASE_UNAVAILABLE
from app.models import Job, JobRevision, utcnow
from app.pipeline import constants as c
from app.pipeline import stages
from app.pipeline.hits import Hit, HitsDocument
from app.pipeline.stage_table import REVISION_ARTIFACTS, REVISION_STAGE, revision_file, revision_input
from app.storage import Storage

log = get_logger(__name__)


def render_revision(revision_id: str, *, storage: Storage) -> bool:
    """Render the revision; False when there was nothing to do (gone, deleted, already finished) or it failed."""
    with session_scope() as session:
        revision = session.get(JobRevision, revision_id)
        job = session.get(Job, revision.job_id) if revision is not None else None
        if revision is None or job is None or job.cancelled:
            log.info("revision_skipped", revision_id=revision_id, reason="deleted")
            return False
        if revision.status in (RevisionStatus.completed, RevisionStatus.failed):
            log.info("revision_skipped", revision_id=revision_id, reason=revision.status)
            return False
        revision.status = RevisionStatus.processing.value
        job_id, number, base = job.id, revision.number, revision.base_revision
        overrides: dict[str, Any] = {
            "fixed_tempo_bpm": revision.fixed_tempo_bpm,
            "fixed_time_signature": revision.fixed_time_signature,
            "first_downbeat_s": revision.first_downbeat_s,
        }
    structlog.contextvars.bind_contextvars(job_id=job_id, stage=REVISION_STAGE.name, revision=number)
    try:
        log.info("revision_start", base_revision=base)
        inputs = (revision_file(base, c.HITS_JSON), revision_input(number), stages.SOURCE_META)
        try:
            with storage.workspace(job_id, inputs) as folder:
                document = _render(folder, number, base, overrides, storage, job_id)
        except DATABASE_UNAVAILABLE:
            raise
        except Exception as exc:
            detail = str(exc) if isinstance(exc, DrumScribeError) else f"{type(exc).__name__}: {exc}"
            _finish(revision_id, job_id, storage, error=(for_musicians(exc, REVISION_STAGE.failure_label), detail))
            log.warning("revision_failed", status="failed", error=detail)
            return False
        _finish(revision_id, job_id, storage, document=document)
        log.info("revision_done", tempo_bpm=document.tempo_bpm, time_signature=document.time_signature)
        return True
    finally:
        structlog.contextvars.unbind_contextvars("job_id", "stage", "revision")


def _render(
    folder: Path, number: int, base: int, overrides: dict[str, Any], storage: Storage, job_id: str
) -> HitsDocument:
    """Run the notation stage on the revision's hits and store its files; the revision's hits.json content."""
    from app.pipeline.notation import revised_grid

    based_on = HitsDocument.load(folder / revision_file(base, c.HITS_JSON))
    edited = json.loads((folder / revision_input(number)).read_text())
    hits = [Hit(h["time"], h["instrument"], h["velocity"], 1.0, h["accent"], h["ghost"]) for h in edited["hits"]]
    grid = revised_grid(
        based_on.beat_times,
        based_on.downbeat_times,
        based_on.time_signature,
        based_on.tempo_bpm,
        **overrides,
    )
    document = replace(based_on, hits=hits)
    with tempfile.TemporaryDirectory(prefix="drumscribe-revision-") as out:
        title, artist = stages.read_heading(folder)
        written = stages.write_notation(
            document,
            Path(out),
            title=title,
            artist=artist,
            sheet=stages.SheetLayout.from_settings(get_settings()),
            grid=grid,
            automatic_ghosts=False,
        )
        for name in REVISION_ARTIFACTS:
            storage.put_file(job_id, revision_file(number, name), Path(out) / name)
    return written


def _finish(
    revision_id: str,
    job_id: str,
    storage: Storage,
    *,
    document: HitsDocument | None = None,
    error: tuple[str, str] | None = None,
) -> None:
    """Record the outcome; a job deleted meanwhile loses the files just written too."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        revision = session.get(JobRevision, revision_id)
        if job is None:
            storage.delete_job(job_id)
            return
        if revision is None:
            return
        revision.finished_at = utcnow()
        if document is not None:
            revision.status = RevisionStatus.completed.value
            revision.tempo_bpm = document.tempo_bpm
            revision.time_signature = document.time_signature
            revision.hit_count = len(document.hits)
        elif error is not None:
            revision.status = RevisionStatus.failed.value
            revision.error_message, revision.error_detail = error
