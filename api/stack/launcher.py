"""The production shape on one machine, started and stopped as one: `make prod-local`, and the fault tests.

What runs (each a process of its own, its data and logs under one folder):
- PostgreSQL: the machine's server with a database of the stack's own, or (`private`) a cluster of its own that
  a fault test may restart and crash;
- Redis: the machine's server on a database number of the stack's own, or (`private`) a server of its own;
- SeaweedFS: the object store (S3);
- an OpenID provider (the development one of `make run`, with its sample people and staff): production settings
  refuse to start without one;
- `bizportal serve --processes 2` on one port, and two `bizportal worker` processes.
Every process reads one key set written once (`bizportal keys`): a licence signed by one verifies in another.
The database is migrated once, before any of them starts.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bizportal.api import dev_provider
from bizportal.api.composition import engine_from
from bizportal.api.key_files import (
    LICENCE_CERT_FILE,
    LICENCE_KEY_FILE,
    TOKEN_KEY_FILE,
    VERIFICATION_KEY_FILE,
    write_key_set,
)
from bizportal.api.settings import Settings
from bizportal.api.stack.ports import free_port
from bizportal.api.stack.postgres import PrivatePostgres, new_postgres
from bizportal.api.stack.redis import PrivateRedis, new_redis
from bizportal.api.stack.seaweedfs import PORT_NAMES, SeaweedFS, new_seaweedfs
from bizportal.api.stack.service import ApiServer, ChildProcess, api_server, worker
from bizportal.storage.database import transaction


@dataclass
class Stack:
    folder: Path
    database_url: str
    redis_url: str
    store: SeaweedFS
    port: int
    api_processes: int = 2
    worker_count: int = 2
    extra_environment: dict[str, str] = field(default_factory=dict)
    postgres: PrivatePostgres | None = None
    redis: PrivateRedis | None = None
    provider: dev_provider.ProviderProcess | None = None
    api: ApiServer | None = None
    workers: list[ChildProcess] = field(default_factory=list)
    token_signing_key: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """The settings every process of the stack runs with."""
        keys = self.folder / "keys"
        environment = {
            "BIZPORTAL_DATA_DIR": str(self.folder / "data"), "BIZPORTAL_DATABASE_URL": self.database_url,
            "BIZPORTAL_REDIS_URL": self.redis_url, "BIZPORTAL_PORT": str(self.port),
            "BIZPORTAL_PUBLIC_BASE_URL": self.url, "BIZPORTAL_TOKEN_SIGNING_KEY": self.token_signing_key,
            "BIZPORTAL_VERIFICATION_KEY": str(keys / VERIFICATION_KEY_FILE),
            "BIZPORTAL_LICENCE_SIGNING_KEY": str(keys / LICENCE_KEY_FILE),
            "BIZPORTAL_LICENCE_SIGNING_CERT": str(keys / LICENCE_CERT_FILE),
            **self.store.environment(),
        }
        if self.provider is not None:
            environment |= {
                "BIZPORTAL_OIDC_ISSUER": self.provider.issuer, "BIZPORTAL_OIDC_CLIENT_ID": dev_provider.CLIENT_ID,
                "BIZPORTAL_OIDC_CLIENT_SECRET": dev_provider.CLIENT_SECRET,
                "BIZPORTAL_STAFF_OIDC_ISSUER": self.provider.issuer,
                "BIZPORTAL_STAFF_OIDC_CLIENT_ID": dev_provider.STAFF_CLIENT_ID,
                "BIZPORTAL_STAFF_OIDC_CLIENT_SECRET": dev_provider.STAFF_CLIENT_SECRET}
        return environment | self.extra_environment

    def start(self, worker_command: Sequence[str] | None = None) -> None:
        """Start every part, in the order they need each other; on a failure, stop what started."""
        try:
            if self.postgres is not None:
                self.postgres.create()
            if self.redis is not None:
                self.redis.start()
            self.store.start()
            self.provider = dev_provider.start(dev_provider.stable_port(self.folder))
            self._write_keys()
            self._migrate_and_seed()
            environment = self.environment()
            logs = self.folder / "logs"
            self.api = api_server(environment, logs, self.port, self.api_processes)
            self.workers = [worker(environment, logs, number, worker_command)
                            for number in range(1, self.worker_count + 1)]
            for child in self.workers:
                child.start()
            self.api.start()
        except BaseException:
            self.stop()
            raise

    def _write_keys(self) -> None:
        keys = self.folder / "keys"
        if not (keys / TOKEN_KEY_FILE).exists():
            write_key_set(keys)
        self.token_signing_key = (keys / TOKEN_KEY_FILE).read_text(encoding="utf-8").strip()

    def _migrate_and_seed(self) -> None:
        """Migrations once, here, before the processes start; and the sample staff for the provider's sign-in."""
        settings = Settings.model_validate(_settings_fields(self.environment()))
        engine = engine_from(settings, migrate=True)
        try:
            if self.provider is not None:
                with transaction(engine.db) as session:
                    dev_provider.seed_sample_staff(engine.ctx, session, self.provider.issuer)
        finally:
            engine.queue.close()
            engine.db.dispose()

    def stop(self) -> None:
        """Stop everything started (the service first, the stores last); data stays in the folder."""
        for child in self.workers:
            child.stop()
        if self.api is not None:
            self.api.child.stop()
        if self.provider is not None:
            self.provider.stop()
            self.provider = None
        self.store.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.remove()


def _settings_fields(environment: dict[str, str]) -> dict[str, str]:
    prefix = "BIZPORTAL_"
    return {name[len(prefix):].lower(): value for name, value in environment.items() if name.startswith(prefix)}


def machine_stack(folder: Path, database_url: str, redis_url: str, port: int) -> Stack:
    """The stack on the machine's PostgreSQL and Redis (`make prod-local`); its database is created if missing."""
    ensure_database(database_url)
    return Stack(folder=folder, database_url=database_url, redis_url=redis_url,
                 store=_store(folder), port=port)


def private_stack(folder: Path, workers: int = 2, extra_environment: dict[str, str] | None = None) -> Stack:
    """A stack with its own PostgreSQL and Redis too, which a fault test may restart: nothing it does reaches the
    machine's servers."""
    postgres = new_postgres()
    redis = new_redis(folder / "redis")
    return Stack(folder=folder, database_url=postgres.url, redis_url=redis.url, store=_store(folder),
                 port=free_port(), worker_count=workers, extra_environment=dict(extra_environment or {}),
                 postgres=postgres, redis=redis)


def _store(folder: Path) -> SeaweedFS:
    """The stack's SeaweedFS: the same ports and keys on every start, so objects stored before stay reachable."""
    saved = folder / "seaweedfs" / "stack.txt"
    if saved.exists():
        access_key, secret_key, *ports = saved.read_text(encoding="utf-8").split()
        return SeaweedFS(data_dir=folder / "seaweedfs", access_key=access_key, secret_key=secret_key,
                         ports=dict(zip(PORT_NAMES, map(int, ports), strict=True)))
    store = new_seaweedfs(folder / "seaweedfs", secret_key=secrets.token_urlsafe(24))
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(" ".join([store.access_key, store.secret_key, *map(str, store.ports.values())]) + "\n",
                     encoding="utf-8")
    saved.chmod(0o600)
    return store


def ensure_database(database_url: str) -> None:
    """Create the URL's PostgreSQL database if it does not exist yet."""
    url = make_url(database_url)
    admin = create_engine(url.set(drivername="postgresql+psycopg", database="postgres"),
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": url.database}).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()

