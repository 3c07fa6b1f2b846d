"""Faults in the production shape, processes and servers killed and restarted under load (tests/chaos/
process_faults.py says what each run checks). `make test` runs the bounded set below; `make chaos` sets
BIZPORTAL_CHAOS=full for every fault, held longer, with more users, combined faults, and the load-held
comparison, and writes the report to benchmarks/results/chaos.json."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from chaos import process_faults as faults

from bizportal.api.stack.launcher import Stack, private_stack

FULL = os.environ.get("BIZPORTAL_CHAOS") == "full"
USERS = 4 if FULL else 2
SECONDS = 40.0 if FULL else 10.0
REPORT = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "chaos.json"

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.redis, pytest.mark.s3]

BOUNDED = [  # with the load-held test's worker killed with its PDF rendered, not stored
    faults.worker_killed("stored"),
    faults.redis_restarted(down=2),
    faults.postgres_restarted(),
    faults.object_store_paused(down=4),
    faults.combined(faults.bank_notifications_twice_and_late(), faults.worker_killed("stored")),
]
EVERY = [
    faults.worker_killed("rendered"),
    faults.worker_killed("stored"),
    faults.redis_restarted(down=5),
    faults.postgres_restarted(),
    faults.postgres_crashed(down=5),
    faults.object_store_paused(down=20),
    faults.object_store_stopped(down=60),
    faults.api_process_killed(),
    faults.combined(faults.worker_killed("stored"), faults.redis_restarted(down=3)),
    faults.combined(faults.postgres_restarted(), faults.object_store_paused(down=10)),
    faults.bank_notifications_twice_and_late(),
    faults.combined(faults.bank_notifications_twice_and_late(), faults.worker_killed("stored"),
                    faults.redis_restarted(down=3)),
    faults.combined(faults.bank_notifications_twice_and_late(), faults.postgres_restarted()),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = private_stack(tmp_path_factory.mktemp("stack"), extra_environment=faults.STACK_ENVIRONMENT)
    started.start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def report() -> Iterator[list[dict[str, object]]]:
    runs: list[dict[str, object]] = []
    yield runs
    if FULL:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps({"runs": runs}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for run in runs:
        print(json.dumps(run, ensure_ascii=False))


@pytest.mark.parametrize("fault", EVERY if FULL else BOUNDED, ids=lambda fault: fault.name)
def test_nothing_lost_nothing_doubled(stack: Stack, report: list[dict[str, object]], fault: faults.Fault,
                                      request: pytest.FixtureRequest) -> None:
    first_user = 1000 * (len(report) + 1)  # users of their own: earlier runs' cases do not mix in
    run = faults.run_fault(stack, fault, USERS, SECONDS, first_user)
    report.append(run)
    assert run["violations"] == [], run
    assert run["applications_completed"], run  # journeys went on through the fault
    assert run["licences_checked"], run


def test_load_held_while_a_worker_is_killed_and_restarted(stack: Stack, report: list[dict[str, object]]) -> None:
    """The status read's p99 and the error rate with a worker SIGKILLed mid-issue (its PDF rendered, not stored)
    and started again, against the same run without the fault (the figures go to the report; a slower p99 is
    measured, not failed on)."""
    baseline = faults.run_fault(stack, None, USERS, SECONDS, first_user=900_000)
    faulted = faults.run_fault(stack, faults.worker_killed("rendered"), USERS, SECONDS, first_user=950_000)
    report.append({"load_held": {key: {"without_fault": baseline[key], "worker_killed": faulted[key]}
                                 for key in ("applications_completed", "status_p50_ms", "status_p99_ms",
                                             "error_rate", "failed_status_reads")}})
    assert baseline["violations"] == [] and faulted["violations"] == [], (baseline, faulted)
    assert faulted["error_rate"] == 0, faulted  # a worker's death is invisible to the people using the service
