"""The OpenAPI document is a contract, checked by schemathesis against the running app (issue 9 §4).

A bounded, deterministic run: every operation gets schema-valid and schema-violating requests, each sent by
a signed-in user of every role and by an anonymous caller, half of them aimed at real objects (a seeded
application with an open task, an issued licence, its invoice and receipt). No request may answer a 5xx, and
every status an operation answers must be declared for it in the OpenAPI document with its body's model
(for errors, the one `{"error": {code, message, hint, details}}` envelope of api/errors.py).

It runs in-process on SQLite (schemathesis' ASGI transport) and is kept well under a minute; set
CONTRACT_MAX_EXAMPLES for a deeper search. Hypothesis runs derandomized, without its example database, so CI
sends the same requests on every run.
"""

from __future__ import annotations

import os
import re
import traceback
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err

from bizportal.api.errors import with_error_responses
from bizportal.api.settings import Settings
from support.helpers import OFFICE, VALID_IDS, Auth, Journey

# Examples per operation and generation mode: ~20 s of CPU at 6. Search deeper locally with, e.g.,
# CONTRACT_MAX_EXAMPLES=100 .venv/bin/pytest tests/api/test_openapi_contract.py
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS: dict[str, tuple[Any, ...] | None] = {
    "applicant": ("applicant", "alice"),
    "agency_officer": ("agency_officer", "olivia", "LAO", OFFICE),
    "agency_supervisor": ("agency_supervisor", "sue", "LAO", OFFICE),
    "counter_officer": ("counter_officer", "carl"),
    "admin": ("admin", "root"),
    "anonymous": None,
}
RUN = hypothesis_settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
               phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The run sends far more requests from one address than anyone would: rate limits stay out of its way
    (429 is declared for every operation; tests/api/test_rate_limits.py tests the limits)."""
    return settings.model_copy(update={"rate_limit_verify_uploads": "100000/minute",
                                       "rate_limit_lookups": "100000/minute",
                                       # a bearer token sent to a signed callback that is refused counts too
                                       "rate_limit_auth_failures": "100000/minute"})


def _seed(client: TestClient, journey: Journey) -> dict[str, str]:
    """Real objects for path parameters: an issued licence (with its paid invoice, its receipt and a download
    link), and a submitted application with an open task."""
    issued = Journey(client, journey.applicant, journey.officer, journey.counter)
    issued.create()
    issued.submit()
    issued.approve_everything(journey.officer)
    licence_number = next(item["licence_number"] for item in issued.view()["licences"] if item.get("licence_number"))
    (receipt,) = client.get(f"/api/v1/applications/{issued.id}/receipts", headers=journey.applicant).json()
    link = client.post(f"/api/v1/issued-licences/{licence_number}/download-link", headers=journey.applicant).json()

    journey.create()
    journey.submit()
    task = journey.open_tasks(journey.officer)[0]
    return {"application_id": journey.id, "task_id": task["id"], "invoice_id": issued.view()["invoices"][0]["id"],
            "licence_number": licence_number, "receipt_number": receipt["number"],
            "token": link["url"].rsplit("/", 1)[1], "licence_code": "food_premises_notice_small",
            "business_type": "restaurant", "agency": "LAO", "provider": "promptpay"}


def _real_path_parameters(path: str, names: list[str], seeded: dict[str, str]) -> dict[str, str]:
    by_name = {"application_id": seeded["application_id"], "task_id": seeded["task_id"],
               "invoice_id": seeded["invoice_id"], "token": seeded["token"],
               "provider": seeded["provider"],
               "number": seeded["receipt_number"] if path.startswith("/api/v1/receipts") else seeded["licence_number"],
               "code": {"/api/v1/licences": seeded["licence_code"], "/api/v1/business-types": seeded["business_type"],
                        "/api/v1/agencies": seeded["agency"]}.get(path.rsplit("/{code}", 1)[0], "")}
    return {name: by_name[name] for name in names if by_name.get(name)}


def _problems(case: Any, headers: dict[str, str]) -> list[tuple[str, str]]:
    """Send one request and run the checks: each problem as (what went wrong, how to send it again)."""
    try:
        response = case.call(headers=headers)
    except Exception as err:  # the app raised: its client got a 500
        where = traceback.extract_tb(err.__traceback__)[-1]
        return [(f"500 from {type(err).__name__}: {str(err)[:200]} ({where.filename.rsplit('/', 1)[-1]}:"
                 f"{where.lineno})", case.as_curl_command())]
    try:
        case.validate_response(response, checks=CHECKS)
    except BaseException as err:  # a Failure, or a FailureGroup of them
        failures = err.exceptions if isinstance(err, BaseExceptionGroup) else (err,)
        return [(f"{response.status_code} {getattr(failure, 'title', failure)}: "
                 f"{' '.join(getattr(failure, 'message', '').split())[:300]}", case.as_curl_command())
                for failure in failures]
    return []


def _explore(strategy: st.SearchStrategy[Any], label: str, callers: dict[str, dict[str, str]],
             senders: st.SearchStrategy[list[str]], found: dict[str, tuple[set[str], str]]) -> None:
    """Send each generated request as the drawn callers; record each distinct problem once."""

    @RUN
    @given(case=strategy, chosen=senders)
    def run(case: Any, chosen: list[str]) -> None:
        for caller in chosen:
            for problem, curl in _problems(case, callers[caller]):
                found.setdefault(f"{label}: {problem}", (set(), curl))[0].add(caller)

    run()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_operation_answers_as_its_openapi_says(client: TestClient, journey: Journey, auth: Auth) -> None:
    seeded = _seed(client, journey)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    callers = {caller: auth(*claims) if claims else {} for caller, claims in CALLERS.items()}
    found: dict[str, tuple[set[str], str]] = {}  # problem -> (who met it, the first request that showed it)
    # A valid request goes to every caller, since each role reaches other code; an invalid one to one of them,
    # since it is refused before any role matters.
    senders = {GenerationMode.POSITIVE: st.just(list(callers)),
               GenerationMode.NEGATIVE: st.sampled_from(list(callers)).map(lambda caller: [caller])}
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        real = _real_path_parameters(operation.path, [p.name for p in operation.path_parameters], seeded)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(mode)
            if real:
                strategy = st.one_of(strategy, operation.as_strategy(mode, path_parameters=real))

            try:
                _explore(strategy, operation.label, callers, senders[mode], found)
            except Unsatisfiable:  # an operation without parameters or body has no schema-violating request
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert not found, f"{len(found)} problem(s), the first 30:\n" + "\n".join(
        f"{problem} (as {', '.join(sorted(who))})\n    {curl}" for problem, (who, curl) in list(found.items())[:30])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_document_declares_the_error_envelope(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["error"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    # The middleware may refuse any request: a NUL in the query, a spent budget, too large a head.
    assert {"422", "429", "431"} <= set(document["paths"]["/healthz"]["get"]["responses"])
    create = document["paths"]["/api/v1/applications"]["post"]["responses"]
    assert {"400", "401", "403", "409", "422"} <= set(create)
    assert create["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    id_number = document["components"]["schemas"]["ApplicantInput"]["properties"]["id_number"]
    pattern = re.compile(id_number["pattern"])
    assert all(pattern.match(number) for number in [*VALID_IDS, "1-1017-00203-39-5", "1 1017 00203 39 5"])
    assert not any(pattern.match(number) for number in ["๑๑๐๑๗๐๐๒๐๓๓๙๕", "９１０１７００２０３３９５", "9101700203395",
                                                        "110170020339", "11017002033951", "1--101700203395"])
    assert with_error_responses(document) == document  # idempotent
