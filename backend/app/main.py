"""The FastAPI application (and nothing else): `uvicorn app.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.access_log import install_share_token_filter
from app.api.auth import AnonymousTokenMiddleware, BodySizeLimitMiddleware
from app.api.docs import add_docs
from app.api.routes import health, jobs, limits, metrics, pipeline, revisions, shares
from app.api.security_headers import SecurityHeadersMiddleware, page_policy
from app.core.config import get_settings
from app.core.errors import upload_too_large
from app.core.logging import configure_logging
from app.observability.tracing import instrument_fastapi
from app.web import mount_frontend


def create_app() -> FastAPI:
    """Build the API with its middleware, routers and, when built, the web UI."""
    settings = get_settings()
    configure_logging(settings.LOG_LEVEL, json=settings.LOG_JSON)
    install_share_token_filter()
    app = FastAPI(
        title="DrumScribe",
        version="0.1.0",
        description="Automatic drum transcription: upload a song or paste a link, get drum sheet music back.",
        # Swagger UI from the API's own files (add_docs); no ReDoc, which would load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    add_docs(app)
    app.include_router(health.router)
    app.include_router(jobs.router)
    app.include_router(limits.router)
    app.include_router(metrics.router)
    app.include_router(pipeline.router)
    app.include_router(revisions.router)
    app.include_router(shares.router)
    app.add_middleware(
        AnonymousTokenMiddleware, secure=settings.COOKIE_SECURE, anonymous_prefixes=(shares.SHARED_PREFIX,)
    )
    limit_mb = settings.MAX_UPLOAD_MB
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=limit_mb * 1024 * 1024 + 64 * 1024,  # room for the multipart envelope
        message=upload_too_large(limit_mb),
    )
    instrument_fastapi(app, settings)
    ui_policy = mount_frontend(app, settings.FRONTEND_DIR)
    # Outermost, so that the other middleware's own answers (401, 413) get the headers too.
    app.add_middleware(SecurityHeadersMiddleware, html_policy=ui_policy or page_policy([]))
    return app


app = create_app()
