"""The in-memory workflow cache: never ahead of the database, across processes, rollbacks and threads."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import Conflict
from bizportal.engine.workflow.cache import WorkflowCache
from bizportal.storage.database import transaction
from bizportal.storage.workflow_tables import HumanTaskRow, WorkflowInstanceRow, open_tasks
from support.helpers import Journey


@pytest.fixture
def other_process(settings: Settings, clock: object) -> Iterator[LicensingEngine]:
    """A second engine on the same database: another API process or worker, with its own cache."""
    built = engine_from(settings, clock=clock)  # type: ignore[arg-type]
    yield built
    built.db.dispose()


def _submitted(journey: Journey, engine: LicensingEngine) -> str:
    journey.create()
    journey.submit()
    with transaction(engine.db) as session:
        (row,) = session.exec(select(WorkflowInstanceRow)).all()
        return row.id


def _decide(engine: LicensingEngine, instance_id: str, action: str) -> str:
    """Complete the instance's one open task through `engine`'s runtime; the status it moved to."""
    with transaction(engine.db) as session:
        (task,) = open_tasks(session, instance_id)
        return engine.ctx.runtime.complete_task(session, task.id, action, "", "olivia").instance.status


def test_the_next_command_takes_the_workflow_its_process_saved(journey: Journey, engine: LicensingEngine) -> None:
    instance_id = _submitted(journey, engine)
    cache = engine.ctx.runtime.cache
    hits = cache.hits
    assert _decide(engine, instance_id, "request_documents") == "documents_requested"
    assert cache.hits == hits + 1


def test_a_save_by_another_process_makes_the_entry_stale_and_it_is_reloaded(
        journey: Journey, engine: LicensingEngine, other_process: LicensingEngine) -> None:
    instance_id = _submitted(journey, engine)  # `engine` holds the workflow at document_check
    assert _decide(other_process, instance_id, "request_documents") == "documents_requested"
    misses = engine.ctx.runtime.cache.misses
    # `engine`'s entry is the version before the other process's save: it must not be used.
    with transaction(engine.db) as session:
        (task,) = open_tasks(session, instance_id)
        assert task.step == "submit_documents"
        completed = engine.ctx.runtime.complete_task(session, task.id, "submit", "", "alice")
    assert engine.ctx.runtime.cache.misses == misses + 1
    assert completed.instance.status == "document_check"


def test_a_conflicting_write_from_another_process_is_detected(
        journey: Journey, engine: LicensingEngine, other_process: LicensingEngine, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's transactions begin IMMEDIATE: no other writer can save between a load and a save")
    instance_id = _submitted(journey, engine)
    with pytest.raises(Conflict), transaction(engine.db) as session:
        (task,) = open_tasks(session, instance_id)
        row, workflow, definition = engine.ctx.runtime.load(session, instance_id)  # from the cache
        # The other process decides the same step and commits between our load and our save.
        assert _decide(other_process, instance_id, "approve") == "under_consideration"
        workflow.get_task_from_id(uuid.UUID(task.id)).run()
        engine.ctx.runtime._save(session, row, workflow, definition)
    # Nothing of the lost command was kept: the next command works from the other process's state.
    assert len(engine.ctx.runtime.cache) == 0
    with transaction(engine.db) as session:
        (task,) = open_tasks(session, instance_id)
        assert task.step == "consideration"
        row, _, _ = engine.ctx.runtime.load(session, instance_id)
        assert row.status == "under_consideration"


def test_a_rolled_back_command_leaves_nothing_in_the_cache(journey: Journey, engine: LicensingEngine) -> None:
    instance_id = _submitted(journey, engine)
    with pytest.raises(RuntimeError), transaction(engine.db) as session:
        (task,) = open_tasks(session, instance_id)
        engine.ctx.runtime.complete_task(session, task.id, "request_documents", "", "olivia")
        raise RuntimeError("a later step of the same command fails")
    assert len(engine.ctx.runtime.cache) == 0
    # The task is still open and the workflow still at the document check, restored from the document.
    assert _decide(engine, instance_id, "approve") == "under_consideration"


def test_a_savepoint_is_cached_only_when_the_outer_transaction_commits() -> None:
    cache, workflow = WorkflowCache(), object()
    db = create_engine("sqlite://")
    with Session(db) as session:
        session.execute(text("select 1"))
        with session.begin_nested():
            cache.keep_after_commit(session, "a", 2, "hash", workflow)
        assert len(cache) == 0  # the savepoint's release is not a commit
        session.rollback()
        session.commit()
    assert len(cache) == 0
    with Session(db) as session:
        session.execute(text("select 1"))
        cache.keep_after_commit(session, "a", 2, "hash", workflow)
        with pytest.raises(ValueError), session.begin_nested():
            raise ValueError  # a savepoint rolled back: which saves it undid is unknown, so none is kept
        session.commit()
    assert len(cache) == 0
    with Session(db) as session:
        session.execute(text("select 1"))
        cache.keep_after_commit(session, "a", 2, "hash", workflow)
        session.commit()
    assert cache.take("a", 1, "hash") is None  # another version: a miss, and the entry is gone
    assert cache.take("a", 2, "hash") is None


def test_an_entry_is_handed_to_one_thread_only_and_the_oldest_is_evicted() -> None:
    cache = WorkflowCache(capacity=2)
    db = create_engine("sqlite://")
    with Session(db) as session:
        session.execute(text("select 1"))
        for instance_id in ("a", "b", "c"):
            cache.keep_after_commit(session, instance_id, 1, "hash", object())
        session.commit()
    assert cache.take("a", 1, "hash") is None  # evicted, capacity 2
    taken: list[object] = []
    threads = [threading.Thread(target=lambda: taken.append(cache.take("b", 1, "hash"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(item is not None for item in taken) == 1
    assert cache.take("c", 1, "other-spec") is None


def test_the_projection_matches_after_cached_steps(journey: Journey, engine: LicensingEngine) -> None:
    instance_id = _submitted(journey, engine)
    assert _decide(engine, instance_id, "request_documents") == "documents_requested"
    assert _decide(engine, instance_id, "submit") == "document_check"
    engine.ctx.runtime.cache.clear()
    with transaction(engine.db) as session:
        row, workflow, _ = engine.ctx.runtime.load(session, instance_id)  # from the document alone
        steps = sorted(t.step for t in session.exec(select(HumanTaskRow).where(
            HumanTaskRow.instance_id == instance_id, HumanTaskRow.state == "open")))
        assert steps == [t.task_spec.bpmn_id for t in workflow.get_tasks(manual=True, state=TaskState.READY)]
        assert row.status == "document_check"
