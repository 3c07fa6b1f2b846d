"""Faults injected into the production shape (api/stack) while the load driver carries journeys through it.

Each run: journeys for `seconds` with `users` virtual users (benchmarks/load_driver.py); after a quarter of
it the fault is injected, held, and healed. Then, from the database and the API:
- the recovery time: from the heal until every job the outbox held at the heal has ended (done, or failed as a
  visible incident), and until the first application issued after the heal;
- the invariants of engine/reporting/consistency.py, once the outbox has nothing left to run;
- every licence issued in the run downloads from the object store, and the service verifies it as its own
  (a PDF signed by one process checked by another: one key set).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import select

from bizportal.api.stack.launcher import Stack
from bizportal.api.stack.service import worker
from bizportal.engine.reporting.consistency import check_consistency
from bizportal.storage.database import make_engine, read_session
from bizportal.storage.outbox import JobState, OutboxRow
from support import processes

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import load_driver  # noqa: E402  (a script folder, not a package)

SETTLE_TIMEOUT_S = 180.0
DOOMED_WORKER = Path(__file__).with_name("doomed_worker.py")
# A job of a killed worker runs again once arq's in-progress mark expires: the job timeout plus 10 s.
BANK_SECRET = "chaos-bank-webhook-secret-0123456789"
STACK_ENVIRONMENT = {"BIZPORTAL_JOB_TIMEOUT_SECONDS": "5",
                     # PromptPay, for the runs whose fees are paid online and notified by the bank
                     "BIZPORTAL_PROMPTPAY_ID": "0812345678", "BIZPORTAL_PROMPTPAY_WEBHOOK_SECRET": BANK_SECRET}


@dataclass
class Fault:
    name: str
    inject: Callable[[Stack], None]
    heal: Callable[[Stack], None]
    hold: float  # seconds between inject and heal (a fault that waits for its own moment may take longer)
    by_promptpay: bool = False  # the journeys pay by PromptPay, whose notifications come twice at once and late


def worker_killed(point: str, wait: float = 60.0) -> Fault:
    """Worker 1 is replaced by one that dies with SIGKILL at `point` of its first PDF; once it has died, a normal
    worker takes its place (as a supervisor would restart it).

    The other workers stop meanwhile (SIGTERM: they finish their jobs) and start again with it: with one of them
    still taking jobs, the doomed one, still starting, could see no PDF before the journeys ended (a flaky run)."""

    def inject(stack: Stack) -> None:
        environment = stack.workers[0].environment
        for child in stack.workers:
            child.stop()
        stack.workers[0] = worker(environment, stack.folder / "logs", 1,
                                  [sys.executable, str(DOOMED_WORKER), point])
        stack.workers[0].start()
        deadline = time.monotonic() + wait
        while stack.workers[0].running():
            if time.monotonic() > deadline:
                raise AssertionError(f"the doomed worker did not reach '{point}' within {wait:.0f} s: no PDF")
            time.sleep(0.1)
        exit_code = stack.workers[0].process.returncode if stack.workers[0].process else None
        assert exit_code == -9, f"the doomed worker ended with {exit_code}, not SIGKILL:\n" \
            f"{stack.workers[0].log_tail()}"

    def heal(stack: Stack) -> None:
        stack.workers[0] = worker(stack.workers[0].environment, stack.folder / "logs", 1)
        for child in stack.workers:
            child.start()

    return Fault(f"worker SIGKILLed, PDF {point}", inject, heal, hold=0)


def redis_restarted(down: float) -> Fault:
    return Fault("Redis restarted (its queue lost)", lambda stack: _required(stack.redis).stop(),
                 lambda stack: _required(stack.redis).start(), hold=down)


def postgres_restarted() -> Fault:
    return Fault("PostgreSQL restarted (pg_ctl restart -m fast)", lambda stack: _required(stack.postgres).restart(),
                 lambda stack: None, hold=0)


def postgres_crashed(down: float) -> Fault:
    return Fault("PostgreSQL crashed (stop -m immediate), started after", lambda s: _required(s.postgres).crash(),
                 lambda s: _required(s.postgres).start(), hold=down)


def object_store_paused(down: float) -> Fault:
    return Fault(f"object store hung (SIGSTOP) {down:.0f} s", lambda stack: stack.store.pause(),
                 lambda stack: stack.store.resume(), hold=down)


def object_store_stopped(down: float) -> Fault:
    return Fault(f"object store stopped {down:.0f} s", lambda stack: stack.store.kill(),
                 lambda stack: stack.store.start(), hold=down)


def api_process_killed() -> Fault:
    """SIGKILL to one of the API's processes: uvicorn's supervisor starts another in its place."""

    def inject(stack: Stack) -> None:
        api = _required(stack.api)
        children = processes.children(api.child.pid or 0)
        assert children, "the API has no worker processes to kill"
        os.kill(children[0], 9)

    return Fault("an API process SIGKILLed", inject, lambda stack: None, hold=0)


def bank_notifications_twice_and_late() -> Fault:
    """Every fee paid by PromptPay: the bank's notification comes twice at once (to either API process) and once
    more after the licence was issued."""
    return Fault("bank notifications twice at once and late", lambda stack: None, lambda stack: None, hold=0,
                 by_promptpay=True)


def combined(*faults: Fault) -> Fault:
    """The faults at once: every inject, the longest hold, every heal."""
    def inject(stack: Stack) -> None:
        for fault in faults:
            fault.inject(stack)

    def heal(stack: Stack) -> None:
        for fault in reversed(faults):
            fault.heal(stack)

    return Fault(" + ".join(fault.name for fault in faults), inject, heal, hold=max(f.hold for f in faults),
                 by_promptpay=any(fault.by_promptpay for fault in faults))


def run_fault(stack: Stack, fault: Fault | None, users: int, seconds: float, first_user: int) -> dict[str, Any]:
    """Journeys through the stack with `fault` injected after a quarter of `seconds` (None: no fault, the
    baseline); returns the run's report (see the module's docstring)."""
    figures: dict[str, load_driver.Figures] = {}

    def drive() -> None:
        bank_secret = BANK_SECRET if fault is not None and fault.by_promptpay else None
        figures["run"] = asyncio.run(load_driver.run_once(stack.url, stack.token_signing_key, users, seconds,
                                                          first_user, poll=0.1, wait=SETTLE_TIMEOUT_S,
                                                          bank_secret=bank_secret))

    driver = threading.Thread(target=drive, name="chaos-driver")
    began = time.monotonic()
    driver.start()
    report: dict[str, Any] = {"fault": fault.name if fault else "none", "users": users, "seconds": seconds}
    database = make_engine(stack.database_url)
    try:
        if fault is not None:
            time.sleep(seconds / 4)
            injected = time.monotonic()
            fault.inject(stack)
            time.sleep(fault.hold)
            fault.heal(stack)
            healed, healed_at = time.monotonic(), datetime.now(UTC)
            report["fault_held_s"] = round(healed - injected, 1)
            report["backlog_cleared_s"] = round(_until_jobs_ended(database, healed_at) - healed, 1)
        driver.join()
        run = figures["run"]
        summary = run.summary()
        report |= {key: summary[key] for key in ("applications_completed", "commands", "status_reads", "errors",
                                                 "first_errors", "failed_status_reads", "status_p50_ms",
                                                 "status_p99_ms")}
        # what failed of all that was asked: commands answered with an error, status reads not answered (503s)
        asked = summary["commands"] + summary["status_reads"]
        report["error_rate"] = round((summary["errors"] + summary["failed_status_reads"]) / asked, 4) if asked else None
        if fault is not None:
            after = [at for at, _, _ in run.issued if at >= healed]
            report["first_issue_after_heal_s"] = round(min(after) - healed, 1) if after else None
        report["settled_s"] = round(_until_jobs_ended(database, None) - began, 1)
        with read_session(database) as session:
            violations = check_consistency(session, datetime.now(UTC))
        report["violations"] = [f"{v.invariant}: {v.subject}: {v.detail}" for v in violations]
        report["licences_checked"] = _licences_verify(stack, run)
    finally:
        database.dispose()
    return report


def _until_jobs_ended(database: Any, created_before: datetime | None) -> float:
    """Wait until no outbox job (created before `created_before`, or any) is pending or dispatched; the time."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        try:
            with read_session(database) as session:
                query = select(func.count()).select_from(OutboxRow).where(
                    OutboxRow.state.in_((JobState.PENDING, JobState.DISPATCHED)))  # type: ignore[attr-defined]
                if created_before is not None:
                    query = query.where(OutboxRow.created_at <= created_before)
                left = session.exec(query).one()
        except Exception:  # noqa: BLE001 - the database itself may be the fault being healed: ask again
            left = -1
        if left == 0:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs still unfinished {SETTLE_TIMEOUT_S:.0f} s after the fault: {left}")
        time.sleep(0.2)


def _licences_verify(stack: Stack, run: load_driver.Figures, most: int = 4) -> int:
    """Download the licences of the last `most` applications issued and have the service verify each PDF."""
    checked = 0
    with httpx.Client(base_url=stack.url, timeout=30, trust_env=False) as client:
        for _, application, user in run.issued[-most:]:
            headers = load_driver.applicant_headers(stack.token_signing_key, user)
            view = client.get(f"/api/v1/applications/{application}", headers=headers).json()
            number = view["licences"][0]["licence_number"]
            pdf = client.get(f"/api/v1/issued-licences/{number}/pdf", headers=headers)
            assert pdf.status_code == 200, f"licence {number}: {pdf.status_code} {pdf.text[:200]}"
            verdict = client.post("/api/v1/verify", files={"file": ("licence.pdf", pdf.content, "application/pdf")})
            assert verdict.status_code == 200 and verdict.json()["authentic"] is True \
                and verdict.json()["status"] == "valid", \
                f"licence {number} does not verify: {verdict.status_code} {verdict.text[:300]}"
            checked += 1
    return checked


def _required(part: Any) -> Any:
    assert part is not None, "this fault needs the stack's own server (private_stack)"
    return part
