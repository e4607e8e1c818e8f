"""Job operations of the API: create within the owner's quota, list, delete, and describe artifacts (as the
owner and as a share link see them)."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.models import ACTIVE_STATUSES, Job, JobRevision, JobStatus, utcnow
from app.pipeline.stage_table import ARTIFACTS, REVISION_ARTIFACTS, revision_file
from app.schemas import Artifact, JobOut, SharedJobOut
from app.storage import ArtifactNotFound, Storage

QUOTA_LOCK_TIMEOUT = "5s"
"""How long a request waits for another request of the same owner or address to finish its quota check."""

OWNER_LOCKS = 1
ADDRESS_LOCKS = 2
"""Key spaces of the quota checks' advisory locks (pg_advisory_xact_lock(space, key)), so that an owner
and an address never share a lock."""


class QuotaExceeded(Exception):
    """The owner already has MAX_CONCURRENT_JOBS_PER_USER jobs running."""


class AddressQuotaExceeded(QuotaExceeded):
    """The client's address already has MAX_CONCURRENT_JOBS_PER_ADDRESS jobs running, whatever their tokens."""


class QuotaBusy(Exception):
    """Another request of the same owner or address held the quota check for longer than QUOTA_LOCK_TIMEOUT."""


def owner_of(token: str) -> str:
    """Tokens are never stored: jobs carry the token's SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def address_of(host: str) -> str:
    """The per-address quota's key for a client host: the SHA-256 of its IPv4 address or IPv6 /64.

    One IPv6 client commonly holds a whole /64, so its addresses count as one; an IPv4-mapped IPv6
    address counts as its IPv4 address. A host that is no IP address is hashed as it is.
    """
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        key = host
    else:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        key = str(ip) if ip.version == 4 else str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return hashlib.sha256(key.encode()).hexdigest()


def create_job(
    session: Session, *, owner: str, address: str | None, source_kind: str, source: str, settings: Settings
) -> Job:
    """Insert a pending job, unless the owner has reached MAX_CONCURRENT_JOBS_PER_USER or the client's
    address (`address_of`; None when unknown) MAX_CONCURRENT_JOBS_PER_ADDRESS.

    The caller commits or rolls back at once: on PostgreSQL the transaction holds the owner's and the
    address's locks.
    """
    address_limit = settings.MAX_CONCURRENT_JOBS_PER_ADDRESS if address is not None else 0
    if session.get_bind().dialect.name == "postgresql":
        # Serialise the check-then-insert of one owner, and of one address, across API replicas, and never
        # wait unboundedly. Every request takes the owner's lock before the address's, so two requests
        # never wait for each other in a cycle.
        session.execute(text(f"SET LOCAL lock_timeout = '{QUOTA_LOCK_TIMEOUT}'"))
        try:
            _advisory_lock(session, OWNER_LOCKS, owner)
            if address_limit:
                _advisory_lock(session, ADDRESS_LOCKS, str(address))
        except OperationalError as exc:
            raise QuotaBusy(
                "another request of yours, or from your network, is being accepted right now; try again in a moment"
            ) from exc
    active = _unfinished(session, Job.owner == owner)
    if active >= settings.MAX_CONCURRENT_JOBS_PER_USER:
        raise QuotaExceeded(
            f"you already have {active} songs in progress (the limit is {settings.MAX_CONCURRENT_JOBS_PER_USER}); "
            "wait for one to finish or delete one"
        )
    if address_limit:
        from_address = _unfinished(session, Job.client_address == address)
        if from_address >= address_limit:
            raise AddressQuotaExceeded(
                f"{from_address} songs are already in progress from your network address (the limit is "
                f"{address_limit} per address, whichever browser or token sent them); wait for one to finish "
                "or delete one"
            )
    job = Job(owner=owner, client_address=address, source_kind=source_kind, source=source, timings={})
    session.add(job)
    session.flush()
    return job


def _advisory_lock(session: Session, space: int, key: str) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"), {"space": space, "key": key})


def _unfinished(session: Session, *where: ColumnElement[bool]) -> int:
    """How many jobs matching `where` still hold a place in a quota."""
    count = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(*where, Job.status.in_([s.value for s in ACTIVE_STATUSES]), Job.cancelled.is_(False))
    )
    return count or 0


def mark_queued(session: Session, job_id: str) -> None:
    """Record that the job's chain reached the broker (the reaper re-sends pending jobs that never did)."""
    job = session.get(Job, job_id)
    if job is not None:
        job.queued_at = utcnow()


