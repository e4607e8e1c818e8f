"""/api/v1/jobs/{job_id}/revisions: the owner's edited sheets: save one, list them, download, restore."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.artifacts import ARTIFACT_RESPONSES, artifact_response
from app.api.deps import OwnedJobDep, SessionDep, StorageDep
from app.api.routes.jobs import owner_view
from app.core.db import session_scope
from app.core.job_status import JobStatus, RevisionStatus
from app.core.logging import get_logger
from app.jobs import revisions, service
from app.models import Job, JobRevision, utcnow
from app.pipeline.stage_table import REVISION_ARTIFACTS, revision_file
from app.schemas import Artifact, ErrorOut, JobOut, RevisionIn, RevisionList, RevisionOut
from app.storage import Storage

router = APIRouter(prefix="/api/v1/jobs/{job_id}/revisions", tags=["revisions"])
log = get_logger(__name__)

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (404, 409, 422, 429, 503)}

Number = Annotated[int, Path(ge=0, le=1_000_000, description="The revision's number; 0 is the transcription")]
"""Beyond any job's revisions, and far inside the database's integer range."""


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RevisionOut,
    responses=ERRORS,
    summary="Save an edited sheet as a new revision; the notation stage renders it (poll it until completed)",
)
def create_revision(
    edit: RevisionIn, job: OwnedJobDep, session: SessionDep, storage: StorageDep, response: Response
) -> RevisionOut:
    try:
        revision = revisions.create_revision(session, job, edit, storage)
        session.commit()  # before the task is sent: the worker must find the revision
    except revisions.RevisionRefused as exc:
        raise HTTPException(exc.status, str(exc), headers=_retry_after(exc.status)) from exc
    except IntegrityError as exc:  # another save of the same job took the same number a moment earlier
        raise HTTPException(409, "Another save of this sheet arrived at the same moment. Save again.") from exc
    _enqueue(revision.id)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}/revisions/{revision.number}"
    return revision_out(job, revision, storage)


def _retry_after(status_code: int) -> dict[str, str] | None:
    return {"Retry-After": "5"} if status_code == 429 else None


def _enqueue(revision_id: str) -> None:
    """Send the render task; a revision the broker did not take is failed at once."""
    from app.worker import enqueue_revision

    try:
        enqueue_revision(revision_id)
    except Exception as exc:
        log.error("enqueue_failed", revision_id=revision_id, error=str(exc))
        with session_scope() as session:
            revision = session.get(JobRevision, revision_id)
            if revision is not None:
                revision.status = RevisionStatus.failed.value
                revision.error_message = "The server couldn't queue this save. Please save again in a minute."
                revision.error_detail = f"the broker did not take the render task: {exc}"
                revision.finished_at = utcnow()
        raise HTTPException(503, "DrumScribe cannot save edits right now; try again in a minute") from exc


@router.get("", response_model=RevisionList, responses=ERRORS, summary="The job's revisions, revision 0 first")
def list_revisions(job: OwnedJobDep, session: SessionDep, storage: StorageDep) -> RevisionList:
    _finished(job)
    return RevisionList(
        current_revision=job.current_revision,
        max_revisions=revisions.MAX_REVISIONS_PER_JOB,
        revisions=[
            original_out(job, storage),
            *(revision_out(job, r, storage) for r in revisions.list_revisions(session, job)),
        ],
    )


@router.get("/{number}", response_model=RevisionOut, responses=ERRORS, summary="One revision (to follow its status)")
def get_revision(job: OwnedJobDep, number: Number, session: SessionDep, storage: StorageDep) -> RevisionOut:
    _finished(job)
    if number == 0:
        return original_out(job, storage)
    return revision_out(job, _revision(session, job, number), storage)


@router.get(
    "/{number}/artifacts/{name}",
    responses=ARTIFACT_RESPONSES,
    response_class=StreamingResponse,
    summary="Download a revision's file: " + ", ".join(REVISION_ARTIFACTS),
)
def get_revision_artifact(
    job: OwnedJobDep, number: Number, name: str, request: Request, session: SessionDep, storage: StorageDep
) -> StreamingResponse:
    if name not in REVISION_ARTIFACTS:
        raise HTTPException(404, f"a revision has no {name}; it has {', '.join(REVISION_ARTIFACTS)}")
    _finished(job)
    if number != 0 and _revision(session, job, number).status != RevisionStatus.completed:
        raise HTTPException(404, f"{name} of version {number} is not ready")
    return artifact_response(request, storage, job.id, name, stored_as=revision_file(number, name), title=job.title)


@router.post(
    "/{number}/restore",
    response_model=JobOut,
    responses=ERRORS,
    summary="Make a revision the one the job shows (0: back to the transcription)",
)
def restore_revision(job: OwnedJobDep, number: Number, session: SessionDep, storage: StorageDep) -> JobOut:
    try:
        revisions.restore(session, job, number)
    except revisions.RevisionRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    session.commit()
    log.info("revision_restored", job_id=job.id, revision=number)
    return owner_view(session, job, storage)


def _finished(job: Job) -> None:
    """A job has revisions once its transcription is finished (409 before)."""
    if job.status != JobStatus.completed.value:
        raise HTTPException(409, "This song isn't finished yet; its sheet has no versions.")


def _revision(session: Session, job: Job, number: int) -> JobRevision:
    revision = revisions.get_revision(session, job, number) if number > 0 else None
    if revision is None:
        raise HTTPException(404, f"This sheet has no version {number}.")
    return revision


def original_out(job: Job, storage: Storage) -> RevisionOut:
    """Revision 0: the transcription, always kept."""
    return RevisionOut(
        number=0,
        status=RevisionStatus.completed,
        base_revision=None,
        note=None,
        fixed_tempo_bpm=None,
        fixed_time_signature=None,
        first_downbeat_s=None,
        tempo_bpm=job.tempo_bpm,
        time_signature=job.time_signature,
        hit_count=job.hit_count,
        error_message=None,
        current=job.current_revision == 0,
        created_at=job.finished_at or job.created_at,
        finished_at=job.finished_at,
        artifacts=_files(job, 0, storage),
    )


def revision_out(job: Job, revision: JobRevision, storage: Storage) -> RevisionOut:
    """An edited revision as the API shows it."""
    return RevisionOut(
        number=revision.number,
        status=RevisionStatus(revision.status),
        base_revision=revision.base_revision,
        note=revision.note,
        fixed_tempo_bpm=revision.fixed_tempo_bpm,
        fixed_time_signature=revision.fixed_time_signature,
        first_downbeat_s=revision.first_downbeat_s,
        tempo_bpm=revision.tempo_bpm,
        time_signature=revision.time_signature,
        hit_count=revision.hit_count,
        error_message=revision.error_message,
        current=job.current_revision == revision.number,
        created_at=revision.created_at,
        finished_at=revision.finished_at,
        artifacts=_files(job, revision.number, storage) if revision.status == RevisionStatus.completed else [],
    )


def _files(job: Job, number: int, storage: Storage) -> list[Artifact]:
    return service.job_artifacts(
        job, storage, lambda name: f"/api/v1/jobs/{job.id}/revisions/{number}/artifacts/{name}", revision=number
    )
