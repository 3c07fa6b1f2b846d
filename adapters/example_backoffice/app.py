"""An example agency back-office: the smallest system an agency could run against the `webhook` adapter.

It receives Biz Portal's signed task POSTs (`POST /tasks`; a bad signature or stale timestamp gets 401),
records them, and answers each with a signed `CallbackDecision` POSTed to
`{BIZPORTAL_URL}/api/v1/agencies/{AGENCY}/callbacks` in the background, after it has answered 202.
`decide` chooses the answer; returning None leaves the task for an officer, who decides it with
`POST /tasks/{task_id}/decision` (this example has no login of its own: keep it on a private network).

Run it with `python -m bizportal.adapters.example_backoffice.app`, configured by environment variables:

    BACKOFFICE_AGENCY                 the agency code it serves, e.g. DLD (required)
    BACKOFFICE_SECRET                 the shared secret, the same as Biz Portal's `secret` for the agency (required)
    BACKOFFICE_BIZPORTAL_URL          Biz Portal's base URL (default http://127.0.0.1:8000)
    BACKOFFICE_DECISION               `approve` (default): approve every step at once; `manual`: wait for an officer
    BACKOFFICE_OFFICER                the officer named on automatic decisions (default backoffice)
    BACKOFFICE_HOST, BACKOFFICE_PORT  where it listens (default 127.0.0.1, 8100)
    BACKOFFICE_REPLAY_WINDOW_SECONDS  how old a signed request may be (default 300)

and point Biz Portal at it:

    BIZPORTAL_AGENCY_ADAPTERS='{"DLD": {"adapter": "webhook", "url": "http://127.0.0.1:8100/tasks", "secret": "...",
                                        "allow_http_loopback": true}}'

(plain http to a loopback address is for development on one machine; anywhere else the url is https).
Tasks arrive signed for the `dispatch` direction and decisions go back signed for `callback`, so neither
side accepts the other's messages as its own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from bizportal.adapters.agencies.base import CallbackDecision, InvalidCallback, TaskDispatch
from bizportal.adapters.agencies.webhook import CALLBACK, DISPATCH, IDEMPOTENCY_HEADER, signed_headers, verify

log = logging.getLogger(__name__)

# (action, comment) or (action, comment, fee_satang); None leaves the task for an officer.
Decision = tuple[str, str] | tuple[str, str, int | None]
Decide = Callable[[dict[str, Any]], Decision | None]
CALLBACK_ATTEMPTS = 5


def approve_everything(task: dict[str, Any]) -> Decision:
    """Approve (or complete) every step; where approving sets the fee, at its minimum."""
    action = "approve" if "approve" in task["actions"] else task["actions"][0]
    fee = task["sets_fee"]["min_satang"] if task.get("sets_fee") and action == "approve" else None
    return action, "", fee


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: the signature covers these bytes."""
    return await request.body()


class OfficerDecision(BaseModel):
    action: str
    comment: str = ""
    fee_satang: int | None = Field(default=None, ge=0)
    documents: list[str] | None = Field(default=None, max_length=50, description="with request_documents: which")
    officer: str = Field(default="officer", min_length=1)


class BackOffice:
    """The tasks received and the answers sent (in memory: an example, not a records system)."""

    def __init__(self, bizportal_base_url: str, agency_code: str, secret: str, decide: Decide, officer: str,
                 replay_window_seconds: int, clock: Callable[[], datetime], http: httpx.Client) -> None:
        self.callback_url = f"{bizportal_base_url.rstrip('/')}/api/v1/agencies/{agency_code}/callbacks"
        self.agency, self.secret, self.decide, self.officer = agency_code, secret, decide, officer
        self.replay_window_seconds, self.clock, self.http = replay_window_seconds, clock, http
        self.tasks: dict[str, dict[str, Any]] = {}  # task id -> the dispatch and what happened to it
        self.deliveries: set[str] = set()
        self.sent: list[tuple[dict[str, str], bytes]] = []  # every signed callback, as sent
        self.lock = threading.Lock()

    def receive(self, headers: dict[str, str], body: bytes) -> tuple[dict[str, Any], bool]:
        """Verify and record a task; returns it and whether it is new (a retried delivery is not)."""
        verify(self.secret, headers, body, self.clock(), self.replay_window_seconds, direction=DISPATCH)
        task = TaskDispatch.model_validate_json(body).model_dump(mode="json")
        delivery_id = headers.get(IDEMPOTENCY_HEADER.lower(), task["delivery_id"])
        with self.lock:
            if delivery_id in self.deliveries or task["task_id"] in self.tasks:
                return self.tasks[task["task_id"]], False
            self.deliveries.add(delivery_id)
            record = {"task": task, "reference": f"{self.agency}-{len(self.tasks) + 1}", "state": "received",
                      "answer": None}
            self.tasks[task["task_id"]] = record
        return record, True

    def answer(self, task_id: str, action: str, comment: str, fee_satang: int | None, officer: str,
               documents: list[str] | None = None) -> None:
        """POST the signed decision to Biz Portal, retrying with back-off while it is unreachable or failing."""
        decision = CallbackDecision(callback_id=f"{self.agency}:{task_id}:{action}", task_id=task_id, action=action,
                                    comment=comment, fee_satang=fee_satang, documents=documents, officer=officer)
        body = decision.model_dump_json().encode()
        record = self.tasks[task_id]
        for attempt in range(CALLBACK_ATTEMPTS):
            headers = signed_headers(self.secret, int(self.clock().timestamp()), body, direction=CALLBACK)
            self.sent.append((headers, body))
            try:
                response = self.http.post(self.callback_url, content=body, headers=headers)
            except httpx.TransportError as err:
                record["answer"] = {"status": None, "error": str(err)}
            else:
                record["answer"] = {"status": response.status_code, "body": response.json()
                                    if response.headers.get("content-type", "").startswith("application/json")
                                    else response.text}
                if response.status_code < 500:
                    record["state"] = "answered" if response.is_success else "refused"
                    return
            if attempt + 1 < CALLBACK_ATTEMPTS:
                time.sleep(0.2 * 2 ** attempt)
        record["state"] = "unanswered"
        log.error("gave up answering task %s: %s", task_id, record["answer"])


