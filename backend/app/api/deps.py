"""Injected dependencies, as Annotated aliases so handlers stay short."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from app.core.config import Settings, get_settings
from app.core.db import session_scope
from app.jobs.service import address_of, get_owned_job, owner_of
from app.models import Job
from app.storage import Storage, get_storage

NO_SUCH_JOB = "no such job (it may have expired, been deleted, or belong to another browser)"


def _session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


def _owner(request: Request) -> str:
    # AnonymousTokenMiddleware guarantees a token on every /api request.
    return owner_of(request.state.token)


def _client_address(request: Request) -> str | None:
    # Behind a proxy listed in FORWARDED_ALLOW_IPS, uvicorn has already put the address the proxy reports
    # (X-Forwarded-For) in request.client; from any other peer that header is ignored.
    return address_of(request.client.host) if request.client else None


@lru_cache(maxsize=1)
def _storage() -> Storage:
    # One client for the process: creating a boto3 client costs more than most requests.
    return get_storage(get_settings())


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(_session)]
OwnerDep = Annotated[str, Depends(_owner)]
ClientAddressDep = Annotated[str | None, Depends(_client_address)]
StorageDep = Annotated[Storage, Depends(_storage)]


def _owned_job(job_id: str, session: SessionDep, owner: OwnerDep) -> Job:
    # The request's own session (FastAPI makes one per request): changes to the job commit with it.
    job = get_owned_job(session, job_id, owner)
    if job is None:
        raise HTTPException(404, NO_SUCH_JOB)
    return job


OwnedJobDep = Annotated[Job, Depends(_owned_job)]
"""The job of the path's `job_id`, when the caller owns it; 404 otherwise (another's job looks absent)."""
