"""/api/v1/jobs: create a transcription from an upload or a link, follow it, download its results."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from app.api.artifacts import ARTIFACT_RESPONSES, artifact_response
from app.api.deps import ClientAddressDep, OwnedJobDep, OwnerDep, SessionDep, SettingsDep, StorageDep
from app.api.link_check import refuse_unsafe_link
from app.core.db import session_scope
from app.core.errors import DrumScribeError, NotAudioError, upload_too_large
from app.core.logging import get_logger
from app.jobs import revisions, service
from app.jobs.execution import mark_failed
from app.models import Job
from app.pipeline.ingest import probe, too_long
from app.pipeline.link_safety import INCOMPLETE_LINK
from app.pipeline.stage_table import CONTENT_TYPES, upload_name
from app.schemas import ErrorOut, JobFromUrl, JobList, JobOut

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
log = get_logger(__name__)

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (400, 404, 413, 415, 422, 429)}

MAX_OFFSET = 1_000_000
"""Beyond any real history, and far inside the database's integer range."""

CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "An audio or video file"}
                    },
                }
            },
            # Inline: FastAPI lists only models it sees in signatures, so a $ref here would dangle.
            "application/json": {"schema": JobFromUrl.model_json_schema()},
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    responses={**ERRORS, 503: {"model": ErrorOut}},
    openapi_extra=CREATE_BODY,
    summary='Transcribe an uploaded song (multipart field `file`) or a link (JSON `{"url": ...}`)',
)
async def create_job(
    request: Request,
    response: Response,
    owner: OwnerDep,
    address: ClientAddressDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> JobOut:
    # Database, broker and storage calls block: each runs in the thread pool, never on the event loop,
    # so one slow request (a lock wait, a broker outage) cannot stop the server.
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        job = await _create_from_upload(request, owner, address, settings, storage)
    elif media_type == "application/json":
        body = _link_body(await request.body())
        await refuse_unsafe_link(str(body.url), settings)
        job = await run_in_threadpool(_create, owner, address, settings, "url", str(body.url))
    else:
        raise HTTPException(415, 'send the song as multipart/form-data (field `file`) or a link as JSON {"url": ...}')
    await run_in_threadpool(_enqueue, job.id)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return service.job_out(job, storage)


def _link_body(raw: bytes) -> JobFromUrl:
    """The JSON body of a link job; 422 in a musician's words for a link that is no link, else for scripts."""
    try:
        return JobFromUrl.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors()
        if len(errors) == 1 and errors[0]["loc"] == ("url",) and errors[0]["type"] != "missing":
            raise HTTPException(422, INCOMPLETE_LINK) from exc
        raise HTTPException(422, f'send a link as {{"url": "https://..."}}: {exc.errors()[0]["msg"]}') from exc


async def _create_from_upload(
    request: Request, owner: str, address: str | None, settings: SettingsDep, storage: StorageDep
) -> Job:
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise HTTPException(422, "attach the song as the multipart field `file`")
    filename = Path(upload.filename).name
    with tempfile.TemporaryDirectory(prefix="drumscribe-upload-") as tmp:
        local = Path(tmp) / upload_name(filename)
        with local.open("wb") as sink:
            await run_in_threadpool(shutil.copyfileobj, upload.file, sink, 1 << 20)
        if local.stat().st_size > settings.MAX_UPLOAD_MB * 1024 * 1024:
            raise HTTPException(413, _too_large(filename, settings))
        await run_in_threadpool(_check_audio, local, filename, settings)
        job = await run_in_threadpool(_create, owner, address, settings, "upload", filename)
        try:
            await run_in_threadpool(storage.put_file, job.id, upload_name(filename), local)
        except Exception:
            await run_in_threadpool(_discard, job.id)
            raise
    return job


def _check_audio(path: Path, filename: str, settings: SettingsDep) -> None:
    """Refuse what is plainly not a usable song now, rather than after a trip through the queue.

    The answer's detail is the musician's message; the operator's detail goes to the log.
    """
    try:
        info = probe(path, name=filename)
        if not any(s.get("codec_type") == "audio" for s in info.get("streams", [])):
            raise NotAudioError(f"{filename} has no audio track")
        try:
            duration = float(info.get("format", {}).get("duration"))
        except (TypeError, ValueError):
            return  # the ingest stage measures it while decoding
        if duration > settings.MAX_DURATION_SECONDS:
            raise too_long(filename, duration, settings.MAX_DURATION_SECONDS)
    except DrumScribeError as exc:
        log.info("upload_refused", file=filename, error=str(exc))
        raise HTTPException(415 if isinstance(exc, NotAudioError) else 422, exc.musician_message) from exc


def _too_large(filename: str, settings: SettingsDep) -> str:
    log.info("upload_refused", file=filename, error=f"larger than MAX_UPLOAD_MB={settings.MAX_UPLOAD_MB}")
    return upload_too_large(settings.MAX_UPLOAD_MB)


def _create(owner: str, address: str | None, settings: SettingsDep, kind: str, source: str) -> Job:
    """Insert the pending job in a transaction of its own, committed (or rolled back) before returning."""
    try:
        with session_scope() as session:
            return service.create_job(
                session, owner=owner, address=address, source_kind=kind, source=source, settings=settings
            )
    except service.QuotaExceeded as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": "30"}) from exc
    except service.QuotaBusy as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": "5"}) from exc


def _enqueue(job_id: str) -> None:
    """Send the job's chain; a job the broker did not take is failed at once, so it holds no quota."""
    from app.worker import enqueue_pipeline

    try:
        enqueue_pipeline(job_id)
    except Exception as exc:
        log.error("enqueue_failed", job_id=job_id, error=str(exc))
        with session_scope() as session:
            job = session.get(Job, job_id)
            if job is not None:
                mark_failed(
                    session,
                    job,
                    "ingest",
                    "The server couldn't queue this song. Please try again in a minute.",
                    f"the broker did not take the job's chain: {exc}",
                )
        raise HTTPException(503, "DrumScribe cannot queue jobs right now; try again in a minute") from exc
    with session_scope() as session:
        service.mark_queued(session, job_id)


def _discard(job_id: str) -> None:
    """Remove a job whose upload could not be stored."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is not None:
            session.delete(job)


@router.get("", response_model=JobList, summary="Your jobs, newest first")
def list_jobs(
    session: SessionDep,
    owner: OwnerDep,
    storage: StorageDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JobList:
    jobs, total = service.list_owned_jobs(session, owner, limit=limit, offset=offset)
    return JobList(jobs=[owner_view(session, j, storage) for j in jobs], total=total)


@router.get("/{job_id}", response_model=JobOut, responses=ERRORS, summary="One job: status, progress, results")
def get_job(job: OwnedJobDep, session: SessionDep, storage: StorageDep) -> JobOut:
    return owner_view(session, job, storage)


@router.delete(
    "/{job_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
    summary="Cancel a running job, or delete a finished one with its files, revisions and share links",
)
def delete_job(job: OwnedJobDep, session: SessionDep, storage: StorageDep) -> Response:
    service.delete_job(session, job, storage)
    session.commit()  # before the response: the caller's next request must not see the job
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{job_id}/artifacts/{name}",
    responses={**ERRORS, **ARTIFACT_RESPONSES},
    response_class=StreamingResponse,
    summary="Download a result of the transcription: " + ", ".join(CONTENT_TYPES),
)
def get_artifact(job: OwnedJobDep, name: str, request: Request, storage: StorageDep) -> StreamingResponse:
    """The transcription's own file (revision 0); an edited revision's are under /revisions/{number}/artifacts."""
    if job.status != "completed":
        raise HTTPException(404, f"{name} is not ready: the job is {job.status}")
    return artifact_response(request, storage, job.id, name, title=job.title)


def owner_view(session: SessionDep, job: Job, storage: StorageDep) -> JobOut:
    """The job as its owner sees it, with its current revision's sheet."""
    return service.job_out(job, storage, revisions.current_revision(session, job))
