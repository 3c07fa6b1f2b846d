"""Recently saved workflows kept in memory, so the next command on a case need not deserialize it.

Restoring a workflow from its JSON document is a large share of a command's CPU (a walk of every task
through SpiffWorkflow's converters). An entry is only ever the workflow exactly as a committed save wrote
it, keyed by instance id with the version and spec hash it was saved at:

- Several processes: a command reads the instance row first and takes the cached workflow only if its
  version is the row's; a save from another process raised the version, so a stale entry is a miss and
  the document is read. The save's optimistic version check stays the arbiter of concurrent writes.
- Threads of one process: `take` removes the entry, so only one command ever holds a cached workflow;
  a second command on the same case at the same time restores its own from the document.
- Rollbacks: a save is only put here after its transaction committed. Any rollback in the session (a
  savepoint's too) drops what that session had pending: the memory may never run ahead of the database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "bizportal.workflow_cache.pending"

DEFAULT_CAPACITY = 512  # a parked licence workflow is some tens of KB of Python objects


@dataclass(frozen=True)
class _Entry:
    version: int
    spec_hash: str
    workflow: BpmnWorkflow
    waits: Any  # where the workflow waits, as its save projected it (the runtime's `_Waits`)


class WorkflowCache:
    """At most `capacity` committed workflows by instance id, the least recently saved dropped first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(self, instance_id: str, version: int, spec_hash: str) -> tuple[BpmnWorkflow, Any] | None:
        """The workflow of `instance_id` as saved at `version` and what its save projected, removed from the
        cache; None on a miss."""
        with self._lock:
            entry = self._entries.pop(instance_id, None)
            if entry is None or entry.version != version or entry.spec_hash != spec_hash:
                self.misses += 1
                return None
            self.hits += 1
            return entry.workflow, entry.waits

    def keep_after_commit(self, session: Session, instance_id: str, version: int, spec_hash: str,
                          workflow: BpmnWorkflow, waits: Any = None) -> None:
        """Cache `workflow` as saved at `version` (and `waits`, what its save projected) once `session`
        commits; never if it rolls back."""
        pending: list[tuple[WorkflowCache, str, _Entry]] = session.info.setdefault(_PENDING, [])
        pending.append((self, instance_id, _Entry(version, spec_hash, workflow, waits)))

    def _put(self, instance_id: str, entry: _Entry) -> None:
        with self._lock:
            self._entries.pop(instance_id, None)
            self._entries[instance_id] = entry
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: its work is only durable once the outer transaction commits
    # Later saves of one instance in the same transaction come later in the list and win.
    for cache, instance_id, entry in session.info.pop(_PENDING, ()):
        cache._put(instance_id, entry)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: Any) -> None:
    # Also a savepoint's rollback: which saves it undid is not tracked, so all pending ones are dropped.
    session.info.pop(_PENDING, None)
