"""Schemathesis against Adobe's Marketo OpenAPI documents, for every operation the sandbox emulates.

Requests are generated from the documents (their examples, then Hypothesis data), not written here;
each reply must not be a 5xx and must match the operation's 200-response schema. Where Adobe's live API
knowingly answers outside its own documents, the run tolerates exactly what :mod:`provisioner.sandbox.
marketo.contract` documents (a skipped record carries only ``status`` and ``reasons``/``errors``; properties
may be null; failure envelopes carry ``requestId``/``success``/``errors`` only, as Adobe's error-code page
shows them) and counts those replies apart. A stateful run follows the links Schemathesis infers between
the emulated operations (the documents declare none). Examples per operation are bounded and derandomized:
the run is reproducible and takes seconds.
"""

from __future__ import annotations

import collections
import functools
from typing import Any, Iterator

import jsonschema
import pytest

from provisioner.http import make_session
from provisioner.sandbox.httpserver import SandboxServer
from provisioner.sandbox.marketo import contract
from provisioner.sandbox.marketo.app import MarketoConfig
from provisioner.sandbox.marketo.routes import ROUTES

from .support import Api, serving

EXAMPLES = 4
EMULATED = frozenset((r.method, r.path) for r in ROUTES)
#: What a failure envelope is on the live API (Adobe's error-code page): no result, no warnings needed.
FAILURE_ENVELOPE = {"type": "object", "required": ["requestId", "success", "errors"], "properties": {
    "requestId": {"type": "string"}, "success": {"const": False},
    "errors": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}}
#: The operations, as Schemathesis labels them: the sandbox's routes (that each is an operation of the documents
#: is a test below). Not read from the documents, so collecting this module imports neither Schemathesis nor
#: Hypothesis (~2-4 s of CPU in every pytest-xdist worker): they are imported when a test here runs.
LABELS = sorted(f"{method} {path}" for method, path in EMULATED)
#: Replies per operation: strict (the document's own schema), tolerated (see the module docstring),
#: failures (a valid failure envelope or HTTP 4xx), and the total.
TALLY: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)


def fast() -> Any:
    """Bounded, derandomized Hypothesis settings: the run is reproducible and takes seconds."""
    from hypothesis import HealthCheck, Phase, settings

    return settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@functools.lru_cache(maxsize=1)
def schemas() -> list[Any]:
    """The documents (identity, lead database, asset), each narrowed to the operations the sandbox serves."""
    import schemathesis

    return [schemathesis.openapi.from_dict(spec).include(
        lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in EMULATED) for spec in contract.load_specs()]


@functools.lru_cache(maxsize=1)
def operations() -> dict[str, Any]:
    """Every operation of the documents that the sandbox serves, by label."""
    return {op.label: op for schema in schemas() for op in (r.ok() for r in schema.get_all_operations())}


@pytest.fixture(scope="module")
def server(tls) -> Iterator[SandboxServer]:
    # limits out of the way: the run is about shapes, not throttling (which has its own tests)
    with serving(tls, MarketoConfig(rate_limit_calls=10**6, daily_quota=10**7, max_concurrent=100)) as running:
        yield running


@pytest.fixture(scope="module")
def call_kwargs(server: SandboxServer, tls) -> dict[str, Any]:
    """How every generated request is sent: real HTTPS to the sandbox with a bearer token in the header."""
    return {"base_url": server.base_url, "session": make_session(str(tls.ca_cert)), "verify": str(tls.ca_cert),
            "headers": {"Authorization": f"Bearer {Api(server, tls).token()}"}}


def check(case: Any, response: Any) -> None:
    """No 5xx, and the reply matches the operation's documented 200 response (or a documented failure)."""
    label = case.operation.label
    TALLY[label]["total"] += 1
    assert response.status_code < 500, f"{label}: HTTP {response.status_code} {response.text[:300]}"
    if response.status_code != 200:  # 401 from identity, 413/414 for oversize requests: documented HTTP errors
        assert response.status_code in (400, 401, 413, 414), f"{label}: HTTP {response.status_code}"
        TALLY[label]["failures"] += 1
        return
    content_type = response.headers.get("content-type") or [""]  # schemathesis keeps header values as lists
    if not str(content_type[0] if isinstance(content_type, list) else content_type).startswith("application/json"):
        # bulk failures/warnings files are CSV; the documents type them as an untyped object
        assert contract.response_schema(case.method, case.path) == {}, (label, response.headers, response.text[:200])
        TALLY[label]["strict"] += 1
        return
    data = response.json()
    if isinstance(data, dict) and data.get("success") is False:
        jsonschema.validate(data, FAILURE_ENVELOPE)
        TALLY[label]["failures"] += 1
        return
    from schemathesis.specs.openapi.checks import response_schema_conformance

    try:
        case.validate_response(response, checks=[response_schema_conformance])
        TALLY[label]["strict"] += 1
    except BaseException:  # a schema violation: allowed only where the live API knowingly differs
        contract.check_response(case.method, case.path, data)
        TALLY[label]["tolerated"] += 1


@pytest.mark.parametrize("label", LABELS)
def test_generated_requests_get_no_5xx_and_documented_replies(label: str, call_kwargs: dict[str, Any]) -> None:
    from hypothesis import given

    operation = operations()[label]

    @fast()
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        check(case, case.call(**call_kwargs))

    run()
    assert TALLY[label]["total"] >= 1


@pytest.mark.parametrize("index", [1, 2], ids=["lead-database", "asset"])
def test_stateful_sequences_along_inferred_links(index: int, call_kwargs: dict[str, Any]) -> None:
    """Create-then-use sequences (a program created, then read, cloned, updated, deleted; a lead synced,
    then its member status set), following the links Schemathesis infers between the emulated operations."""
    from hypothesis import settings

    base = schemas()[index].as_state_machine()

    class Sequences(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return call_kwargs

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            check(case, response)

    Sequences.run(settings=settings(fast(), max_examples=4, stateful_step_count=4))


def test_every_emulated_operation_is_a_documented_one() -> None:
    """Every route of the sandbox is an operation of Adobe's documents, so each gets generated requests above
    (each of those tests asserts its own requests were made, answered without 5xx and as documented; the
    figures print when the module ran in full, in whatever order: see :func:`_figures`)."""
    assert set(operations()) == set(LABELS)


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    """After the module's tests, whatever their order: the run's figures, which must add up."""
    yield
    totals = sum(TALLY.values(), collections.Counter())
    assert totals["total"] == totals["strict"] + totals["tolerated"] + totals["failures"]
    ran = [label for label in LABELS if TALLY[label]["total"]]
    print(f"\nschemathesis: {len(ran)} of {len(LABELS)} operations, {totals['total']} requests: "
          f"{totals['strict']} valid against the documents, {totals['tolerated']} with a documented live-API "
          f"difference, {totals['failures']} Marketo failure replies; 0 x 5xx, 0 schema violations")
