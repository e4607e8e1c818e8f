"""Links to private or local addresses are refused by the API and, at connect time, by the download.

Every server here is one the test starts on loopback; each records the requests it gets, so a test
shows that a refused address received nothing at all.
"""

from __future__ import annotations

import functools
import http.server
import ipaddress
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.errors import RefusedLinkError
from app.pipeline.connect_guard import ConnectGuard, ConnectionRefusedByGuard
from app.pipeline.ingest import ingest
from app.pipeline.link_safety import LINK_WITH_CREDENTIALS, PRIVATE_LINK, check_link
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove
from tests.conftest import ffmpeg_convert, write_wav

pytestmark = pytest.mark.integration

PRIVATE = "points to a private or local network address"


@dataclass
class Site:
    """A loopback web server: /song.mp3, and /hop, a redirect to `redirect_to`."""

    host: str
    port: int
    seen: list[str] = field(default_factory=list)
    redirect_to: str = ""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _Handler(http.server.SimpleHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:
        self.site.seen.append(self.path)
        if self.path == "/hop":
            self.send_response(302)
            self.send_header("Location", self.site.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        self.site.seen.append(self.path)
        super().do_HEAD()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def song_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    audio = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=2), SynthKit())
    ffmpeg_convert(write_wav(root / "song.wav", audio), root / "song.mp3")
    return root


def _serve(host: str, folder: Path) -> Iterator[Site]:
    site = Site(host, 0)
    handler = type("Handler", (_Handler,), {"site": site})
    server = http.server.ThreadingHTTPServer((host, 0), functools.partial(handler, directory=str(folder)))
    site.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site
    server.shutdown()
    server.server_close()


@pytest.fixture
def site(song_folder: Path) -> Iterator[Site]:
    yield from _serve("127.0.0.1", song_folder)