def get_owned_job(session: Session, job_id: str, owner: str) -> Job | None:
    """The job if it exists, is not deleted and belongs to `owner`; else None (the API answers 404)."""
    job = session.get(Job, job_id)
    if job is None or job.owner != owner or job.cancelled:
        return None
    return job


def list_owned_jobs(session: Session, owner: str, *, limit: int, offset: int) -> tuple[list[Job], int]:
    """The owner's jobs, newest first, and how many there are in all."""
    where = (Job.owner == owner, Job.cancelled.is_(False))
    total = session.scalar(select(func.count()).select_from(Job).where(*where)) or 0
    jobs = session.scalars(
        select(Job).where(*where).order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
    ).all()
    return list(jobs), total


def delete_job(session: Session, job: Job, storage: Storage) -> None:
    """Delete a finished job with its files; a running one is flagged and its worker stops and cleans up."""
    if job.status in {s.value for s in ACTIVE_STATUSES}:
        job.cancelled = True
        return
    storage.delete_job(job.id)
    session.delete(job)


def stored_name(job: Job, name: str, revision: int | None = None) -> str:
    """The storage name of the job's file `name` in `revision` (default: the one the job shows); only the
    sheet's files differ between revisions."""
    number = job.current_revision if revision is None else revision
    return revision_file(number, name) if name in REVISION_ARTIFACTS else name


def job_artifacts(
    job: Job, storage: Storage, url_for: Callable[[str], str], *, revision: int | None = None
) -> list[Artifact]:
    """The files of a finished job that exist, at `url_for(name)`: all it shows (its current revision's
    sheet), or the sheet's files of `revision` only."""
    if job.status != JobStatus.completed.value:
        return []
    artifacts = []
    for spec in ARTIFACTS:
        if revision is not None and spec.name not in REVISION_ARTIFACTS:
            continue
        try:
            size = storage.size(job.id, stored_name(job, spec.name, revision))
        except ArtifactNotFound:
            continue
        artifacts.append(
            Artifact(name=spec.name, url=url_for(spec.name), content_type=spec.content_type, size_bytes=size)
        )
    return artifacts


def job_out(job: Job, storage: Storage, current: JobRevision | None = None) -> JobOut:
    """The API view of a job, with download links for the artifacts that exist.

    `current` is the job's current revision when that is not the transcription: the sheet's facts and
    files are then that revision's, under its own URLs.
    """

    def url_for(name: str) -> str:
        if current is not None and name in REVISION_ARTIFACTS:
            return f"/api/v1/jobs/{job.id}/revisions/{current.number}/artifacts/{name}"
        return f"/api/v1/jobs/{job.id}/artifacts/{name}"

    return JobOut.model_validate(
        {
            **{c.key: getattr(job, c.key) for c in Job.__table__.columns},
            **_sheet_facts(current),
            "artifacts": job_artifacts(job, storage, url_for),
        }
    )


def shared_job_out(job: Job, storage: Storage, token: str, current: JobRevision | None) -> SharedJobOut:
    """A finished job as a share link shows it, its files under the link's own URLs."""
    return SharedJobOut.model_validate(
        {
            **{c.key: getattr(job, c.key) for c in Job.__table__.columns},
            **_sheet_facts(current),
            "artifacts": job_artifacts(job, storage, lambda name: f"/api/v1/shared/{token}/artifacts/{name}"),
        }
    )


def _sheet_facts(current: JobRevision | None) -> dict[str, object]:
    if current is None:
        return {}
    return {"tempo_bpm": current.tempo_bpm, "time_signature": current.time_signature, "hit_count": current.hit_count}
