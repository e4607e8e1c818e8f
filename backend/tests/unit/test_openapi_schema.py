"""The web UI's typed client is generated from frontend/openapi.json: it must be the API's current schema."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FRONTEND = ROOT / "frontend"


def test_frontend_openapi_json_is_the_apis_current_schema() -> None:
    export = runpy.run_path(str(FRONTEND / "scripts" / "export_openapi.py"), run_name="export_openapi")
    committed = json.loads((FRONTEND / "openapi.json").read_text())
    assert committed == export["schema"](), (
        "the API's schema changed: run `npm run api:generate` in frontend/ and commit "
        "frontend/openapi.json and frontend/lib/api/schema.d.ts"
    )
