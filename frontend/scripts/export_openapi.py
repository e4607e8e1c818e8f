"""The DrumScribe API's OpenAPI schema as the frontend's typed client is generated from it (openapi.json).

Run from backend/ (so that `app` imports): `python ../frontend/scripts/export_openapi.py` prints it.
`npm run api:generate` writes it to frontend/openapi.json, and backend/tests/unit/test_openapi_schema.py
checks that the committed file is still the API's schema.

FastAPI does not collect models that are referenced only from `openapi_extra` (POST /api/v1/jobs
documents its JSON body as a $ref to JobFromUrl that way), which leaves a dangling $ref that no client
generator accepts. Such models are added here from app.schemas; once the API lists them itself,
nothing is added.
"""

from __future__ import annotations

import json
from typing import Any

PREFIX = "#/components/schemas/"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"][len(PREFIX) :]} if str(node.get("$ref", "")).startswith(PREFIX) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def schema() -> dict[str, Any]:
    """app.openapi(), with the models behind dangling component references filled in."""
    from app import schemas
    from app.main import create_app

    doc = create_app().openapi()
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in sorted(_refs(doc) - set(components)):
        model = getattr(schemas, name, None)
        if model is None:
            continue  # openapi-typescript will name the reference it cannot resolve
        model_schema = model.model_json_schema(ref_template=PREFIX + "{model}")
        for sub_name, sub_schema in model_schema.pop("$defs", {}).items():
            components.setdefault(sub_name, sub_schema)
        components[name] = model_schema
    return json.loads(json.dumps(doc))


if __name__ == "__main__":
    print(json.dumps(schema(), indent=2))
