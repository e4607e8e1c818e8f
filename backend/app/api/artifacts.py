"""Sending a job's file: one byte range or all of it, with the headers audio players and downloads need.

The owner's downloads, a revision's and a share link's all answer through `artifact_response`.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import StreamingResponse

from app.pipeline.stage_table import CONTENT_TYPES
from app.schemas import ErrorOut
from app.storage import ArtifactNotFound, Storage

ARTIFACT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file",
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in CONTENT_TYPES.values()},
    },
    206: {"description": "The requested byte range (for audio players)"},
    404: {"model": ErrorOut},
    416: {"model": ErrorOut},
}
"""The OpenAPI description of an artifact route's answers."""

OWNER_CACHE = "private, max-age=3600"
SHARED_CACHE = "no-store"
"""A share link's files are not cached, so that revoking the link takes effect at once in every browser."""


def artifact_response(
    request: Request,
    storage: Storage,
    job_id: str,
    name: str,
    *,
    stored_as: str | None = None,
    title: str | None,
    cache_control: str = OWNER_CACHE,
) -> StreamingResponse:
    """The job's file `name` (stored under `stored_as`, when that differs), whole or the byte range the
    request's Range header asks for; 404 when absent, 416 for a range outside it."""
    if name not in CONTENT_TYPES:
        raise HTTPException(404, f"no artifact called {name}; choose one of {', '.join(CONTENT_TYPES)}")
    stored = stored_as or name
    try:
        size = storage.size(job_id, stored)
    except ArtifactNotFound as exc:
        raise HTTPException(404, f"{name} is missing for this job") from exc
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'attachment; filename="{download_name(title, name)}"',
        "Cache-Control": cache_control,
    }
    start, end = 0, size - 1
    status_code = 200
    requested = request.headers.get("range")
    if requested:
        parsed = parse_range(requested, size)
        if parsed is None:
            raise HTTPException(
                416, f"invalid range {requested!r} for {size} bytes", headers={"Content-Range": f"bytes */{size}"}
            )
        start, end = parsed
        status_code = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(
        storage.read_range(job_id, stored, start, end),
        status_code=status_code,
        media_type=CONTENT_TYPES[name],
        headers=headers,
    )


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One byte range of 'bytes=a-b', 'bytes=a-' or 'bytes=-n'; None when it cannot be satisfied."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not match or size == 0 or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end < size else None


def download_name(title: str | None, name: str) -> str:
    """The file name a download is saved under: the song's title (safe characters only) and the file's name."""
    stem = re.sub(r"[^A-Za-z0-9 ._-]+", "", title or "").strip()[:80]
    return f"{stem} - {name}" if stem else name
