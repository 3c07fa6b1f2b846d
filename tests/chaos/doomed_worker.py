"""An arq worker that dies (SIGKILL, no clean-up) at a chosen point of issuing a document, then never again.

Started by the process-fault tests in place of `bizportal worker`:

    python tests/chaos/doomed_worker.py rendered   # the PDF is rendered, not stored yet
    python tests/chaos/doomed_worker.py stored     # the PDF is in the object store, its record not committed

It is the real worker (api/worker.py) on the real settings; only the object store's `put` is wrapped, so the
process kills itself at the very point of the first document it stores.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from bizportal.api.settings import Settings
from bizportal.api.worker import build_worker
from bizportal.storage.s3_object_store import S3ObjectStore

POINTS = ("rendered", "stored")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def doom(point: str) -> None:
    """Wrap S3ObjectStore.put so that the process dies at `point` of its first PDF."""
    original = S3ObjectStore.put

    def put(self: S3ObjectStore, data: bytes, content_type: str) -> Any:
        if content_type == "application/pdf" and point == "rendered":
            _die()
        stored = original(self, data, content_type)
        if content_type == "application/pdf" and point == "stored":
            _die()
        return stored

    S3ObjectStore.put = put  # type: ignore[method-assign]


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in POINTS:
        raise SystemExit(f"usage: doomed_worker.py {{{','.join(POINTS)}}}")
    doom(sys.argv[1])
    build_worker(Settings()).run()
