"""Ownership without accounts: an anonymous token in an HttpOnly cookie, or sent as a bearer token."""

from __future__ import annotations

import json
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE_NAME = "drumscribe_token"
COOKIE_MAX_AGE = 60 * 60 * 24 * 365

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,256}")
"""What a token must look like: `secrets.token_urlsafe(32)` (43 characters, 256 random bits) fits, and so
does any URL-safe token of 32 to 256 characters. Short or spaced strings are refused, so that a script
cannot pick a guessable token ("test", "a b c") that another script may pick too and so see its jobs."""

TOKEN_RULE = (
    "a DrumScribe token is 32 to 256 characters of A-Z, a-z, 0-9, '-' and '_'; "
    "send no Authorization header and the API gives you one in the drumscribe_token cookie, "
    "or make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
)


class MalformedToken(Exception):
    """A bearer token that breaks TOKEN_PATTERN."""


def is_valid_token(token: str) -> bool:
    """True when `token` has the form of a DrumScribe token (TOKEN_PATTERN)."""
    return TOKEN_PATTERN.fullmatch(token) is not None


def token_from_headers(headers: dict[bytes, bytes]) -> str | None:
    """The bearer token, else the cookie's token, else None.

    A malformed bearer token raises MalformedToken (the script must fix it); a malformed cookie counts
    as no cookie, so a browser gets a fresh token instead of an error it cannot act on.
    """
    auth = headers.get(b"authorization", b"").decode("latin-1")
    scheme, _, credentials = auth.partition(" ")
    # Other schemes (say Basic, from a proxy's own login) are not DrumScribe's and are left alone.
    if scheme.lower() == "bearer":
        token = credentials.strip()
        if not is_valid_token(token):
            raise MalformedToken(f"the bearer token is malformed: {TOKEN_RULE}")
        return token
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE_NAME and is_valid_token(value):
            return value
    return None


class AnonymousTokenMiddleware:
    """Gives every API caller without a token a new one, set as an HttpOnly cookie on the response.

    A malformed bearer token gets 401 with the rule a token must follow. Paths under `anonymous_prefixes`
    (a share link's) are left alone: no token is read or given there, so a link neither uses nor plants
    an owner's identity.
    """

    def __init__(self, app: ASGIApp, *, secure: bool = False, anonymous_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.secure = secure
        self.anonymous_prefixes = anonymous_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/") or path.startswith(self.anonymous_prefixes):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        try:
            token = token_from_headers(headers)
        except MalformedToken as exc:
            await _json_error(send, 401, str(exc), ((b"www-authenticate", b'Bearer error="invalid_token"'),))
            return
        if token is not None:
            scope.setdefault("state", {})["token"] = token
            await self.app(scope, receive, send)
            return
        new_token = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["token"] = new_token
        cookie = f"{COOKIE_NAME}={new_token}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax"
        if self.secure:
            cookie += "; Secure"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode("latin-1")))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class BodySizeLimitMiddleware:
    """Refuses a request body larger than `max_bytes` while it streams in, before it fills a disk."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, message: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _json_error(send, 413, self.message)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _json_error(send, 413, self.message)


class _BodyTooLarge(Exception):
    pass


async def _json_error(send: Send, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps({"detail": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
