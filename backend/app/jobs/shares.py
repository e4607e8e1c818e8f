"""Read-only share links of finished jobs: create, list and revoke them (the owner), and open one (anyone).

A link's token is `secrets.token_urlsafe(32)` (256 random bits). Only its SHA-256 is stored, like an owner's
token: a copy of the database opens no shared job. The owner sees the token once, when the link is made;
a lost link is revoked and made again. The first characters are kept to tell the links apart.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.job_status import JobStatus
from app.models import Job, JobShare

MAX_SHARES_PER_JOB = 20
"""Active links one job may have."""

TOKEN_PREFIX_LENGTH = 6
SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
"""What a share token looks like; anything else is no token at all (and is never looked up)."""


class ShareRefused(Exception):
    """The job cannot be shared now; the message says why, in a musician's words."""


def token_hash(token: str) -> str:
    """What is stored of a share token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_share(session: Session, job: Job) -> tuple[JobShare, str]:
    """A new share link of the finished `job`, and its token (shown once)."""
    if job.status != JobStatus.completed.value:
        raise ShareRefused("This song isn't finished yet. Share it once its sheet is ready.")
    active = session.scalar(select(func.count()).select_from(JobShare).where(JobShare.job_id == job.id)) or 0
    if active >= MAX_SHARES_PER_JOB:
        raise ShareRefused(
            f"This song already has {active} share links, the most it may have. Stop sharing one to make another."
        )
    token = secrets.token_urlsafe(32)
    share = JobShare(job_id=job.id, token_hash=token_hash(token), token_prefix=token[:TOKEN_PREFIX_LENGTH])
    session.add(share)
    session.flush()
    return share, token


def list_shares(session: Session, job: Job) -> list[JobShare]:
    """The job's active links, oldest first."""
    return list(
        session.scalars(select(JobShare).where(JobShare.job_id == job.id).order_by(JobShare.created_at, JobShare.id))
    )


def revoke_share(session: Session, job: Job, share_id: str) -> bool:
    """Delete the job's link `share_id`; False when the job has no such link."""
    share = session.get(JobShare, share_id)
    if share is None or share.job_id != job.id:
        return False
    session.delete(share)
    return True


def shared_job(session: Session, token: str) -> Job | None:
    """The finished job `token` opens; None for a malformed, unknown or revoked token, or a job gone."""
    if not SHARE_TOKEN.fullmatch(token):
        return None
    share = session.scalar(select(JobShare).where(JobShare.token_hash == token_hash(token)))
    if share is None:
        return None
    job = session.get(Job, share.job_id)
    if job is None or job.cancelled or job.status != JobStatus.completed.value:
        return None
    return job