@pytest.fixture
def inner(song_folder: Path) -> Iterator[Site]:
    """A second server, on 127.0.0.2: the 'internal' host a redirect points to."""
    yield from _serve("127.0.0.2", song_folder)


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The real API in-process, on a fresh SQLite database, with LINK_ALLOWED_NETWORKS unset."""
    from app.api import deps
    from app.core.config import get_settings
    from app.core.db import get_engine
    from app.db_migrate import upgrade
    from app.main import create_app

    database_url = f"sqlite:///{tmp_path / 'drumscribe.sqlite'}"
    upgrade(database_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CELERY_BROKER_URL", f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    monkeypatch.setenv("CELERY_RESULT_BACKEND", f"db+sqlite:///{tmp_path / 'results.sqlite'}")
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.delenv("LINK_ALLOWED_NETWORKS", raising=False)
    caches = (get_settings, get_engine, deps._storage)
    for cache in caches:
        cache.cache_clear()
    try:
        with TestClient(create_app()) as http:
            yield http
    finally:
        for cache in caches:
            cache.cache_clear()


@pytest.mark.parametrize(
    "spelling",
    [
        "http://127.0.0.1:{port}/song.mp3",
        "http://localhost:{port}/song.mp3",
        "http://2130706433:{port}/song.mp3",
        "http://0x7f000001:{port}/song.mp3",
        "http://0177.0.0.1:{port}/song.mp3",
        "http://0:{port}/song.mp3",
        "http://127.1:{port}/song.mp3",
        "http://[::1]:{port}/song.mp3",
        "http://[::ffff:127.0.0.1]:{port}/song.mp3",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_the_api_refuses_loopback_and_metadata_links_in_every_spelling(
    api: TestClient, site: Site, spelling: str
) -> None:
    response = api.post("/api/v1/jobs", json={"url": spelling.format(port=site.port)})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == PRIVATE_LINK
    assert api.get("/api/v1/jobs").json()["total"] == 0
    assert site.seen == []


def test_the_api_refuses_credentials_without_repeating_them(api: TestClient, site: Site) -> None:
    response = api.post("/api/v1/jobs", json={"url": f"http://user:hunter2@127.0.0.1:{site.port}/song.mp3"})
    assert response.status_code == 422
    assert response.json()["detail"] == LINK_WITH_CREDENTIALS


def test_the_api_answer_is_the_same_for_open_and_closed_ports(api: TestClient, site: Site) -> None:
    closed = _free_port()
    details = [
        api.post("/api/v1/jobs", json={"url": f"http://127.0.0.1:{port}/song.mp3"})
        .json()["detail"]
        .replace(str(port), "PORT")
        for port in (site.port, closed)
    ]
    assert details[0] == details[1] == PRIVATE_LINK


def test_a_redirect_to_a_private_address_is_refused_at_connect_time(site: Site, inner: Site, tmp_path: Path) -> None:
    only_site = (ipaddress.ip_network("127.0.0.1/32"),)  # the first server counts as public here
    site.redirect_to = f"{inner.url}/song.mp3"
    ingest(f"{site.url}/song.mp3", tmp_path / "direct.wav", max_duration_s=900, allowed_networks=only_site)
    with pytest.raises(RefusedLinkError, match=PRIVATE):
        ingest(f"{site.url}/hop", tmp_path / "input.wav", max_duration_s=900, allowed_networks=only_site)
    assert "/hop" in site.seen
    assert inner.seen == [], "the redirect's target received no request"


def test_a_name_that_resolves_to_loopback_after_the_check_is_refused(site: Site, tmp_path: Path) -> None:
    url = f"http://localhost:{site.port}/song.mp3"
    # When the link was submitted, the attacker's DNS answered with a public address...
    check_link(url, resolve=lambda host, port: [ipaddress.ip_address("151.101.1.69")])
    # ...and when the worker connects, the name leads to 127.0.0.1 (here through /etc/hosts).
    with pytest.raises(RefusedLinkError, match=PRIVATE):
        ingest(url, tmp_path / "input.wav", max_duration_s=900)
    assert site.seen == []


def test_the_worker_refusal_is_the_same_for_open_and_closed_ports(site: Site, tmp_path: Path) -> None:
    messages = []
    for port in (site.port, _free_port()):
        with pytest.raises(RefusedLinkError) as refused:
            ingest(f"http://127.0.0.1:{port}/song.mp3", tmp_path / "input.wav", max_duration_s=900)
        messages.append(str(refused.value).replace(str(port), "PORT"))
    assert messages[0] == messages[1]
    assert site.seen == []


def test_the_guard_holds_only_in_its_own_thread() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        address = listener.getsockname()
        guard = ConnectGuard()
        other_thread: list[socket.socket] = []
        with guard.active():
            with pytest.raises(ConnectionRefusedByGuard):
                socket.create_connection(address, timeout=5)
            # The API's and workers' own connections (database, broker) go on in other threads.
            thread = threading.Thread(target=lambda: other_thread.append(socket.create_connection(address, timeout=5)))
            thread.start()
            thread.join()
        assert guard.refused == "address" and len(other_thread) == 1
        listener.settimeout(5)
        listener.accept()[0].close()  # the other thread's connection
        listener.settimeout(0.3)
        with pytest.raises(TimeoutError):
            listener.accept()  # the guarded one never arrived
        other_thread[0].close()
        socket.create_connection(address, timeout=5).close()  # and after the block connects work again


def test_the_guard_refuses_names_and_programs_started_with_a_link() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        guard = ConnectGuard([ipaddress.ip_network("127.0.0.0/8")])
        with guard.active():
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            with socket.socket() as sock, pytest.raises(ConnectionRefusedByGuard):
                sock.connect(("localhost", port))  # resolved inside connect(), after any check
            assert guard.refused == "address"
    guard = ConnectGuard()
    with guard.active():
        subprocess.run(["ffmpeg", "-version"], capture_output=True, check=True)
        with pytest.raises(ConnectionRefusedByGuard):
            subprocess.run(["ffmpeg", "-i", f"http://127.0.0.1:{_free_port()}/x.mp3", "-f", "null", "-"], check=False)
    assert guard.refused == "program"


def _free_port() -> int:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
