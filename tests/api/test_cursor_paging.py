"""Every list endpoint pages by cursor (api/pagination.py): following `X-Next-Cursor` (or the `Link` header) with a
small limit visits each item exactly once, in the list's order, also when items are added between pages; filters
hold across pages; a garbled, forged or foreign cursor is a 422 with the error envelope. The inbox (GET
/api/v1/tasks) in its order: overdue first, then by deadline (none last), then the oldest, then id, with its
counts."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.cases import tasks as task_cases
from bizportal.storage.workflow_tables import HumanTaskRow
from support.helpers import Auth, Journey

GARBLED = ["not-a-cursor!", "e30", base64.urlsafe_b64encode(b"[1,2]").decode().rstrip("="),
           base64.urlsafe_b64encode(json.dumps(["inbox", "yes", None, "x", "y"]).encode()).decode().rstrip("="),
           base64.urlsafe_b64encode(json.dumps(["elsewhere", "2026-01-01T00:00:00+00:00", "x"]).encode()).decode()]


def walk(client: TestClient, path: str, headers: dict[str, str], params: dict[str, Any],
         between: Callable[[], None] | None = None) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every page of a list, following each page's `Link: <...>; rel="next"` (which carries `X-Next-Cursor`):
    the items, and each page's response."""
    items: list[dict[str, Any]] = []
    pages: list[Any] = []
    response = client.get(path, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        items += response.json()
        pages.append(response)
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            assert "link" not in response.headers
            return items, pages
        link = response.headers["link"]
        assert link.startswith(f"<{path}?")  # relative to the request: right behind a proxy
        assert link.endswith(f'cursor={cursor}>; rel="next"') and "offset=" not in link
        if between:
            between()
        response = client.get(link[1:link.index(">")], headers=headers)


def _inbox_key(task: dict[str, Any]) -> tuple[Any, ...]:
    return (not task["overdue"], task["due_at"] is None, task["due_at"] or "", task["opened_at"], task["id"])


def test_the_inbox_pages_in_its_order_with_its_counts(client: TestClient, journey: Journey,
                                                      engine: LicensingEngine, clock: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(6):
        journey.create()
        journey.submit()
        clock.advance(minutes=30)
    everything = client.get("/api/v1/tasks", headers=journey.officer).json()
    assert len(everything) == 6
    # Every part of the order, and ties that only the later keys decide.
    ids = [t["id"] for t in everything]
    with Session(engine.db) as session:
        tasks = {task_id: session.get(HumanTaskRow, task_id) for task_id in ids}
        tasks[ids[0]].due_at = None  # type: ignore[union-attr]
        tasks[ids[1]].overdue = True  # type: ignore[union-attr]
        tasks[ids[2]].overdue, tasks[ids[2]].due_at = True, None  # type: ignore[union-attr]
        tasks[ids[4]].due_at = tasks[ids[3]].due_at  # type: ignore[union-attr]
        tasks[ids[4]].opened_at = tasks[ids[3]].opened_at  # type: ignore[union-attr]
        # The agency's own tasks (no office) are the officer's too, and read as a range of their own: the pages
        # merge both ranges, also where only the id decides between them (ids[3] and ids[4]).
        for agency_wide in (ids[2], ids[3], ids[5]):
            tasks[agency_wide].office = None  # type: ignore[union-attr]
        session.commit()
    ordered = client.get("/api/v1/tasks", headers=journey.officer).json()
    assert [t["id"] for t in ordered] == [t["id"] for t in sorted(ordered, key=_inbox_key)]
    assert ordered[0]["id"] == ids[1] and ordered[1]["id"] == ids[2] and ordered[-1]["id"] == ids[0]

    def another() -> None:
        journey.create()
        journey.submit()

    seen, pages = walk(client, "/api/v1/tasks", journey.officer, {"limit": 2}, another)
    seen_ids = [t["id"] for t in seen]
    assert len(seen_ids) == len(set(seen_ids)) and set(ids) <= set(seen_ids)  # each once, none skipped
    assert seen_ids == [t["id"] for t in sorted(seen, key=_inbox_key)]  # in order, the new ones where they belong
    assert pages[0].headers["x-total-count"] == "6" and pages[0].headers["x-overdue-count"] == "2"
    assert pages[-1].headers["x-total-count"] == str(6 + len(pages) - 1)

    late, late_pages = walk(client, "/api/v1/tasks", journey.officer, {"limit": 1, "overdue": "true"})
    assert [t["id"] for t in late] == [ids[1], ids[2]] and late_pages[0].headers["x-total-count"] == "2"
    assert "overdue=true" in late_pages[0].headers["link"]  # the next page keeps the filter
    on_time, _ = walk(client, "/api/v1/tasks", journey.officer, {"limit": 3, "overdue": "false",
                                                                 "step": "document_check"})
    now = client.get("/api/v1/tasks", headers=journey.officer).json()
    assert [t["id"] for t in on_time] == [t["id"] for t in now if not t["overdue"]]
    # A number filter reads its tasks in one query (not part by part): the same order, and its cursors carry on.
    by_number, _ = walk(client, "/api/v1/tasks", journey.officer,
                        {"limit": 1, "number": now[0]["tracking_number"][:4].lower()})
    assert [t["id"] for t in by_number] == [t["id"] for t in now]
    number = journey.view()["tracking_number"]
    (found,) = client.get("/api/v1/tasks", params={"number": number.lower()}, headers=journey.officer).json()
    assert found["tracking_number"] == number
    monkeypatch.setattr(task_cases, "COUNT_CAP", 3)  # counting stops past the cap: "3+"
    capped = client.get("/api/v1/tasks", params={"limit": 1}, headers=journey.officer)
    assert capped.headers["x-total-count"] == "3+" and capped.headers["x-overdue-count"] == "2"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("path", ["/api/v1/tasks", "/api/v1/applications", "/api/v1/consents", "/api/v1/register",
                                  "/api/v1/staff", "/api/v1/incidents", "/api/v1/escalations", "/api/v1/licences",
                                  "/api/v1/business-types", "/api/v1/applications/x/notifications",
                                  "/api/v1/applications/x/receipts", "/api/v1/applications/x/refunds",
                                  "/api/v1/applications/x/documents",
                                  "/api/v1/companies/0105536000000/representatives"])
def test_a_bad_cursor_is_a_422_with_the_error_envelope(client: TestClient, auth: Auth, journey: Journey,
                                                       path: str) -> None:
    if "/x/" in path:
        path = path.replace("/x/", f"/{journey.create()['id']}/")
    for cursor in GARBLED:
        response = client.get(path, params={"cursor": cursor}, headers=auth("admin", "root"))
        assert response.status_code == 422, (cursor, response.text)
        error = response.json()["error"]
        assert error["code"] == "InvalidInput" and "cursor" in error["message"], error
    assert client.get(path, params={"cursor": "x" * 1001}, headers=auth("admin", "root")).status_code == 422


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cursor_and_offset_together_are_refused(client: TestClient, auth: Auth) -> None:
    admin = auth("admin", "root")
    for subject in ("one", "two"):
        added = client.post("/api/v1/staff", headers=admin, json={"issuer": "https://idp.test", "subject": subject,
                                                                  "role": "agency_officer", "agency": "LAO"})
        assert added.status_code == 201, added.text
    first = client.get("/api/v1/staff", params={"limit": 1}, headers=admin)
    both = client.get("/api/v1/staff", params={"cursor": first.headers["x-next-cursor"], "offset": 1}, headers=admin)
    assert both.status_code == 422 and "not both" in both.json()["error"]["message"]


def test_the_staff_register_pages_with_additions_between_pages(client: TestClient, auth: Auth, clock: Any) -> None:
    admin = auth("admin", "root")

    def add(subject: str) -> None:
        added = client.post("/api/v1/staff", headers=admin, json={"issuer": "https://idp.test", "subject": subject,
                                                                  "role": "agency_officer", "agency": "LAO"})
        assert added.status_code == 201, added.text

    for n in range(5):
        add(f"officer-{n}")  # the same time for all: the id decides
    before = client.get("/api/v1/staff", headers=admin).json()
    added: list[str] = []

    def between() -> None:
        clock.advance(minutes=1)
        added.append(f"late-{len(added)}")
        add(added[-1])

    seen, _ = walk(client, "/api/v1/staff", admin, {"limit": 2, "active": "true"}, between)
    assert [m["id"] for m in seen][:len(before)] == [m["id"] for m in before]
    assert [m["subject"] for m in seen][len(before):] == added[:len(seen) - len(before)]
    assert len({m["id"] for m in seen}) == len(seen)
    old, _ = walk(client, "/api/v1/staff", admin, {"offset": 1, "limit": 2})  # the deprecated offset still works
    assert [m["id"] for m in old] == [m["id"] for m in client.get("/api/v1/staff", headers=admin).json()][1:]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_other_lists_page_the_same(client: TestClient, journey: Journey, auth: Auth, clock: Any) -> None:
    admin = auth("admin", "root")
    for _ in range(3):
        journey.create()
        clock.advance(seconds=1)
    journey.submit()
    mine, pages = walk(client, "/api/v1/applications", journey.applicant, {"limit": 2})
    assert [a["id"] for a in mine] == [a["id"] for a in client.get("/api/v1/applications",
                                                                   headers=journey.applicant).json()]
    assert len(mine) == 3 and len(pages) == 2 and mine[0]["created_at"] >= mine[-1]["created_at"]
    for path in ("/api/v1/licences", "/api/v1/business-types", f"/api/v1/applications/{journey.id}/documents",
                 f"/api/v1/applications/{journey.id}/notifications"):
        whole = client.get(path, headers=admin).json()
        paged, _ = walk(client, path, admin, {"limit": 2})
        assert paged == whole and (whole or path.endswith("notifications")), path
    licences, _ = walk(client, "/api/v1/licences", admin, {"limit": 7})
    assert [lic["code"] for lic in licences] == sorted(lic["code"] for lic in licences)
    assert client.get("/api/v1/applications", params={"limit": 501}, headers=journey.applicant).status_code == 422


def test_keyset_order_is_stable_when_times_tie(client: TestClient, journey: Journey) -> None:
    """Applications created in the same instant still page once each: the id breaks the tie."""
    for _ in range(4):
        journey.create()
    seen, _ = walk(client, "/api/v1/applications", journey.applicant, {"limit": 1})
    assert len({a["id"] for a in seen}) == 4 == len(seen)
    assert [a["id"] for a in seen] == sorted((a["id"] for a in seen), reverse=True)
