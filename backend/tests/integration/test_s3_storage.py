"""STORAGE_BACKEND=s3 against an S3-compatible server on loopback: what the API and the workers do with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.storage import ArtifactNotFound, S3Storage

pytestmark = pytest.mark.integration


def test_job_files_round_trip_through_a_bucket(s3_bucket: str, tmp_path: Path) -> None:
    storage = S3Storage(bucket=s3_bucket, prefix="jobs/")
    upload = tmp_path / "song.mp3"
    upload.write_bytes(bytes(range(256)) * 40)
    storage.put_file("job-1", "upload.mp3", upload)
    assert storage.size("job-1", "upload.mp3") == 10_240
    assert b"".join(storage.read_range("job-1", "upload.mp3", 256, 511)) == bytes(range(256))
    with pytest.raises(ArtifactNotFound):
        storage.size("job-1", "drums.wav")

    # A stage's workspace holds the inputs it asked for; what it writes is stored when it succeeds.
    with storage.workspace("job-1", ["upload.mp3", "absent.json"]) as folder:
        assert (folder / "upload.mp3").read_bytes() == upload.read_bytes()
        assert not (folder / "absent.json").exists()
        (folder / "input.wav").write_bytes(b"RIFF" + b"\0" * 100)
    assert not folder.exists(), "the temporary workspace is removed"
    assert storage.size("job-1", "input.wav") == 104

    with pytest.raises(RuntimeError), storage.workspace("job-1", ["input.wav"]) as folder:
        (folder / "drums.wav").write_bytes(b"half")
        raise RuntimeError("the stage failed")
    with pytest.raises(ArtifactNotFound):
        storage.size("job-1", "drums.wav")  # nothing from a failed stage is stored

    assert storage.job_ids_older_than(datetime.now(UTC) + timedelta(minutes=1)) == ["job-1"]
    assert storage.job_ids_older_than(datetime.now(UTC) - timedelta(hours=1)) == []
    storage.delete_job("job-1")
    with pytest.raises(ArtifactNotFound):
        storage.size("job-1", "upload.mp3")
