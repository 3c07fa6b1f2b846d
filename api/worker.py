"""The arq worker (a composition root): runs outbox jobs, sweeps the outbox and fires due timers.

Start with `bizportal worker`; scale out by starting more workers against the same Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker
from redis.exceptions import RedisError

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
    """Fire due timers and send due notices and reminders, once a minute."""
    engine: LicensingEngine = ctx["engine"]
    await asyncio.to_thread(engine.fire_due_timers_and_notices)


async def redispatch(ctx: dict[str, Any]) -> None:
    """Dispatch rows whose enqueue was lost (Redis restarted empty, a process died between commit and enqueue) and
    retries that came due, every 5 s: one indexed query when there is nothing to do. Once a minute, a Redis restart
    held every case it emptied for up to a minute (tests/chaos)."""
    engine: LicensingEngine = ctx["engine"]
    await asyncio.to_thread(engine.dispatch_pending)


run_outbox_job.__name__ = JOB_FUNCTION

log = logging.getLogger(__name__)
REDISPATCH_EVERY_S = 5
NO_REDIS = "the worker needs BIZPORTAL_REDIS_URL; without it jobs run inside `bizportal serve`"
REDIS_RETRY_MAX_S = 30.0  # the longest wait between attempts to reach Redis again


def run_worker(settings: Settings) -> None:
    """Run a worker until it is stopped (SIGINT, SIGTERM), through any outage of Redis.

    arq's worker ends with a ConnectionError when Redis goes away (a restart, a fail-over), and a worker that
    stays down leaves every job to the others, or to none. So it starts again, waiting 1, 2, 4 ... up to 30 s
    between attempts. What was queued in a Redis that lost it is dispatched again from the outbox (engine/outbox.py:
    a row dispatched and not finished after twice the job timeout).
    """
    if not settings.redis_url:
        raise SystemExit(NO_REDIS)
    engine = engine_from(settings)
    wait = 1.0
    while True:
        worker = build_worker(settings, engine)
        began = time.monotonic()
        try:
            worker.run()
            return  # stopped by a signal
        except (RedisError, OSError) as err:
            if time.monotonic() - began > REDIS_RETRY_MAX_S:
                wait = 1.0  # it had been running: a new outage starts the back-off again
            log.warning("Redis unreachable (%s: %s): the worker starts again in %.0f s", type(err).__name__, err,
                        wait)
            time.sleep(wait)
            wait = min(wait * 2, REDIS_RETRY_MAX_S)


def build_worker(settings: Settings, engine: LicensingEngine | None = None, burst: bool = False) -> Worker:
    """An arq worker for the outbox jobs.

    arq's Worker binds the event loop current at construction: build it inside the loop
    that will run it (`Worker.run()` does that itself for the CLI).
    """
    if not settings.redis_url:
        raise SystemExit(NO_REDIS)
    engine = engine or engine_from(settings)

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["engine"] = engine
        settle_process()

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await asyncio.to_thread(engine.queue.close)  # the sweep's Redis pool

    # A burst run drains the queue and exits; the minutely sweep would keep a future entry queued.
    cron_jobs = [] if burst else [cron(sweep, second=0, run_at_startup=True),
                                  cron(redispatch, second=set(range(0, 60, REDISPATCH_EVERY_S)), run_at_startup=True)]
    # keep_result=0: arq refuses to enqueue a job id whose result it still keeps (an hour by default), which
    # would hold back the outbox's retry of a failed row until then. Nobody reads arq's results: the outbox
    # row records whether the job is done, failed, or due again (engine/outbox.py).
    return Worker(functions=[run_outbox_job], cron_jobs=cron_jobs,
                  on_startup=on_startup, on_shutdown=on_shutdown,
                  redis_settings=RedisSettings.from_dsn(settings.redis_url), burst=burst,
                  handle_signals=not burst, max_tries=5, keep_result=0, poll_delay=settings.worker_poll_seconds,
                  # a job of a worker that died is run again by another once this has passed (arq's default is 300 s)
                  job_timeout=settings.job_timeout_seconds)
