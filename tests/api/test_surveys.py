"""The satisfaction survey (issue 13): the applicant rates a decided licence once; the ratings reach /kpis."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bizportal.api.page_labels import LABELS
from support.helpers import LICENCE, Auth, Journey

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_applicant_rates_a_decided_licence_once_and_the_kpis_count_it(journey: Journey, client: TestClient,
                                                                           auth: Auth) -> None:
    journey.create()
    journey.submit()
    url = f"/api/v1/applications/{journey.id}/licences/{LICENCE}/survey"
    rating = {"rating": 4, "comment": "เร็วกว่าที่คิด"}
    early = client.post(url, json=rating, headers=journey.applicant)
    assert early.status_code == 409 and "once it is decided" in early.json()["error"]["message"]
    for step in ("document_check", "consideration"):
        journey.decide(step, "approve")
    journey.pay()

    assert client.post(url, json={"rating": 6}, headers=journey.applicant).status_code == 422
    assert client.post(url, json=rating, headers=auth("applicant", "mallory")).status_code == 404
    assert client.post(url, json=rating, headers=journey.officer).status_code == 403  # not theirs to rate
    assert client.get(url, headers=journey.applicant).status_code == 404  # not rated yet
    rated = client.post(url, json=rating, headers=journey.applicant)
    assert rated.status_code == 201, rated.text
    assert rated.json()["rating"] == 4 and client.get(url, headers=journey.applicant).json() == rated.json()
    assert client.post(url, json={"rating": 1}, headers=journey.applicant).status_code == 409  # once
    missing = f"/api/v1/applications/{journey.id}/licences/no_such_licence/survey"
    assert client.post(missing, json=rating, headers=journey.applicant).status_code == 404

    report = client.get("/api/v1/kpis", headers=journey.officer).json()
    (row,) = [r for r in report["licences"] if r["code"] == LICENCE]
    (lao,) = [r for r in report["agencies"] if r["code"] == "LAO"]
    assert (row["ratings"], row["satisfaction"]) == (lao["ratings"], lao["satisfaction"]) == (1, 4.0)
    page = client.get("/kpis?lang=en").text  # the public page shows it: overall, per agency, per licence
    assert page.count(LABELS["en"]["kpis_rating"] % ("4", 1)) == 2
    assert LABELS["en"]["kpis_satisfaction_figure"] % 1 in page
    assert any(e["event"] == "survey.answered" for e in journey.view()["timeline"])
