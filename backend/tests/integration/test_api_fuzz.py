"""Schemathesis over the whole API (uploads and links included) against a real uvicorn on PostgreSQL: no 5xx.

No workers run, so accepted jobs stay pending; the owner's quota then answers 429, which is fine here:
the property under test is that no generated request, valid or not, makes the server fail.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from tests.integration.stack import Stack, stack_on_fresh_state

pytestmark = pytest.mark.integration

HARMLESS_LINK = "http://127.0.0.1:9/song.wav"
"""Where every generated link is pointed: the test must not make the API resolve random host names."""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with stack_on_fresh_state(tmp_path_factory.mktemp("fuzz"), MAX_UPLOAD_MB="1") as running:
        running.start_api()
        yield running


def test_no_request_makes_the_api_fail(api: Stack) -> None:
    schema = schemathesis.openapi.from_url(f"{api.api_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7, "every route of the API is in its schema"
    # One owner for every request, so the quota's 429 is reached too.
    headers = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
    for operation in operations:
        _fuzz(operation.as_strategy(GenerationMode.POSITIVE), headers)
        try:
            _fuzz(operation.as_strategy(GenerationMode.NEGATIVE), headers)
        except Unsatisfiable:
            continue  # an operation without parameters or body has no invalid request to make


def _fuzz(strategy: st.SearchStrategy[schemathesis.Case], headers: dict[str, str]) -> None:
    @given(case=strategy)
    @settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    def one(case: schemathesis.Case) -> None:
        link = case.body.get("url") if isinstance(case.body, dict) else None
        if isinstance(link, str) and urlsplit(link).scheme.lower() in ("http", "https"):
            case.body["url"] = HARMLESS_LINK
        response = case.call(headers=headers, timeout=30)
        case.validate_response(response, checks=[not_a_server_error])

    one()
