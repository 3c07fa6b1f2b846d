"""Every error has the documented body `{"error": {code, message, hint, details}}`, also those that Starlette
and FastAPI answer themselves (security review L9): an unreadable body, an unknown path, a wrong method, a bug."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bizportal.api.errors import ErrorBody
from support.helpers import Auth

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no database is involved


def _envelope(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}, body
    ErrorBody.model_validate(body)
    return body["error"]


def test_an_unreadable_body_is_a_400_in_the_envelope(client: TestClient, auth: Auth) -> None:
    response = client.post("/api/v1/applications", content=b'{"licences": ["\xff"]}',
                           headers={**auth("applicant", "alice"), "Content-Type": "application/json"})
    assert response.status_code == 400
    error = _envelope(response)
    assert error["code"] == "BadRequest" and "parsing" not in str(error["message"])


def test_an_unknown_path_is_a_404_in_the_envelope(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert _envelope(response)["code"] == "NotFound"


def test_a_wrong_method_is_a_405_in_the_envelope_that_names_the_allowed_ones(client: TestClient) -> None:
    response = client.delete("/api/v1/licences")
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert _envelope(response)["code"] == "MethodNotAllowed"


def test_a_bug_is_a_500_in_the_envelope_that_tells_nothing_internal(client: TestClient) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals")

    client.app.add_api_route("/boom", broken)  # type: ignore[attr-defined]
    with TestClient(client.app, raise_server_exceptions=False) as quiet:
        response = quiet.get("/boom")
    assert response.status_code == 500
    error = _envelope(response)
    assert error["code"] == "InternalError" and "secret" not in response.text


def test_a_database_that_cannot_be_reached_is_a_503_to_retry(client: TestClient, auth: Auth) -> None:
    # The database restarting (the fault suite restarts PostgreSQL under load: tests/chaos) is not a bug.
    from bizportal.storage.database import make_engine

    engine = client.app.state.engine  # type: ignore[attr-defined]
    working = engine.db
    engine.db = make_engine("postgresql://postgres@127.0.0.1:1/nothing_listens_here")
    try:
        with TestClient(client.app, raise_server_exceptions=False) as quiet:
            response = quiet.get("/api/v1/applications", headers=auth("applicant", "alice"))
    finally:
        engine.db.dispose()
        engine.db = working
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    error = _envelope(response)
    assert error["code"] == "Unavailable" and "database" in str(error["message"])
    assert "127.0.0.1" not in response.text  # nothing of the connection's details
