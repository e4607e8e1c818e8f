"""Security headers of the API and of the web UI it serves, and Swagger UI served without a CDN."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core import config, db
from tests.conftest import BOOT_SCRIPT, PAGE_SCRIPT, assert_common_headers, fake_build


def sha256_source(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


@pytest.fixture
def http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> Iterator[TestClient]:
    monkeypatch.setenv("FRONTEND_DIR", str(fake_build(tmp_path / "out")))
    config.get_settings.cache_clear()
    from app.main import create_app

    with TestClient(create_app()) as client:
        yield client
    db.get_engine.cache_clear()
    config.get_settings.cache_clear()


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


@pytest.mark.parametrize("path", ["/", "/history/", "/no-such-page/", "/app.js"])
def test_every_ui_response_carries_the_security_headers(http: TestClient, path: str) -> None:
    answer = http.get(path)
    assert_common_headers(answer.headers)


def test_pages_allow_their_own_inline_scripts_by_hash_and_nothing_inline_besides(http: TestClient) -> None:
    for path in ("/", "/history/", "/no-such-page/"):
        policy = directives(http.get(path).headers["content-security-policy"])
        assert sorted(policy["script-src"]) == sorted(
            ["'self'", "'wasm-unsafe-eval'", sha256_source(BOOT_SCRIPT), sha256_source(PAGE_SCRIPT)]
        )
        assert policy["default-src"] == ["'self'"] and policy["connect-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"] and policy["media-src"] == ["'self'", "blob:"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "content-security-policy" not in http.get("/app.js").headers  # a policy only matters on pages


def test_api_answers_carry_nosniff_frame_and_referrer_headers(http: TestClient) -> None:
    for answer in (
        http.get("/api/v1/limits"),
        http.get("/api/v1/jobs/nope"),
        http.get("/api/v1/jobs", headers={"Authorization": "Bearer a b c"}),
        http.get("/openapi.json"),
    ):
        assert_common_headers(answer.headers)


def test_docs_load_swagger_ui_from_the_api_itself(http: TestClient) -> None:
    docs = http.get("/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text
    assert not re.search(r"https?://|//[a-z]", docs.text), "the docs page must name no other server"
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= set(assets)
    for asset in assets:
        answer = http.get(asset)
        assert answer.status_code == 200 and answer.content, asset
        assert_common_headers(answer.headers)
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.S)
    policy = directives(docs.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'", *(sha256_source(script) for script in inline)]
    assert policy["connect-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert_common_headers(docs.headers)
    assert http.get("/redoc").status_code == 404, "ReDoc would load from a CDN"
