"""SEPARATOR=auto's quick question before a download: does a server answer, and does it have the file?

Every server here is on loopback: one that answers 200, one that answers 404, one that accepts the
connection and never says a word (a firewall that swallows packets looks the same to a client), and a
port nobody listens on.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.pipeline.separation.auto import download_status

TIMEOUT_S = 0.5


def _handler(status: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, str]]:
    http = {status: ThreadingHTTPServer(("127.0.0.1", 0), _handler(status)) for status in (200, 404)}
    for server in http.values():
        threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody ever reads or answers
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        yield {
            "ok": f"http://127.0.0.1:{http[200].server_address[1]}/htdemucs.yaml",
            "missing": f"http://127.0.0.1:{http[404].server_address[1]}/htdemucs.yaml",
            "silent": f"http://127.0.0.1:{silent.getsockname()[1]}/htdemucs.yaml",
            "closed": f"http://127.0.0.1:{closed_port}/htdemucs.yaml",
        }
    finally:
        for server in http.values():
            server.shutdown()
            server.server_close()
        silent.close()


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["ok"], "available"),
        (["missing", "ok"], "available"),
        (["silent", "ok"], "available"),
        (["missing"], "missing"),
        (["closed"], "unreachable"),
        (["missing", "closed"], "unreachable"),
        (["silent"], "unreachable"),
        (["silent", "missing"], "unreachable"),
    ],
)
def test_download_status(servers: dict[str, str], names: list[str], expected: str) -> None:
    started = time.monotonic()
    assert download_status([servers[n] for n in names], timeout_s=TIMEOUT_S) == expected
    # Bounded by the timeout whatever the servers do, and no waiting once one server has the file.
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT_S + 0.4
    if expected == "available" or "silent" not in names:
        assert elapsed < TIMEOUT_S / 2
