"""Serving the web UI's static export on the API's own port."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

PACKAGED_FRONTEND = Path(__file__).resolve().parents[2] / "frontend" / "out"
"""Where `npm run build` in frontend/ writes the static export."""


def mount_frontend(app: FastAPI, folder: Path | None) -> bool:
    """Serve `folder` (or the repository's frontend/out) at /, after the API routes; False if not built."""
    root = folder or PACKAGED_FRONTEND
    if not (root / "index.html").is_file():
        return False
    app.mount("/", StaticFiles(directory=root, html=True), name="frontend")
    return True
