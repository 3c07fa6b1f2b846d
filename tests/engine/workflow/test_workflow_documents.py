"""The stored workflow document: format 2 leaves out only what its reader rebuilds exactly; format 1 is still read."""

from __future__ import annotations

import json

from sqlmodel import select

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.workflow.serialization import FORMAT, compact, expand
from bizportal.storage.database import transaction
from bizportal.storage.workflow_tables import WorkflowInstanceRow
from support.helpers import Journey


def _row(engine: LicensingEngine) -> WorkflowInstanceRow:
    with transaction(engine.db) as session:
        (row,) = session.exec(select(WorkflowInstanceRow)).all()
        return row


def _stock_dict(engine: LicensingEngine, instance_id: str) -> dict[str, object]:
    """What SpiffWorkflow's own converter writes for the instance, restored from its document alone."""
    runtime = engine.ctx.runtime
    runtime.cache.clear()
    with transaction(engine.db) as session:
        _, workflow, _ = runtime.load(session, instance_id)
        return runtime.documents._converter.to_dict(workflow)


def test_every_wait_state_expands_to_exactly_what_spiffworkflow_writes(journey: Journey,
                                                                       engine: LicensingEngine) -> None:
    journey.create()
    journey.submit()
    for move in (lambda: None,
                 lambda: journey.decide("document_check", "request_documents", "ขาดแผนผัง"),
                 lambda: journey.decide("submit_documents", "submit", headers=journey.applicant),
                 lambda: journey.decide("document_recheck", "approve"),
                 lambda: journey.decide("consideration", "approve"),
                 journey.pay):
        move()
        row = _row(engine)
        stored = json.loads(row.document)
        assert stored["format"] == FORMAT
        stock = _stock_dict(engine, row.id)
        assert expand(stored["workflow"]) == stock
        assert compact(stock) == stored["workflow"]
        assert len(row.document) < len(json.dumps(stock, separators=(",", ":"))) * 0.7


def test_a_format_1_document_is_read_and_rewritten_by_the_next_save(journey: Journey,
                                                                     engine: LicensingEngine) -> None:
    journey.create()
    journey.submit()
    row = _row(engine)
    stock = _stock_dict(engine, row.id)
    old = json.dumps({"format": "bizportal-workflow/1", "spec_hash": row.spec_hash, "workflow": stock},
                     separators=(",", ":"), default=str)
    with transaction(engine.db) as session:
        session.get_one(WorkflowInstanceRow, row.id).document = old
    assert _stock_dict(engine, row.id) == stock
    journey.decide("document_check", "approve")
    row = _row(engine)
    assert json.loads(row.document)["format"] == FORMAT and row.status == "under_consideration"
