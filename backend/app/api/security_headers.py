"""Security headers on every response, and the Content-Security-Policy of the pages the API serves.

frontend/server.mjs (the compose `frontend` service) sends the same headers and builds the same page
policy; tests/integration/test_security_headers.py holds the two to it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMON_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
"""On every response: no MIME sniffing, no framing (clickjacking), no job addresses leaked in Referer."""

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions ('sha256-...') of the inline scripts of `html`, in order, without repeats."""
    hashes = []
    for match in INLINE_SCRIPT.finditer(html):
        digest = base64.b64encode(hashlib.sha256(match.group(1).encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return list(dict.fromkeys(hashes))


def page_policy(script_hashes: Iterable[str]) -> str:
    """The web UI's Content-Security-Policy: its own files only, plus the inline scripts it was built with.

    The static export bootstraps each page with inline scripts (React's server payload), allowed by hash
    rather than 'unsafe-inline'; verovio compiles its WebAssembly ('wasm-unsafe-eval') and embeds its
    music font as a data: URL (the UI applies verovio's CSS through the CSSOM, so style-src stays 'self');
    drums.wav plays from the API (media-src 'self'), and the home page reads a chosen song's length from
    an object URL of the file before uploading it (media-src blob:).
    """
    scripts = " ".join(["'self'", "'wasm-unsafe-eval'", *script_hashes])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self'; font-src 'self' data:; img-src 'self'; "
        "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


class SecurityHeadersMiddleware:
    """Adds COMMON_HEADERS to every response, and `html_policy` to HTML responses that set no policy."""

    def __init__(self, app: ASGIApp, *, html_policy: str) -> None:
        self.app = app
        self.html_policy = html_policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in COMMON_HEADERS if name not in names]
                content_type = dict((n.lower(), v) for n, v in headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", self.html_policy))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
