"""Job queue on Redis with arq: the outbox hands job ids to workers (scale out by adding workers)."""

from __future__ import annotations

import asyncio

from arq import create_pool
from arq.connections import RedisSettings

JOB_FUNCTION = "run_outbox_job"


class ArqJobQueue:
    """Enqueues outbox ids; the arq job id is the outbox id, so a row enqueued twice runs once."""

    def __init__(self, redis_url: str) -> None:
        self.redis_settings = RedisSettings.from_dsn(redis_url)

    async def submit_async(self, outbox_ids: list[str]) -> None:
        pool = await create_pool(self.redis_settings)
        try:
            for outbox_id in outbox_ids:
                await pool.enqueue_job(JOB_FUNCTION, outbox_id, _job_id=f"outbox:{outbox_id}")
        finally:
            await pool.aclose()

    def submit(self, outbox_ids: list[str]) -> None:
        # Called from sync code after commit (a worker thread, never the event loop's own thread).
        asyncio.run(self.submit_async(outbox_ids))
