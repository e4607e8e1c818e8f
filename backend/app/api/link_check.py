"""The API's check of a submitted link: public http(s) addresses only, answered with 422 otherwise (in a
musician's words; the detail goes to the log)."""

from __future__ import annotations

import asyncio

from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool

from app.core.config import Settings
from app.core.errors import IngestError
from app.core.logging import get_logger
from app.pipeline.link_safety import UNKNOWN_SITE, check_link, check_link_form, shown_url

log = get_logger(__name__)

RESOLVE_TIMEOUT_S = 5.0
"""How long a submission waits for the link's host name to resolve."""


async def refuse_unsafe_link(url: str, settings: Settings) -> None:
    """HTTPException 422 unless `url` is an http(s) link whose host resolves only to fetchable addresses.

    The name is resolved in a worker thread, so a slow resolver never stalls the event loop.
    """
    try:
        await asyncio.wait_for(
            run_in_threadpool(check_link, url, settings.link_allowed_networks), timeout=RESOLVE_TIMEOUT_S
        )
    except TimeoutError as exc:
        host = check_link_form(url)[0]
        log.info("link_refused", url=shown_url(url), error=f"{host} did not resolve within {RESOLVE_TIMEOUT_S:.0f} s")
        raise HTTPException(422, UNKNOWN_SITE) from exc
    except IngestError as exc:
        log.info("link_refused", url=shown_url(url), error=str(exc))
        raise HTTPException(422, exc.musician_message) from exc