def create_backoffice(bizportal_base_url: str, agency_code: str, secret: str, decide: Decide = approve_everything,
                      *, officer: str = "backoffice", replay_window_seconds: int = 300,
                      clock: Callable[[], datetime] | None = None, http: httpx.Client | None = None) -> FastAPI:
    """Build the back-office app.

    Args:
        bizportal_base_url: where Biz Portal runs; decisions go to its agency callback endpoint.
        agency_code: the agency this back-office serves (the path segment of the callback URL).
        secret: the secret shared with Biz Portal's `webhook` adapter for this agency.
        decide: the answer to a task (its dispatch as JSON); None leaves it for `POST /tasks/{id}/decision`.
        officer: who automatic decisions are reported as.
        replay_window_seconds: how far a signed request's timestamp may be from `clock()`.
        clock: the back-office's time (default: the system clock); Biz Portal checks callbacks against its own.
        http: the client for callbacks (default: a new one, closed on shutdown).
    """
    own_http = http is None
    office = BackOffice(bizportal_base_url, agency_code, secret, decide, officer, replay_window_seconds,
                        clock or (lambda: datetime.now(UTC)), http or httpx.Client(timeout=10))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if own_http:
            office.http.close()

    app = FastAPI(title=f"Example back-office of {agency_code}", lifespan=lifespan)
    app.state.backoffice = office

    @app.post("/tasks", status_code=202, summary="Biz Portal delivers a step (signed TaskDispatch)")
    def receive_task(body: Annotated[bytes, Depends(raw_body)], request: Request,
                     background: BackgroundTasks) -> dict[str, Any]:
        try:
            record, new = office.receive(dict(request.headers), body)
        except InvalidCallback as err:
            raise HTTPException(401, str(err)) from err
        if new:
            decision = office.decide(record["task"])
            if decision is not None:
                action, comment, *fee = decision
                background.add_task(office.answer, record["task"]["task_id"], action, comment,
                                    fee[0] if fee else None, office.officer)
        return {"reference": record["reference"], "duplicate": not new}

    @app.get("/tasks", summary="What was received and how each was answered")
    def list_tasks() -> list[dict[str, Any]]:
        return list(office.tasks.values())

    @app.post("/tasks/{task_id}/decision", status_code=202, summary="An officer decides a waiting task")
    def decide_task(task_id: str, decision: OfficerDecision, background: BackgroundTasks) -> dict[str, str]:
        if task_id not in office.tasks:
            raise HTTPException(404, f"task {task_id} was not received here")
        background.add_task(office.answer, task_id, decision.action, decision.comment, decision.fee_satang,
                            decision.officer, decision.documents)
        return {"task_id": task_id, "state": "answering"}

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok", "agency": agency_code}

    return app


def main() -> None:
    import uvicorn

    try:
        agency, secret = os.environ["BACKOFFICE_AGENCY"], os.environ["BACKOFFICE_SECRET"]
    except KeyError as missing:
        raise SystemExit(f"set {missing.args[0]} (see the module docstring)") from None
    mode = os.environ.get("BACKOFFICE_DECISION", "approve")
    if mode not in ("approve", "manual"):
        raise SystemExit("BACKOFFICE_DECISION is `approve` or `manual`")
    app = create_backoffice(os.environ.get("BACKOFFICE_BIZPORTAL_URL", "http://127.0.0.1:8000"), agency, secret,
                            approve_everything if mode == "approve" else (lambda task: None),
                            officer=os.environ.get("BACKOFFICE_OFFICER", "backoffice"),
                            replay_window_seconds=int(os.environ.get("BACKOFFICE_REPLAY_WINDOW_SECONDS", "300")))
    uvicorn.run(app, host=os.environ.get("BACKOFFICE_HOST", "127.0.0.1"),
                port=int(os.environ.get("BACKOFFICE_PORT", "8100")))


if __name__ == "__main__":
    main()
