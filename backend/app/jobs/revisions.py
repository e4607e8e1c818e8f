"""Revisions of a job's sheet, as the API keeps them: create one from an editor's hits, list, restore.

Revision 0 is the transcription: the job's own files, never changed. Revision N (1 to MAX_REVISIONS_PER_JOB)
is an editor's sheet: its hits are stored as rev-N.input.json, and the worker's render_revision task runs
the notation stage on them (`revision_rendering`), writing rev-N.* beside the job's files. The job shows
one revision, its current_revision; restoring revision 0 returns to the transcription.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.job_status import JobStatus, RevisionStatus
from app.core.logging import get_logger
from app.models import Job, JobRevision, utcnow
from app.pipeline.stage_table import revision_input
from app.schemas import RevisionIn
from app.storage import Storage

log = get_logger(__name__)

MAX_REVISIONS_PER_JOB = 50
"""Edited revisions one job may have, revision 0 aside."""

MAX_UNFINISHED_REVISIONS = 3
"""Revisions of one job waiting for, or in, the notation stage at a time."""


class RevisionRefused(Exception):
    """A revision that cannot be made or restored now: `status` is the HTTP status, the message a musician's."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_revision(session: Session, job: Job, edit: RevisionIn, storage: Storage) -> JobRevision:
    """A pending revision of `job` with the editor's hits stored, to be rendered by the worker.

    The caller commits, then sends the render task. Raises RevisionRefused (409: the job is not finished
    or has MAX_REVISIONS_PER_JOB revisions; 429: too many still rendering; 422: an edit outside the song).
    """
    if job.status != JobStatus.completed.value:
        raise RevisionRefused(409, "This song isn't finished yet. Edit its sheet once it is ready.")
    made = list_revisions(session, job)
    if len(made) >= MAX_REVISIONS_PER_JOB:
        raise RevisionRefused(
            409,
            f"This sheet already has {MAX_REVISIONS_PER_JOB} saved versions, the most a song keeps. "
            "Download the one you want, or transcribe the song again to start afresh.",
        )
    if sum(r.status in (RevisionStatus.pending, RevisionStatus.processing) for r in made) >= MAX_UNFINISHED_REVISIONS:
        raise RevisionRefused(429, "Your last saves are still being written. Save again in a moment.")
    base = job.current_revision if edit.base_revision is None else edit.base_revision
    if base != 0 and not any(r.number == base and r.status == RevisionStatus.completed for r in made):
        raise RevisionRefused(422, f"There is no finished version {base} of this sheet to edit.")
    _check_within_song(edit, job.duration_s or 0.0)

    number = max((r.number for r in made), default=0) + 1
    with tempfile.TemporaryDirectory(prefix="drumscribe-revision-") as tmp:
        path = Path(tmp) / "input.json"
        path.write_text(json.dumps({"hits": [hit.model_dump() for hit in sorted(edit.hits, key=lambda h: h.time)]}))
        storage.put_file(job.id, revision_input(number), path)
    revision = JobRevision(
        job_id=job.id,
        number=number,
        base_revision=base,
        note=edit.note,
        fixed_tempo_bpm=edit.tempo_bpm,
        fixed_time_signature=edit.time_signature,
        first_downbeat_s=edit.first_downbeat_s,
    )
    session.add(revision)
    job.updated_at = utcnow()  # an edited job is kept another ARTIFACT_TTL_HOURS
    session.flush()
    log.info("revision_created", job_id=job.id, revision=number, base_revision=base, hits=len(edit.hits))
    return revision


def _check_within_song(edit: RevisionIn, duration_s: float) -> None:
    late = [hit.time for hit in edit.hits if hit.time > duration_s]
    if late:
        raise RevisionRefused(
            422,
            f"A note at {late[0]:.2f} s is past the end of the song ({duration_s:.2f} s). Move it or delete it.",
        )
    if edit.first_downbeat_s is not None and edit.first_downbeat_s > duration_s:
        raise RevisionRefused(
            422,
            f"The first downbeat at {edit.first_downbeat_s:.2f} s is past the end of the song ({duration_s:.2f} s).",
        )


def list_revisions(session: Session, job: Job) -> list[JobRevision]:
    """The job's edited revisions, oldest first (revision 0 has no row)."""
    return list(session.scalars(select(JobRevision).where(JobRevision.job_id == job.id).order_by(JobRevision.number)))


def get_revision(session: Session, job: Job, number: int) -> JobRevision | None:
    """Revision `number` (≥ 1) of the job, if it was made."""
    return session.scalar(select(JobRevision).where(JobRevision.job_id == job.id, JobRevision.number == number))


def current_revision(session: Session, job: Job) -> JobRevision | None:
    """The revision the job shows; None while that is the transcription itself."""
    return get_revision(session, job, job.current_revision) if job.current_revision else None


def restore(session: Session, job: Job, number: int) -> None:
    """Make revision `number` the one the job shows (0: the transcription)."""
    if number != 0:
        revision = get_revision(session, job, number)
        if revision is None:
            raise RevisionRefused(404, f"This sheet has no version {number}.")
        if revision.status != RevisionStatus.completed:
            raise RevisionRefused(409, f"Version {number} of this sheet isn't ready ({revision.status}).")
    job.current_revision = number
    job.updated_at = utcnow()
