"""Refuse, at connect time, every connection a link download opens to a private or local address.

Checking a link's host before the download is not enough: the page may redirect, or its name may
resolve to a public address when the API checks it and to 127.0.0.1 a second later (DNS rebinding).
So the check sits where the address is final: Python raises the audit event "socket.connect" with
the peer address just before every connect(2), whichever library, redirect hop or resolved address
led there. yt-dlp offers no hook at that level (its request handlers resolve and connect internally),
so an audit hook is the one place that sees every peer.

The hook is installed once per process (audit hooks cannot be removed) and acts only inside
`ConnectGuard.active()`, in the context that entered it: the API's and workers' other connections
(database, broker, storage) are untouched. Threads started inside the block do not inherit it, so
the download must run in the calling thread; `app.pipeline.ingest` configures yt-dlp that way.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from app.pipeline.link_safety import IPNetwork, address_is_fetchable, literal_address

_SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"})
_EVENTS = _SPAWN_EVENTS | {"socket.connect"}


class ConnectionRefusedByGuard(OSError):
    """Raised inside a guarded block instead of connecting; an OSError so libraries treat it as a failed connect."""


@dataclass
class ConnectGuard:
    """Allows connections to public addresses (and `allowed` networks) only, while `active()`.

    `refused` says what was stopped, if anything: "address" (a connection to a private or local
    address, or to a host given by name instead of by address) or "program" (an external program
    started with a link, such as ffmpeg fetching a stream by itself, out of this guard's sight).
    """

    allowed: Sequence[IPNetwork] = ()
    refused: Literal["address", "program"] | None = field(default=None, init=False)

    @contextmanager
    def active(self) -> Iterator[ConnectGuard]:
        """Enforce this guard on the connections the current thread opens inside the block."""
        _install_hook()
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)

    def permits(self, sock: socket.socket, address: Any) -> bool:
        """True when connecting `sock` to `address` (the connect() argument) reaches an allowed peer."""
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple) or not address:
            return False
        host = address[0]
        # Downloaders connect to the addresses they resolved; a name here would be resolved again
        # inside connect(), after this check, so it is refused.
        ip = literal_address(host) if isinstance(host, str) else None
        return ip is not None and address_is_fetchable(ip, self.allowed)


_current: ContextVar[ConnectGuard | None] = ContextVar("drumscribe_connect_guard", default=None)
_install_lock = threading.Lock()
_installed = False


def _install_hook() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            sys.addaudithook(_audit)
            _installed = True


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event not in _EVENTS:
        return
    guard = _current.get()
    if guard is None:
        return
    if event == "socket.connect":
        if not guard.permits(args[0], args[1]):
            guard.refused = "address"
            raise ConnectionRefusedByGuard("connection to a private or local address refused")
    elif _mentions_link(args):
        guard.refused = "program"
        raise ConnectionRefusedByGuard("external program started with a link refused")


def _mentions_link(args: Any) -> bool:
    """True when a command line (strings, bytes, or lists of them; environments are skipped) holds a URL."""
    if isinstance(args, str):
        return "://" in args
    if isinstance(args, bytes):
        return b"://" in args
    if isinstance(args, list | tuple):
        return any(_mentions_link(item) for item in args)
    return False
