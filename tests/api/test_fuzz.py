"""Fuzz every operation of the OpenAPI schema (schemathesis, in-process ASGI): no 5xx, 4xx say why.

Schemathesis generates the cases (valid and invalid, from the schema) and Hypothesis runs them;
`schemathesis.pytest.from_fixture` is not used because it breaks on pytest 9.2 (`Function._nodeid`).
Totals are printed at the end of the module ("fuzz: N cases, ... 5xx") for quoting.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
from collections import Counter
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from api.app import create_app
from fakes import FakeEncoder
from index.builder import build_index
from index.settings import Settings
from index.tokenize import tokenizer_from

TOKEN = "secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WRITES = {"POST /articles", "DELETE /articles/{article_id}"}
MAX_EXAMPLES = 30
CASES: Counter[str] = Counter()  # cases, requests, as writer, by status -> count, over the whole module


def schema_cases() -> list[tuple[str, GenerationMode]]:
    """('METHOD /path', mode) for every documented operation: valid input always, invalid input where
    the operation takes a query or a body (an unconstrained path id cannot be made invalid)."""
    app = create_app(Settings(index_dir=Path("/nonexistent"), write_token=TOKEN), encoder=FakeEncoder())
    cases = []
    for path, methods in app.openapi()["paths"].items():
        for method, spec in methods.items():
            label = f"{method.upper()} {path}"
            cases.append((label, GenerationMode.POSITIVE))
            if "requestBody" in spec or any(p["in"] == "query" for p in spec.get("parameters", [])):
                cases.append((label, GenerationMode.NEGATIVE))
    return cases


def error_has_message(ctx, response, case) -> bool | None:
    """Every 4xx is a JSON object with an "error" and a non-empty "message"."""
    if 400 <= response.status_code < 500:
        try:
            body = json.loads(response.content)
        except ValueError as err:
            raise AssertionError(f"{response.status_code} body is not JSON: {response.content[:200]!r}") from err
        assert isinstance(body, dict) and body.get("error"), f"{response.status_code} body has no 'error': {body!r}"
        message = body.get("message")
        assert isinstance(message, str) and message.strip(), f"{response.status_code} body has no 'message': {body!r}"
    return None


CHECKS = [not_a_server_error, error_has_message]


@pytest.fixture
def api_schema(settings, tiny_articles, fake_encoder):
    """The schema of the app over the tiny index (fake encoder, writes on); schemathesis runs its lifespan."""
    config = settings.model_copy(update={"write_token": TOKEN})
    build_index(config.index_dir, tiny_articles, tokenizer_from(config), fake_encoder, ["tiny"], quiet=True)
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(config, encoder=fake_encoder))


@pytest.fixture(scope="module", autouse=True)
def report_counts(pytestconfig):
    """Print the totals once, even when output is captured."""
    CASES.clear()
    yield
    statuses = ", ".join(f"{key}: {n}" for key, n in sorted(CASES.items()) if key.isdigit())
    fivexx = CASES["raised"] + sum(n for key, n in CASES.items() if key.isdigit() and key.startswith("5"))
    line = (f"fuzz: {CASES['cases']} cases, {CASES['requests']} requests ({CASES['as writer']} with the write "
            f"token), {fivexx} 5xx; statuses {statuses}")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n{line}", flush=True)


def call_and_check(case, headers: dict[str, str] | None = None) -> None:
    CASES["requests"] += 1
    try:
        response = case.call(headers=headers)
    except Exception:  # the app raised: the client got a 500
        CASES["raised"] += 1
        raise
    CASES[str(response.status_code)] += 1
    case.validate_response(response, checks=CHECKS, headers=headers)


@pytest.mark.parametrize("label,mode", schema_cases(), ids=lambda v: getattr(v, "value", v))
def test_api_never_fails_and_explains_4xx(api_schema, label, mode):
    method, path = label.split(" ", 1)
    operation = api_schema[path][method]

    @hypothesis.given(case=operation.as_strategy(mode))
    @hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
    def fuzz(case) -> None:
        CASES["cases"] += 1
        call_and_check(case)
        if label in WRITES:  # the same case again, as the writer
            # Hypothesis seeds the global `random` alike for every example, and Whoosh names new
            # segments with it: without a fresh seed every write would reuse the last segment's name.
            random.seed(os.urandom(16))
            CASES["as writer"] += 1
            call_and_check(case, {**(case.headers or {}), **AUTH})

    fuzz()
