"""Job files on a local or shared volume: ARTIFACTS_DIR/{job_id}/NAME."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from app.pipeline.atomic import atomic_path
from app.storage.base import ArtifactNotFound

_SAFE_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class LocalStorage:
    """The stages work directly in the job's folder: nothing is copied."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def job_dir(self, job_id: str) -> Path:
        """The job's folder (not created)."""
        if not _SAFE_ID.match(job_id):
            raise ValueError(f"invalid job id {job_id!r}")
        return self.root / job_id

    def _file(self, job_id: str, name: str) -> Path:
        if not _SAFE_NAME.match(name) or name.startswith("."):
            raise ArtifactNotFound(name)
        return self.job_dir(job_id) / name

    @contextmanager
    def workspace(self, job_id: str, inputs: Sequence[str] = ()) -> Iterator[Path]:
        """The job's own folder, which holds every input already; the stages write there atomically."""
        folder = self.job_dir(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder

    def put_file(self, job_id: str, name: str, source: Path) -> None:
        """Copy `source` into the job's folder under `name`, atomically."""
        target = self._file(job_id, name)
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)

    def size(self, job_id: str, name: str) -> int:
        """Size of a stored file."""
        path = self._file(job_id, name)
        if not path.is_file():
            raise ArtifactNotFound(name)
        return path.stat().st_size

    def read_range(self, job_id: str, name: str, start: int, end: int, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """Stream bytes start..end inclusive."""
        path = self._file(job_id, name)
        if not path.is_file():
            raise ArtifactNotFound(name)
        return _stream(path, start, end, chunk_size)

    def delete_job(self, job_id: str) -> None:
        """Remove the job's folder."""
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def job_ids_older_than(self, cutoff: datetime) -> list[str]:
        """Folders whose newest file is older than `cutoff`."""
        if not self.root.is_dir():
            return []
        old = []
        limit = cutoff.timestamp()
        for folder in self.root.iterdir():
            if folder.is_dir() and _SAFE_ID.match(folder.name):
                newest = max((p.stat().st_mtime for p in folder.iterdir()), default=folder.stat().st_mtime)
                if newest < limit:
                    old.append(folder.name)
        return old


def _stream(path: Path, start: int, end: int, chunk_size: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(start)
        left = end - start + 1
        while left > 0:
            block = f.read(min(chunk_size, left))
            if not block:
                return
            left -= len(block)
            yield block
