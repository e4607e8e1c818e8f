"""Share links: the owner makes, lists and revokes read-only links to a finished job; whoever holds one reads it.

/api/v1/shared/... answers without the owner's identity: the anonymous-token middleware neither reads nor
sets a cookie there (app.main), and a link opens its one job, read-only, and nothing else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import StreamingResponse

from app.api.artifacts import ARTIFACT_RESPONSES, SHARED_CACHE, artifact_response
from app.api.deps import OwnedJobDep, SessionDep, StorageDep
from app.core.logging import get_logger
from app.jobs import revisions, service, shares
from app.schemas import ErrorOut, ShareCreated, SharedJobOut, ShareList, ShareOut

router = APIRouter(prefix="/api/v1", tags=["sharing"])
log = get_logger(__name__)

SHARED_PREFIX = "/api/v1/shared/"
"""The routes a share link's holder calls: no owner's token is read or given there."""

LINK_GONE = (
    "This share link doesn't work any more: its owner may have stopped sharing it, or the song has expired. "
    "Ask them for a new link."
)

OWNER_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (404, 409)}


@router.post(
    "/jobs/{job_id}/shares",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareCreated,
    responses=OWNER_ERRORS,
    summary="Make a read-only link to a finished job (the token is shown this once)",
)
def create_share(job: OwnedJobDep, session: SessionDep) -> ShareCreated:
    try:
        share, token = shares.create_share(session, job)
    except shares.ShareRefused as exc:
        raise HTTPException(409, str(exc)) from exc
    session.commit()  # before the response: the owner's next request must list the new link
    log.info("share_created", job_id=job.id, share_id=share.id)
    return ShareCreated(
        id=share.id,
        token=token,
        url=f"/shared/?token={token}",
        token_prefix=share.token_prefix,
        created_at=share.created_at,
    )


@router.get(
    "/jobs/{job_id}/shares",
    response_model=ShareList,
    responses=OWNER_ERRORS,
    summary="The job's active share links (without their tokens)",
)
def list_shares(job: OwnedJobDep, session: SessionDep) -> ShareList:
    return ShareList(
        shares=[
            ShareOut(id=s.id, token_prefix=s.token_prefix, created_at=s.created_at)
            for s in shares.list_shares(session, job)
        ]
    )


@router.delete(
    "/jobs/{job_id}/shares/{share_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=OWNER_ERRORS,
    summary="Revoke a share link: it stops working at once",
)
def revoke_share(job: OwnedJobDep, share_id: str, session: SessionDep) -> Response:
    if not shares.revoke_share(session, job, share_id):
        raise HTTPException(404, "This song has no such share link; it may have been revoked already.")
    session.commit()  # before the response: the link must be dead for the very next request
    log.info("share_revoked", job_id=job.id, share_id=share_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/shared/{token}",
    response_model=SharedJobOut,
    responses={404: {"model": ErrorOut}},
    summary="A shared job, read-only: the sheet's facts and its files",
)
def get_shared_job(token: str, session: SessionDep, storage: StorageDep) -> SharedJobOut:
    job = shares.shared_job(session, token)
    if job is None:
        raise HTTPException(404, LINK_GONE)
    return service.shared_job_out(job, storage, token, revisions.current_revision(session, job))


@router.get(
    "/shared/{token}/artifacts/{name}",
    responses=ARTIFACT_RESPONSES,
    response_class=StreamingResponse,
    summary="Download a shared job's file (its current revision's sheet), whole or a byte range",
)
def get_shared_artifact(
    token: str, name: str, request: Request, session: SessionDep, storage: StorageDep
) -> StreamingResponse:
    job = shares.shared_job(session, token)
    if job is None:
        raise HTTPException(404, LINK_GONE)
    return artifact_response(
        request,
        storage,
        job.id,
        name,
        stored_as=service.stored_name(job, name),
        title=job.title,
        cache_control=SHARED_CACHE,
    )
