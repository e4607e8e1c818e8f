"""The compose `frontend` service (frontend/server.mjs, run by Node) sends the API's security headers and
the same page policy as `drumscribe serve` for the same build."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.web import frontend_policy
from tests.conftest import assert_common_headers, fake_build
from tests.integration.stack import BACKEND, free_port, wait_for

pytestmark = pytest.mark.integration

SERVER = BACKEND.parent / "frontend" / "server.mjs"


@pytest.fixture
def frontend(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (scripts/test-frontend.sh requires it too)")
    build = fake_build(tmp_path / "out")
    port = free_port()
    env = {
        **os.environ,
        "FRONTEND_DIR": str(build),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "API_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens there
    }
    server = subprocess.Popen([node, str(SERVER)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, 15, "server.mjs to answer")
        yield base, build
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_server_mjs_sends_the_apis_headers_and_page_policy(frontend: tuple[str, Path]) -> None:
    base, build = frontend
    with httpx.Client(base_url=base, timeout=10) as http:
        for path in ("/", "/history/", "/no-such-page/"):
            page = http.get(path)
            assert page.headers["content-security-policy"] == frontend_policy(build), path
            assert_common_headers(page.headers)
        script = http.get("/app.js")
        assert_common_headers(script.headers)
        assert "content-security-policy" not in script.headers
        assert_common_headers(http.get("/history").headers)  # the redirect to /history/
        unreachable_api = http.get("/api/v1/health")
        assert unreachable_api.status_code == 502
        assert_common_headers(unreachable_api.headers)
