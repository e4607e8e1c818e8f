"""Job files in an S3 bucket (STORAGE_BACKEND=s3), for deployments across several hosts.

The client is boto3's default: credentials and AWS_ENDPOINT_URL come from the environment, as boto3 reads them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from app.storage.base import ArtifactNotFound


class S3Storage:
    """Workspaces are temporary folders: the job's files are fetched in and new ones uploaded after."""

    def __init__(self, bucket: str, prefix: str = "jobs/", client: Any = None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.client("s3")

    def _key(self, job_id: str, name: str = "") -> str:
        return f"{self.prefix}{job_id}/{name}"

    def _names(self, job_id: str) -> list[tuple[str, int]]:
        names = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(job_id)):
            for obj in page.get("Contents", []):
                names.append((obj["Key"].rsplit("/", 1)[-1], obj["Size"]))
        return names

    @contextmanager
    def workspace(self, job_id: str, inputs: Sequence[str] = ()) -> Iterator[Path]:
        """Download the job's `inputs`, yield the folder, upload what is new or changed."""
        folder = Path(tempfile.mkdtemp(prefix=f"drumscribe-{job_id[:8]}-"))
        try:
            before = {}
            stored = {name for name, _size in self._names(job_id)}
            for name in inputs:
                if name not in stored:
                    continue
                self.client.download_file(self.bucket, self._key(job_id, name), str(folder / name))
                before[name] = (folder / name).stat().st_mtime_ns
            yield folder
            for path in sorted(folder.iterdir()):
                if (
                    path.is_file()
                    and not path.name.startswith(".")
                    and before.get(path.name) != path.stat().st_mtime_ns
                ):
                    self.client.upload_file(str(path), self.bucket, self._key(job_id, path.name))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def put_file(self, job_id: str, name: str, source: Path) -> None:
        """Upload a file (an S3 object appears whole or not at all)."""
        self.client.upload_file(str(source), self.bucket, self._key(job_id, name))

    def size(self, job_id: str, name: str) -> int:
        """Size of a stored object."""
        from botocore.exceptions import ClientError

        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(job_id, name))["ContentLength"])
        except ClientError as exc:
            raise ArtifactNotFound(name) from exc

    def read_range(self, job_id: str, name: str, start: int, end: int, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """Stream bytes start..end inclusive with an HTTP Range request."""
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(
                Bucket=self.bucket, Key=self._key(job_id, name), Range=f"bytes={start}-{end}"
            )["Body"]
        except ClientError as exc:
            raise ArtifactNotFound(name) from exc
        return iter(lambda: body.read(chunk_size), b"")

    def delete_job(self, job_id: str) -> None:
        """Delete every object under the job's prefix."""
        keys = [{"Key": self._key(job_id, name)} for name, _ in self._names(job_id)]
        for i in range(0, len(keys), 1000):
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys[i : i + 1000]})

    def job_ids_older_than(self, cutoff: datetime) -> list[str]:
        """Jobs whose newest object was written before `cutoff`."""
        newest: dict[str, datetime] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", []):
                job_id = obj["Key"][len(self.prefix) :].split("/", 1)[0]
                stamp = obj["LastModified"]
                newest[job_id] = max(newest.get(job_id, stamp), stamp)
        return [job_id for job_id, stamp in newest.items() if stamp < cutoff]
