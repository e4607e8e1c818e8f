"""Swagger UI at /docs with its JavaScript and CSS served by the API itself, never from a CDN.

The files are the copies of Swagger UI that the fastapi-offline package ships; the page's one inline
script (which starts Swagger UI) is allowed by its hash in the page's Content-Security-Policy.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.api.security_headers import inline_script_hashes

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
SWAGGER_UI_FILES = Path(str(files("fastapi_offline") / "static"))
"""swagger-ui-bundle.js, swagger-ui.css and favicon.png, installed with the fastapi-offline package."""


def docs_policy(page: str) -> str:
    """The Content-Security-Policy of the docs page `page`: its own files, its inline script, the API."""
    scripts = " ".join(["'self'", *inline_script_hashes(page)])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def add_docs(app: FastAPI) -> None:
    """Serve Swagger UI for `app`'s OpenAPI schema at /docs, with its assets under /docs/assets/."""
    app.mount(ASSETS_URL, StaticFiles(directory=SWAGGER_UI_FILES), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url=str(app.openapi_url),
        title=f"{app.title} API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        # Swagger UI would otherwise send the schema's address to an online validator.
        swagger_ui_parameters={"validatorUrl": None},
    ).body
    headers = {"Content-Security-Policy": docs_policy(bytes(page).decode())}

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)
