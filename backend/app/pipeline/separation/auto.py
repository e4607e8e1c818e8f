"""SEPARATOR=auto: Demucs where its weights are here or can be fetched now, otherwise the mix as it is.

A job must never wait long or fail because a server is offline. So before downloading, one quick,
bounded request asks whether a download server answers at all (`download_status`); only then are the
weights fetched (into the Demucs weights folder, so the next job and the next worker find them there).
Whatever goes wrong on the way, `auto` falls back to "none" and says why; hits.json, the job and the
web UI carry that reason (`SeparatorReason`).
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Literal, get_args

from app.core.config import Settings
from app.core.errors import SeparatorUnavailableError
from app.core.logging import get_logger
from app.pipeline.separation.weights_folder import has_local_model, hf_offline

log = get_logger(__name__)

SeparatorReason = Literal[
    "chosen explicitly",
    "demucs weights present",
    "demucs weights downloaded",
    "demucs weights unavailable offline",
    "demucs weights download failed",
    "demucs weights could not be loaded",
]
"""Why a separator ran: named by SEPARATOR (or --separator), or what SEPARATOR=auto found."""

SEPARATOR_REASONS: tuple[str, ...] = get_args(SeparatorReason)

PROBE_TIMEOUT_S = 3.0
"""How long `auto` waits for a download server to answer before it transcribes the mix as it is."""

DownloadStatus = Literal["available", "missing", "unreachable"]


@dataclass(frozen=True)
class SeparatorChoice:
    """The separator `auto` settled on, and why."""

    separator: Literal["demucs", "none"]
    reason: SeparatorReason


def choose_separator(settings: Settings, *, allow_download: bool = True) -> SeparatorChoice:
    """Demucs when its weights load from the weights folder, or download now; otherwise "none".

    Never raises for missing weights: every failure becomes a "none" choice with its reason, and the
    operator's details go to the log (event `separator_fallback`).
    """
    if has_local_model(settings):
        return _load_or_fallback(settings, "demucs weights present", "demucs weights could not be loaded")
    if not allow_download or hf_offline():
        return _fallback("demucs weights unavailable offline", "downloads are off (HF_HUB_OFFLINE or the caller)")
    # torch and demucs are imported only from here on: a song on an offline server needs neither.
    from app.pipeline.separation import demucs_weights as weights

    status = download_status(weights.download_urls(settings.DEMUCS_MODEL), timeout_s=PROBE_TIMEOUT_S)
    if status == "unreachable":
        return _fallback("demucs weights unavailable offline", f"no download server answered in {PROBE_TIMEOUT_S} s")
    if status == "missing":
        return _fallback("demucs weights download failed", f"no download server has '{settings.DEMUCS_MODEL}'")
    try:
        weights.download_weights(settings)
    except SeparatorUnavailableError as exc:
        return _fallback("demucs weights download failed", str(exc))
    return _load_or_fallback(settings, "demucs weights downloaded", "demucs weights download failed")


def _load_or_fallback(settings: Settings, reason: SeparatorReason, failure: SeparatorReason) -> SeparatorChoice:
    """Demucs, loaded from the weights folder now (and cached for the job), or "none" for `failure`."""
    from app.pipeline.separation.demucs_weights import load_demucs_model

    try:
        load_demucs_model(settings, allow_download=False)
    except SeparatorUnavailableError as exc:
        return _fallback(failure, str(exc))
    return SeparatorChoice("demucs", reason)


def _fallback(reason: SeparatorReason, detail: str) -> SeparatorChoice:
    log.warning("separator_fallback", separator="none", reason=reason, detail=detail)
    return SeparatorChoice("none", reason)


def download_status(urls: list[str], *, timeout_s: float) -> DownloadStatus:
    """Whether any of `urls` can be downloaded: one HEAD request each, all at once, within `timeout_s`.

    "available" as soon as one answers with success, "missing" when every server answered but with an
    error (no such file), "unreachable" when some gave no answer in time (offline, a firewall that drops
    packets, no DNS). The requests run in daemon threads because name resolution ignores socket timeouts.
    """
    results: dict[str, bool | None] = {}
    changed = threading.Condition()

    def ask(url: str) -> None:
        answer = _head_ok(url, timeout_s)
        with changed:
            results[url] = answer
            changed.notify_all()

    for url in urls:
        threading.Thread(target=ask, args=(url,), name="demucs-download-probe", daemon=True).start()
    with changed:
        changed.wait_for(lambda: True in results.values() or len(results) == len(urls), timeout=timeout_s)
        answers = dict(results)
    if True in answers.values():
        return "available"
    if len(answers) == len(urls) and None not in answers.values():
        return "missing"
    return "unreachable"


def _head_ok(url: str, timeout_s: float) -> bool | None:
    """True for a success status, False for an error status, None when no answer came."""
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return bool(response.status < 400)
    except urllib.error.HTTPError:
        return False
    except (OSError, ValueError):
        return None
