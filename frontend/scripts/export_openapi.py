"""The DrumScribe API's OpenAPI schema as the frontend's typed client is generated from it (openapi.json).

Run from backend/ (so that `app` imports): `python ../frontend/scripts/export_openapi.py` prints it.
`npm run api:generate` writes it to frontend/openapi.json, and backend/tests/unit/test_openapi_schema.py
checks that the committed file is still the API's schema.
"""

from __future__ import annotations

import json
from typing import Any


def schema() -> dict[str, Any]:
    """app.openapi(), as JSON would round-trip it."""
    from app.main import create_app

    return json.loads(json.dumps(create_app().openapi()))


if __name__ == "__main__":
    print(json.dumps(schema(), indent=2))
