"""Job queue on Redis with arq: the outbox hands job ids to workers (scale out by adding workers)."""

from __future__ import annotations

import asyncio
import logging
import threading

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

JOB_FUNCTION = "run_outbox_job"

log = logging.getLogger(__name__)


class ArqJobQueue:
    """Enqueues outbox ids; the arq job id is the outbox id, so a row enqueued twice while queued runs once.

    `submit` is called from sync code (request threads, the sweeper) after commit. arq's pool belongs to the
    event loop it was created in, so the queue owns one event loop on a thread of its own and one pool on it,
    both made at the first `submit` and reused by every later one; `close` releases them (a later `submit`
    opens them again).
    """

    def __init__(self, redis_url: str) -> None:
        self.redis_settings = RedisSettings.from_dsn(redis_url)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: ArqRedis | None = None

    def _started(self) -> tuple[asyncio.AbstractEventLoop, ArqRedis]:
        with self._lock:
            if self._loop is None or self._pool is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="bizportal-arq-queue", daemon=True)
                thread.start()
                try:
                    pool = asyncio.run_coroutine_threadsafe(create_pool(self.redis_settings), loop).result()
                except BaseException:  # Redis unreachable: nothing half-open is kept; the next submit retries
                    _stop(loop, thread)
                    raise
                self._loop, self._thread, self._pool = loop, thread, pool
            return self._loop, self._pool

    async def _enqueue(self, pool: ArqRedis, outbox_ids: list[str]) -> None:
        for outbox_id in outbox_ids:
            job = await pool.enqueue_job(JOB_FUNCTION, outbox_id, _job_id=f"outbox:{outbox_id}")
            if job is None:  # arq refuses an id that is still queued or running: that run will do the job
                log.info("outbox job %s is already queued or running", outbox_id)

    def submit(self, outbox_ids: list[str]) -> None:
        loop, pool = self._started()
        asyncio.run_coroutine_threadsafe(self._enqueue(pool, outbox_ids), loop).result()

    def close(self) -> None:
        """Close the Redis pool and stop the queue's event loop (idempotent)."""
        with self._lock:
            loop, thread, pool = self._loop, self._thread, self._pool
            self._loop = self._thread = self._pool = None
        if loop is None or thread is None:
            return
        try:
            if pool is not None:
                asyncio.run_coroutine_threadsafe(pool.aclose(), loop).result(timeout=10)
        finally:
            _stop(loop, thread)


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()
