"""The storage interface the API and the workers share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Protocol


class ArtifactNotFound(LookupError):
    """The job has no file of that name (yet)."""


class Storage(Protocol):
    """Job files by (job id, file name). Tasks pass these keys, never audio."""

    def workspace(self, job_id: str, inputs: Sequence[str] = ()) -> AbstractContextManager[Path]:
        """A local folder holding the job's files `inputs` (at least); what is written there is stored on success."""
        ...

    def put_file(self, job_id: str, name: str, source: Path) -> None:
        """Store a local file under the job (atomically: readers see all of it or nothing)."""
        ...

    def size(self, job_id: str, name: str) -> int:
        """Size in bytes; ArtifactNotFound if absent."""
        ...

    def read_range(self, job_id: str, name: str, start: int, end: int, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """Bytes start..end inclusive, streamed in chunks."""
        ...

    def delete_job(self, job_id: str) -> None:
        """Remove every file of the job; absent files are fine."""
        ...

    def job_ids_older_than(self, cutoff: datetime) -> list[str]:
        """Jobs whose files were last written before `cutoff` (for cleanup_old_artifacts)."""
        ...
