"""HTTP details of the API that need no workers: tokens, the upload size limit, byte ranges."""

from __future__ import annotations

import logging
import secrets

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from app.api.access_log import ShareTokenFilter, redact_share_tokens
from app.api.artifacts import parse_range
from app.api.auth import COOKIE_NAME, AnonymousTokenMiddleware, BodySizeLimitMiddleware, is_valid_token
from app.jobs.service import address_of, owner_of
from app.pipeline.stage_table import upload_name


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/whoami")
    def whoami(request: Request) -> dict[str, str]:
        return {"token": request.state.token}

    @app.post("/api/v1/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.add_middleware(AnonymousTokenMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=1000, message="too big: MAX_UPLOAD_MB")
    return app


def test_first_request_gets_an_httponly_token_cookie(app: FastAPI) -> None:
    with TestClient(app) as http:
        first = http.get("/api/v1/whoami")
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        token = first.json()["token"]
        second = http.get("/api/v1/whoami")
        assert second.json()["token"] == token and "set-cookie" not in second.headers


def test_bearer_token_wins_and_gets_no_cookie(app: FastAPI) -> None:
    token = secrets.token_urlsafe(32)
    with TestClient(app) as http:
        response = http.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["token"] == token and "set-cookie" not in response.headers


@pytest.mark.parametrize("token", ["a b c", "script-token", "x" * 31, "x" * 257, "ab+cd/ef=" * 5, ""])
def test_a_malformed_bearer_token_is_refused_with_the_rule(app: FastAPI, token: str) -> None:
    with TestClient(app) as http:
        response = http.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    detail = response.json()["detail"]
    assert "32 to 256 characters" in detail and "secrets.token_urlsafe(32)" in detail and "cookie" in detail


def test_other_authorization_schemes_are_left_to_the_proxy_that_uses_them(app: FastAPI) -> None:
    with TestClient(app) as http:
        response = http.get("/api/v1/whoami", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 200 and f"{COOKIE_NAME}=" in response.headers["set-cookie"]


def test_a_malformed_cookie_is_replaced_by_a_fresh_token(app: FastAPI) -> None:
    with TestClient(app) as http:
        http.cookies.set(COOKIE_NAME, "a")
        response = http.get("/api/v1/whoami")
    fresh = response.json()["token"]
    assert response.status_code == 200 and fresh != "a" and is_valid_token(fresh)
    assert response.headers["set-cookie"].startswith(f"{COOKIE_NAME}={fresh};")


def test_body_over_the_limit_is_refused_while_streaming(app: FastAPI) -> None:
    with TestClient(app) as http:
        assert http.post("/api/v1/upload", content=b"x" * 1000).json() == {"bytes": 1000}
        declared = http.post("/api/v1/upload", content=b"x" * 1001)
        assert declared.status_code == 413 and declared.json() == {"detail": "too big: MAX_UPLOAD_MB"}
        chunked = http.post("/api/v1/upload", content=iter([b"x" * 600, b"x" * 600]))
        assert chunked.status_code == 413


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=900-5000", (900, 999)),
        ("bytes=1000-", None),
        ("bytes=5-2", None),
        ("bytes=-", None),
        ("items=0-1", None),
        ("bytes=0-1,5-6", None),
    ],
)
def test_range_parsing(header: str, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 1000) == expected


def test_owner_is_a_hash_and_upload_names_are_safe() -> None:
    assert owner_of("t") != "t" and len(owner_of("t")) == 64
    assert upload_name("My Song.MP3") == "upload.mp3"
    assert upload_name("../../etc/passwd") == "upload"
    assert upload_name("weird.<script>") == "upload"


def test_the_address_key_is_a_hash_of_the_ipv4_address_or_the_ipv6_64() -> None:
    assert len(address_of("203.0.113.7")) == 64 and "203" not in address_of("203.0.113.7")
    assert address_of("203.0.113.7") != address_of("203.0.113.8")
    assert address_of("::ffff:203.0.113.7") == address_of("203.0.113.7")
    assert address_of("2001:db8:1:2::1") == address_of("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert address_of("2001:db8:1:2::1") != address_of("2001:db8:1:3::1")


def test_limits_report_the_operators_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api.routes.limits import router
    from app.core.config import get_settings

    monkeypatch.setenv("MAX_UPLOAD_MB", "40")
    monkeypatch.setenv("MAX_DURATION_SECONDS", "300")
    get_settings.cache_clear()
    api = FastAPI()
    api.include_router(router)
    try:
        with TestClient(api) as http:
            body = http.get("/api/v1/limits").json()
    finally:
        get_settings.cache_clear()
    assert body["max_upload_mb"] == 40 and body["max_duration_seconds"] == 300
    assert body["max_concurrent_jobs_per_user"] >= 1 and body["artifact_ttl_hours"] >= 1


def test_share_tokens_are_redacted_from_access_log_lines() -> None:
    token = secrets.token_urlsafe(32)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/api/v1/shared/{token}/artifacts/drums.wav", "1.1", 206), None,
    )  # fmt: skip
    assert ShareTokenFilter().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /api/v1/shared/[token]/artifacts/drums.wav HTTP/1.1" 206'
    assert redact_share_tokens(f"GET /shared/?token={token}&x=1") == "GET /shared/?token=[token]&x=1"
    assert redact_share_tokens("GET /api/v1/jobs/abc/shares") == "GET /api/v1/jobs/abc/shares"
