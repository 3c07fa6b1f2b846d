"""The engine core: persistence by reference, projections, concurrency, timers, versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from sqlalchemy import update
from sqlmodel import col, select

from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.clock import Clock
from bizportal.engine.errors import Conflict, DefinitionError
from bizportal.engine.workflow.timer_events import SERIALIZER_CONFIG
from bizportal.storage.database import transaction
from bizportal.storage.workflow_tables import HumanTaskRow, ProcessDefinitionRow, TimerRow, WorkflowInstanceRow
from support.helpers import LICENCE, Journey

BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"


def _instance(engine: LicensingEngine) -> WorkflowInstanceRow:
    with transaction(engine.db) as session:
        (row,) = session.exec(select(WorkflowInstanceRow)).all()
        return row


def _restored_status(engine: LicensingEngine) -> str:
    """Restore the workflow from its stored document alone and read where it waits."""
    engine.ctx.runtime.cache.clear()  # not the workflow the last command kept in memory
    with transaction(engine.db) as session:
        row, workflow, _ = engine.ctx.runtime.load(session, _instance(engine).id)
        status, _step, _messages = engine.ctx.runtime._status(workflow, "?")
        return status


def test_save_and_restore_at_every_wait_state(journey: Journey, engine: LicensingEngine) -> None:
    journey.create()
    journey.submit()
    seen = []
    for move in (lambda: None,
                 lambda: journey.decide("document_check", "request_documents", "ขาดแผนผัง"),
                 lambda: journey.decide("submit_documents", "submit", headers=journey.applicant),
                 lambda: journey.decide("document_recheck", "approve"),
                 lambda: journey.decide("consideration", "approve")):
        move()
        row = _instance(engine)
        assert _restored_status(engine) == row.status == journey.view()["licences"][0]["status"]
        seen.append(row.status)
    assert seen == ["document_check", "documents_requested", "document_check", "under_consideration",
                    "awaiting_payment"]
    journey.pay()
    row = _instance(engine)
    assert row.completed and row.status == "issued" and row.current_step is None


def test_document_holds_the_spec_by_reference(journey: Journey, engine: LicensingEngine) -> None:
    journey.create()
    journey.submit()
    row = _instance(engine)
    document = json.loads(row.document)
    assert document["spec_hash"] == row.spec_hash
    assert "spec" not in document["workflow"] and "subprocess_specs" not in document["workflow"]
    with transaction(engine.db) as session:
        _, workflow, definition = engine.ctx.runtime.load(session, row.id)
        assert session.get_one(ProcessDefinitionRow, row.spec_hash).bpmn_xml == definition.bpmn_xml
    full = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SERIALIZER_CONFIG)).serialize_json(workflow)
    assert len(row.document) < len(full) / 2


def test_projection_lists_open_tasks_and_timers(journey: Journey, engine: LicensingEngine) -> None:
    journey.create()
    journey.submit()
    with transaction(engine.db) as session:
        (task,) = session.exec(select(HumanTaskRow).where(HumanTaskRow.state == "open")).all()
        (timer,) = session.exec(select(TimerRow).where(TimerRow.state == "waiting")).all()
    assert (task.step, task.lane, task.agency) == ("document_check", "agency", "LAO")
    assert timer.attached_to == "document_check" and task.due_at == timer.due_at
    # Tue 1 Dec 2026 + 1 working day = end of Wed 2 Dec, Bangkok time.
    assert timer.due_at.isoformat() == "2026-12-02T16:59:59+00:00"
    journey.decide("document_check", "approve")
    with transaction(engine.db) as session:
        assert session.get_one(TimerRow, timer.id).state == "cancelled"
        assert session.get_one(HumanTaskRow, task.id).state == "completed"


def test_sla_timer_marks_the_step_overdue_without_deciding(journey: Journey, engine: LicensingEngine,
                                                           clock: object) -> None:
    journey.create()
    journey.submit()
    assert engine.fire_due_timers_and_notices() == 0
    clock.advance(days=1)  # type: ignore[attr-defined]
    assert engine.fire_due_timers_and_notices() == 0  # Wed 2 Dec 09:00: not due until the end of the day
    clock.advance(days=1)  # type: ignore[attr-defined]
    assert engine.fire_due_timers_and_notices() == 1
    assert engine.fire_due_timers_and_notices() == 0  # fired once
    task = journey.task("document_check")
    assert task["overdue"] is True
    view = journey.view()
    assert view["status"] == "document_check"
    assert [e["detail"]["step"] for e in view["timeline"] if e["event"] == "step.overdue"] == ["document_check"]
    assert journey.decide("document_check", "approve").status_code == 200


@pytest.mark.parametrize("engine_start", [
    datetime(2016, 12, 6, 2, 0, tzinfo=UTC),   # a Tuesday years before the wall clock
    datetime(2036, 12, 2, 2, 0, tzinfo=UTC),   # a Tuesday years after it
], ids=["engine-clock-in-the-past", "engine-clock-in-the-future"])
def test_only_the_engine_clock_decides_when_a_timer_fires(journey: Journey, engine: LicensingEngine, clock: object,
                                                          engine_start: datetime) -> None:
    clock.current = engine_start  # type: ignore[attr-defined]
    journey.create()
    journey.submit()
    # Projected, not fired at start, whatever the wall clock says.
    task = journey.task("document_check")
    assert task["due_at"] is not None and task["overdue"] is False
    with transaction(engine.db) as session:
        (timer,) = session.exec(select(TimerRow).where(TimerRow.state == "waiting")).all()
    assert timer.due_at.astimezone(UTC).date() == (engine_start + timedelta(days=1)).date()
    assert engine.fire_due_timers_and_notices() == 0
    assert journey.view()["status"] == "document_check"
    clock.advance(hours=12)  # type: ignore[attr-defined]
    assert engine.fire_due_timers_and_notices() == 0
    # It fires when, and only when, the engine's clock passes its due date.
    clock.current = timer.due_at + timedelta(seconds=1)  # type: ignore[attr-defined]
    assert engine.fire_due_timers_and_notices() == 1
    assert journey.task("document_check")["overdue"] is True


def test_a_duration_timer_starts_from_the_engine_clock(tmp_path: Path, clock: object) -> None:
    from bizportal.engine.workflow.definitions import DefinitionRegistry
    from bizportal.engine.workflow.runtime import ProcessRuntime
    from bizportal.storage.database import make_engine
    from bizportal.storage.migrate import upgrade_to_head

    root = _broken_copy(tmp_path, "<bpmn:timeDate xsi:type=\"bpmn:tFormalExpression\">due_in_working_days(1)"
                                  "</bpmn:timeDate>",
                        "<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">\"P3D\"</bpmn:timeDuration>")
    registry = DefinitionRegistry(functions=ProcessRuntime.FUNCTIONS,
                                  operators=("create_invoice", "expire_invoice", "issue_licence", "record_overdue"))
    registry.load_directory(root)
    clock.current = datetime(2036, 12, 2, 2, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    runtime = ProcessRuntime(registry, clock, operators={})  # type: ignore[arg-type]
    db = make_engine(f"sqlite:///{tmp_path / 'duration.db'}")
    upgrade_to_head(db)
    with transaction(db) as session:
        registry.record(session)
        row = runtime.start(session, LICENCE, {"agency": "LAO"})
        (timer,) = session.exec(select(TimerRow).where(TimerRow.instance_id == row.id)).all()
    assert timer.due_at.astimezone(UTC) == datetime(2036, 12, 5, 2, 0, tzinfo=UTC)
    db.dispose()


def test_a_lost_race_is_a_conflict(journey: Journey, engine: LicensingEngine) -> None:
    journey.create()
    journey.submit()
    with transaction(engine.db) as session:
        (task,) = session.exec(select(HumanTaskRow).where(HumanTaskRow.state == "open")).all()
    with pytest.raises(Conflict), transaction(engine.db) as session:
        row, workflow, definition = engine.ctx.runtime.load(session, task.instance_id)
        # Someone else saves the same instance between our load and our save (synchronize_session=False:
        # our in-memory row keeps the version it loaded, as a concurrent request's would).
        session.execute(update(WorkflowInstanceRow).where(col(WorkflowInstanceRow.id) == row.id)
                        .values(version=WorkflowInstanceRow.version + 1).execution_options(synchronize_session=False))
        engine.ctx.runtime._save(session, row, workflow, definition)
    assert journey.view()["status"] == "document_check"


def test_running_case_finishes_on_the_version_it_started_on(journey: Journey, client: TestClient, settings: Settings,
                                                            clock: Clock, tmp_path: Path) -> None:
    from bizportal.api.composition import engine_from

    journey.create()
    journey.submit()
    # Deploy a changed definition: the consideration step gets a new title.
    new_dir = tmp_path / "bpmn-v2"
    for source in BPMN_DIR.rglob("*"):
        if source.is_file() and "__pycache__" not in source.parts:
            target = new_dir / source.relative_to(BPMN_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    process = new_dir / LICENCE / "process.bpmn"
    process.write_text(process.read_text(encoding="utf-8")
                       .replace('name="Consider the notification', 'name="Review (v2)'), encoding="utf-8")
    redeployed = engine_from(settings.model_copy(update={"bpmn_dir": new_dir}), clock=clock)
    old_hash = _instance(redeployed).spec_hash
    assert redeployed.definitions.current(LICENCE).spec_hash != old_hash
    redeployed.definitions._by_hash.pop(old_hash, None)  # a fresh process that never parsed the old file
    with transaction(redeployed.db) as session:
        task = session.exec(select(HumanTaskRow).where(HumanTaskRow.state == "open")).one()
        done = redeployed.ctx.runtime.complete_task(session, task.id, "approve", "", "officer")
        assert done.instance.spec_hash == old_hash
        nxt = session.exec(select(HumanTaskRow).where(HumanTaskRow.state == "open")).one()
    assert nxt.title.startswith("Consider the notification")  # still the old version's step
    redeployed.db.dispose()


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    root = tmp_path / "bpmn"
    (root / LICENCE).mkdir(parents=True)
    (root / "agencies.yaml").write_bytes((BPMN_DIR / "agencies.yaml").read_bytes())
    (root / LICENCE / "manual.yaml").write_bytes((BPMN_DIR / LICENCE / "manual.yaml").read_bytes())
    xml = (BPMN_DIR / LICENCE / "process.bpmn").read_text(encoding="utf-8")
    assert old in xml
    start = xml.index(old)
    if new.startswith("<bpmn:scriptTask"):  # swap the whole element, closing tag included
        end = xml.index("</bpmn:userTask>", start)
        xml = xml[:start] + new + xml[start + len(old):end] + "<bpmn:script>import os</bpmn:script></bpmn:scriptTask>" \
            + xml[end + len("</bpmn:userTask>"):]
    else:
        xml = xml.replace(old, new, 1)
    (root / LICENCE / "process.bpmn").write_text(xml, encoding="utf-8")
    return root


@pytest.mark.parametrize(("old", "new", "complaint"), [
    ('decision == "approve"', "decision.__class__", "Attribute is not allowed"),
    ('decision == "approve"', "__import__('os').system('true')", "not allowed"),
    ("due_in_working_days(1)", "open('/etc/passwd')", "call to 'open' is not allowed"),
    ('<bpmn:userTask id="consideration"', '<bpmn:scriptTask id="consideration"', "ScriptTask"),
    ('serviceTaskOperator id="create_invoice"', 'serviceTaskOperator id="wire_money"', "wire_money"),
    # Would allocate 100 GB when the gateway is evaluated.
    ('decision == "approve"', 'decision == "x" * 100000000000', "only numbers may be multiplied"),
    # An internal entity would be expanded into the task name; a DTD is refused outright.
    ('<?xml version="1.0" encoding="UTF-8"?>',
     '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE d [<!ENTITY ie "EXPANDED">]>', "may not declare a DTD"),
    ('<?xml version="1.0" encoding="UTF-8"?>',
     '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>',
     "may not declare a DTD"),
    # A repeating timer has no single due date for the engine's timer table.
    ("<bpmn:timeDate xsi:type=\"bpmn:tFormalExpression\">due_in_working_days(1)</bpmn:timeDate>",
     "<bpmn:timeCycle xsi:type=\"bpmn:tFormalExpression\">\"R3/PT1H\"</bpmn:timeCycle>", "repeating timer"),
])
def test_unsafe_definitions_are_rejected_at_load(tmp_path: Path, old: str, new: str, complaint: str) -> None:
    from bizportal.engine.workflow.definitions import DefinitionRegistry
    from bizportal.engine.workflow.runtime import ProcessRuntime

    registry = DefinitionRegistry(functions=ProcessRuntime.FUNCTIONS,
                                  operators=("create_invoice", "expire_invoice", "issue_licence", "record_overdue"))
    with pytest.raises(DefinitionError) as raised:
        registry.load_directory(_broken_copy(tmp_path, old, new))
    message = str(raised.value)
    assert f"{LICENCE}/process.bpmn" in message and complaint in message
