"""A job's states, apart from the database tables so that the pipeline can name them without SQLAlchemy."""

from __future__ import annotations

import enum


class JobStatus(enum.StrEnum):
    """Job states, as the operations manual names them."""

    pending = "pending"
    processing = "processing"
    separating_drums = "separating_drums"
    predicting = "predicting"
    transcribing = "transcribing"
    completed = "completed"
    failed = "failed"


class RevisionStatus(enum.StrEnum):
    """A revision's states: waiting for the notation stage, in it, done, or failed."""

    pending = "pending"
    processing = "processing"
    completed = "completed"
    failed = "failed"
