"""Serving the web UI's static export on the API's own port."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.api.security_headers import inline_script_hashes, page_policy

PACKAGED_FRONTEND = Path(__file__).resolve().parents[2] / "frontend" / "out"
"""Where `npm run build` in frontend/ writes the static export."""


def mount_frontend(app: FastAPI, folder: Path | None) -> str | None:
    """Serve `folder` (or the repository's frontend/out) at /, after the API routes.

    Returns the pages' Content-Security-Policy, which allows the inline scripts of this build; None
    when the UI is not built.
    """
    root = folder or PACKAGED_FRONTEND
    if not (root / "index.html").is_file():
        return None
    app.mount("/", StaticFiles(directory=root, html=True), name="frontend")
    return frontend_policy(root)


def frontend_policy(root: Path) -> str:
    """The Content-Security-Policy of every page under `root`: one policy with all their inline scripts.

    The hashes are sorted, so frontend/server.mjs, which builds the same policy, sends the same text.
    """
    hashes: set[str] = set()
    for page in root.rglob("*.html"):
        hashes.update(inline_script_hashes(page.read_text(encoding="utf-8")))
    return page_policy(sorted(hashes))
