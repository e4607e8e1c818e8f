"""ModelResolver against real servers on the loopback interface: HTTP, S3 (moto) and local files."""

from __future__ import annotations

import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import h5py
import numpy as np
import pytest
from structlog.testing import capture_logs

from app.core.config import Settings
from app.core.errors import ModelUnavailableError
from app.pipeline.models import ModelResolver, get_model_resolver

pytestmark = pytest.mark.integration


def make_h5(path: Path) -> bytes:
    """A small HDF5 file (all the resolver checks before caching) and its bytes."""
    with h5py.File(path, "w") as f:
        f["weights"] = np.arange(20_000, dtype=np.float32)
    return path.read_bytes()


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_h5(tmp_path_factory.mktemp("source") / "complete_network.h5")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback requests must go straight to the test servers."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def cache_files(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.rglob("*") if p.is_file())


# HTTP --------------------------------------------------------------------------------------------


@dataclass
class ModelServer:
    url: str
    requests: Counter[str]


@pytest.fixture
def http_server(model_bytes: bytes) -> Iterator[ModelServer]:
    """Serves /model.h5, /redirect.h5 (→ /model.h5), /truncated.h5 (half, then hangs up),
    /page.html (not a model); anything else is a 404."""
    requests: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests[self.path] += 1
            if self.path == "/model.h5":
                self._send(200, model_bytes, "application/octet-stream")
            elif self.path == "/redirect.h5":
                self.send_response(302)
                self.send_header("Location", "/model.h5")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/truncated.h5":
                self.send_response(200)
                self.send_header("Content-Length", str(len(model_bytes)))
                self.end_headers()
                self.wfile.write(model_bytes[: len(model_bytes) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif self.path == "/page.html":
                self._send(200, b"<!DOCTYPE html><html><body>a GitHub page</body></html>", "text/html")
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield ModelServer(f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_http_download_lands_in_the_versioned_cache_and_is_reused(
    http_server: ModelServer, model_bytes: bytes, tmp_path: Path
) -> None:
    uri = f"{http_server.url}/model.h5"
    resolver = ModelResolver(uri, "v1.0.0", tmp_path)
    with capture_logs() as logs:
        path = resolver.get_model_path()
    assert path == tmp_path / "complete_network" / "v1.0.0" / "complete_network.h5"
    assert path.read_bytes() == model_bytes
    assert cache_files(tmp_path) == [path]  # no temporary file left behind
    misses = [e for e in logs if e["event"] == "model_cache_miss"]
    assert misses == [
        {"event": "model_cache_miss", "log_level": "info", "uri": uri, "version": "v1.0.0", "cache_path": str(path)}
    ]

    with capture_logs() as logs:
        assert resolver.get_model_path() == path
        assert ModelResolver(uri, "v1.0.0", tmp_path).get_model_path() == path  # a new process: the disk cache
    assert http_server.requests["/model.h5"] == 1
    assert not [e for e in logs if e["event"] == "model_cache_miss"]


def test_http_download_follows_redirects(http_server: ModelServer, model_bytes: bytes, tmp_path: Path) -> None:
    path = ModelResolver(f"{http_server.url}/redirect.h5", "v1", tmp_path).get_model_path()
    assert path.read_bytes() == model_bytes
    assert http_server.requests == Counter({"/redirect.h5": 1, "/model.h5": 1})


def test_a_download_that_breaks_off_is_never_cached(
    http_server: ModelServer, model_bytes: bytes, tmp_path: Path
) -> None:
    uri = f"{http_server.url}/truncated.h5"
    with pytest.raises(ModelUnavailableError) as caught:
        ModelResolver(uri, "v1", tmp_path).get_model_path()
    message = str(caught.value)
    assert f"broke off after {len(model_bytes) // 2} of {len(model_bytes)} bytes" in message
    assert uri in message and "nothing was cached" in message and "scripts/download_models.sh" in message
    assert cache_files(tmp_path) == []


def test_a_missing_file_on_the_server_is_a_clear_error(http_server: ModelServer, tmp_path: Path) -> None:
    uri = f"{http_server.url}/v9/complete_network.h5"
    with pytest.raises(ModelUnavailableError, match=r"HTTP 404 Not Found") as caught:
        ModelResolver(uri, "v1", tmp_path).get_model_path()
    assert uri in str(caught.value) and str(tmp_path) in str(caught.value)
    assert cache_files(tmp_path) == []


def test_a_web_page_instead_of_the_model_is_refused(http_server: ModelServer, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"not an HDF5 Keras model.*<!DOCTYPE html>"):
        ModelResolver(f"{http_server.url}/page.html", "v1", tmp_path).get_model_path()
    assert cache_files(tmp_path) == []


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port that was free a moment ago, so nothing listens on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    uri = f"http://127.0.0.1:{port}/complete_network.h5"
    with pytest.raises(ModelUnavailableError, match=r"could not reach .*check the network"):
        ModelResolver(uri, "v1", tmp_path, timeout_s=5).get_model_path()
    assert cache_files(tmp_path) == []


def test_a_new_version_is_downloaded_beside_the_old_one(http_server: ModelServer, tmp_path: Path) -> None:
    uri = f"{http_server.url}/model.h5"
    first = ModelResolver(uri, "v1.0.0", tmp_path).get_model_path()
    second = ModelResolver(uri, "v1.1.0", tmp_path).get_model_path()
    assert first != second and first.is_file() and second.is_file()
    assert http_server.requests["/model.h5"] == 2


def test_threads_asking_at_once_download_once(http_server: ModelServer, tmp_path: Path) -> None:
    resolver = ModelResolver(f"{http_server.url}/model.h5", "v1", tmp_path)
    paths: list[Path] = []
    threads = [threading.Thread(target=lambda: paths.append(resolver.get_model_path())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(paths) == 8 and len(set(paths)) == 1
    assert http_server.requests["/model.h5"] == 1


def test_one_resolver_per_process_for_the_same_settings(tmp_path: Path) -> None:
    settings = Settings(MODEL_URI="file:///models/a.h5", MODEL_CACHE_DIR=tmp_path)
    assert get_model_resolver(settings) is get_model_resolver(settings.model_copy())
    assert get_model_resolver(settings) is not get_model_resolver(settings.model_copy(update={"MODEL_VERSION": "v2"}))


# S3 ----------------------------------------------------------------------------------------------


def test_s3_download(s3_bucket: str, model_bytes: bytes, tmp_path: Path) -> None:
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="models/v1.0.0/complete_network.h5", Body=model_bytes)
    uri = f"s3://{s3_bucket}/models/v1.0.0/complete_network.h5"
    cache = tmp_path / "cache"
    with capture_logs() as logs:
        path = ModelResolver(uri, "v1.0.0", cache).get_model_path()
    assert path.read_bytes() == model_bytes
    assert cache_files(cache) == [path]
    assert [e["uri"] for e in logs if e["event"] == "model_cache_miss"] == [uri]


def test_s3_missing_key_is_a_clear_error(s3_bucket: str, tmp_path: Path) -> None:
    uri = f"s3://{s3_bucket}/models/v9/complete_network.h5"
    cache = tmp_path / "cache"
    with pytest.raises(ModelUnavailableError, match=r"S3 object was not found; check the bucket and key") as caught:
        ModelResolver(uri, "v9", cache).get_model_path()
    assert uri in str(caught.value)
    assert cache_files(cache) == []


# Local files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["file_uri", "plain_path"])
def test_local_model_is_copied_into_the_cache(form: str, model_bytes: bytes, tmp_path: Path) -> None:
    source = tmp_path / "shared" / "complete_network.h5"
    source.parent.mkdir()
    source.write_bytes(model_bytes)
    uri = source.as_uri() if form == "file_uri" else str(source)
    cache = tmp_path / "cache"
    path = ModelResolver(uri, "v1", cache).get_model_path()
    assert path == cache / "complete_network" / "v1" / "complete_network.h5"
    assert path.read_bytes() == model_bytes
    source.unlink()  # from now on the cache alone serves it
    assert ModelResolver(uri, "v1", cache).get_model_path() == path


def test_a_changed_local_model_replaces_its_cached_copy(tmp_path: Path) -> None:
    # The bundled model is a local file: a new release of it must not be shadowed by the old cached copy.
    source = tmp_path / "bundled.h5"
    first = make_h5(source)
    cache = tmp_path / "cache"
    path = ModelResolver(source.as_uri(), "v1", cache).get_model_path()
    assert path.read_bytes() == first
    with h5py.File(source, "w") as f:
        f["weights"] = np.ones(30_000, dtype=np.float32)
    os.utime(source, (1_900_000_000, 1_900_000_000))
    assert ModelResolver(source.as_uri(), "v1", cache).get_model_path().read_bytes() == source.read_bytes()


def test_a_missing_local_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "complete_network.h5"
    with pytest.raises(ModelUnavailableError, match=r"there is no such file") as caught:
        ModelResolver(missing.as_uri(), "v1", tmp_path / "cache").get_model_path()
    assert str(missing) in str(caught.value)


def test_an_unknown_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"scheme 'ftp'.*https://, http://, s3://, file://"):
        ModelResolver("ftp://example.org/complete_network.h5", "v1", tmp_path).get_model_path()


def test_a_version_that_is_not_a_folder_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="MODEL_VERSION"):
        ModelResolver("file:///m.h5", "../v1", tmp_path)
