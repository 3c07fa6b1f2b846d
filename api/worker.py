"""The arq worker (a composition root): runs outbox jobs, sweeps the outbox and fires due timers.

Start with `bizportal worker`; scale out by starting more workers against the same Redis.
"""

from __future__ import annotations

import asyncio
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker

from bizportal.adapters.jobs.arq_queue import JOB_FUNCTION
from bizportal.api.composition import engine_from, settle_process
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine


async def run_outbox_job(ctx: dict[str, Any], outbox_id: str) -> bool:
    engine: LicensingEngine = ctx["engine"]
    done = await asyncio.to_thread(engine.outbox.run_job, outbox_id)
    # The rows the job queued go to the queue now: the API's dispatch hands over only its own commits.
    await asyncio.to_thread(engine.dispatch)
    return done


async def sweep(ctx: dict[str, Any]) -> None:
    """Dispatch rows whose enqueue was lost, fire due timers and send due notices and reminders, once a minute."""
    engine: LicensingEngine = ctx["engine"]
    await asyncio.to_thread(engine.dispatch)
    await asyncio.to_thread(engine.fire_due_timers_and_notices)


run_outbox_job.__name__ = JOB_FUNCTION


def build_worker(settings: Settings, engine: LicensingEngine | None = None, burst: bool = False) -> Worker:
    """An arq worker for the outbox jobs.

    arq's Worker binds the event loop current at construction: build it inside the loop
    that will run it (`Worker.run()` does that itself for the CLI).
    """
    if not settings.redis_url:
        raise SystemExit("the worker needs BIZPORTAL_REDIS_URL; without it jobs run inside `bizportal serve`")
    engine = engine or engine_from(settings)

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["engine"] = engine
        settle_process()

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await asyncio.to_thread(engine.queue.close)  # the sweep's Redis pool

    # A burst run drains the queue and exits; the minutely sweep would keep a future entry queued.
    cron_jobs = [] if burst else [cron(sweep, second=0, run_at_startup=True)]
    # keep_result=0: arq refuses to enqueue a job id whose result it still keeps (an hour by default), which
    # would hold back the outbox's retry of a failed row until then. Nobody reads arq's results: the outbox
    # row records whether the job is done, failed, or due again (engine/outbox.py).
    return Worker(functions=[run_outbox_job], cron_jobs=cron_jobs,
                  on_startup=on_startup, on_shutdown=on_shutdown,
                  redis_settings=RedisSettings.from_dsn(settings.redis_url), burst=burst,
                  handle_signals=not burst, max_tries=5, keep_result=0, poll_delay=settings.worker_poll_seconds,
                  # a job of a worker that died is run again by another once this has passed (arq's default is 300 s)
                  job_timeout=settings.job_timeout_seconds)
