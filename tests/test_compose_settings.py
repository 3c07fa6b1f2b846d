"""docker-compose.yml and the Dockerfile speak only the configuration that `Settings` understands.

Settings ignores unknown variables (``extra="ignore"``), so a misspelt BIZPORTAL_* in the
deployment files would silently fall back to a default; these tests catch that without Docker.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bizportal.api.composition import object_store_from
from bizportal.api.settings import Settings
from bizportal.storage.database import make_engine
from bizportal.storage.s3_object_store import S3ObjectStore

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PREFIX = "BIZPORTAL_"
ENV_ANCHOR = "x-bizportal-env"

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}
REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def environment_of(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's `environment`, list form (``KEY=VALUE`` / ``KEY``) or mapping form, as a dict."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in env)
        return {key: value for key, value in pairs}
    return {key: None if value is None else str(value) for key, value in env.items()}


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    return shlex.split(command) if isinstance(command, str) else list(command or [])


def known_fields() -> set[str]:
    return set(Settings.model_fields)


def unknown_bizportal_variables(names: list[str]) -> list[str]:
    return sorted(name for name in names
                  if name.startswith(PREFIX) and name[len(PREFIX):].lower() not in known_fields())


def dockerfile_env() -> dict[str, str]:
    """Every ``ENV`` of the Dockerfile (all stages), in ``K=V ...`` or legacy ``K V`` form."""
    text = re.sub(r"\\\r?\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) != 2 or parts[0].upper() != "ENV":
            continue
        words = shlex.split(parts[1], comments=False)
        if "=" not in words[0]:
            found[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, value = word.partition("=")
            found[key] = value
    return found


def resolve(value: str) -> str:
    """Interpolate like compose would, with a default where one is given and a dummy otherwise."""
    def replacement(match: re.Match[str]) -> str:
        if match["op"] in (":-", "-"):
            return match["arg"]
        return f"dummy-{match['name'].lower()}"
    return REFERENCE.sub(replacement, value.replace("$$", "\0")).replace("\0", "$")


# -- every BIZPORTAL_* variable is a Settings field ----------------------------------------------

def test_every_bizportal_variable_in_compose_is_a_settings_field(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        unknown = unknown_bizportal_variables(list(environment_of(service)))
        assert not unknown, f"service {name!r} sets variables Settings does not know: {unknown}"


def test_the_shared_env_block_is_only_settings_fields(compose: dict[str, Any]) -> None:
    env = compose[ENV_ANCHOR]
    assert env, "the x-bizportal-env block is empty"
    assert all(name.startswith(PREFIX) for name in env), "the shared block holds only BIZPORTAL_* variables"
    assert not unknown_bizportal_variables(list(env))


def test_every_bizportal_variable_in_the_dockerfile_is_a_settings_field() -> None:
    env = dockerfile_env()
    assert env, "no ENV found in the Dockerfile"
    assert not unknown_bizportal_variables(list(env))
    assert env.get("BIZPORTAL_HOST") == "0.0.0.0", "inside a container the API must listen on all interfaces"


def test_the_dockerfile_serves_by_default_on_port_8000_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r'^CMD \["bizportal", "serve"\]\s*$', text, re.MULTILINE)
    assert re.search(r"^EXPOSE 8000\s*$", text, re.MULTILINE)
    assert "/healthz" in text and re.search(r"^HEALTHCHECK ", text, re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the final stage must not run as root"


# -- the services --------------------------------------------------------------------------------

def test_the_production_services_exist(compose: dict[str, Any]) -> None:
    assert {"postgres", "redis", "minio", "minio-init", "migrate", "api", "worker"} <= set(compose["services"])


def test_api_and_worker_share_one_environment(compose: dict[str, Any]) -> None:
    services = compose["services"]
    shared = {key: str(value) for key, value in compose[ENV_ANCHOR].items()}
    for name in ("api", "worker", "migrate"):
        assert environment_of(services[name]) == shared, f"{name} must use the x-bizportal-env block as is"


def test_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert command_of(services["api"]) == ["bizportal", "serve"]
    assert command_of(services["worker"]) == ["bizportal", "worker"]
    assert command_of(services["migrate"]) == ["bizportal", "migrate"]


def test_the_app_starts_after_migrations_and_the_bucket(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["minio-init"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"


def test_workers_can_be_scaled(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert worker.get("healthcheck", {}).get("disable") is True, "the image's HTTP healthcheck does not fit a worker"


def test_the_bucket_the_app_uses_is_the_one_minio_init_creates(compose: dict[str, Any]) -> None:
    init = compose["services"]["minio-init"]
    assert environment_of(init)["BIZPORTAL_S3_BUCKET"] == compose[ENV_ANCHOR]["BIZPORTAL_S3_BUCKET"]
    command = init["command"]
    script = "\n".join(command) if isinstance(command, list) else command
    assert "mc mb --ignore-existing" in script and "$$BIZPORTAL_S3_BUCKET" in script


def test_the_app_s3_keys_are_minio_root_credentials(compose: dict[str, Any]) -> None:
    env = compose[ENV_ANCHOR]
    minio = environment_of(compose["services"]["minio"])
    assert env["BIZPORTAL_S3_ACCESS_KEY"] == minio["MINIO_ROOT_USER"]
    assert env["BIZPORTAL_S3_SECRET_KEY"] == minio["MINIO_ROOT_PASSWORD"]


# -- secrets -------------------------------------------------------------------------------------

def _is_reference(value: str | None) -> re.Match[str] | None:
    return REFERENCE.fullmatch(value or "")


def test_no_literal_secrets(compose: dict[str, Any]) -> None:
    blocks = {"x-bizportal-env": compose[ENV_ANCHOR]}
    blocks.update({name: environment_of(service) for name, service in compose["services"].items()})
    for where, env in blocks.items():
        for key, value in env.items():
            name = key.upper()
            password_like = "PASSWORD" in name or "SECRET" in name or name.endswith("SIGNING_KEY")
            if not (password_like or name.endswith("_KEY")):
                continue
            match = _is_reference(None if value is None else str(value))
            assert match, f"{where}: {key} must be a ${{...}} reference, not a literal"
            if password_like:
                assert match["op"] in (":?", "?"), f"{where}: {key} must be required (${{VAR:?...}}), no default"


def test_the_database_url_carries_no_literal_password(compose: dict[str, Any]) -> None:
    url = compose[ENV_ANCHOR]["BIZPORTAL_DATABASE_URL"]
    credentials = re.match(r"postgresql://([^:@/]+):(.+)@postgres:5432/", url)
    assert credentials, url
    password = _is_reference(credentials[2])
    assert password and password["op"] in (":?", "?")


def test_the_token_signing_key_is_required(compose: dict[str, Any]) -> None:
    match = _is_reference(compose[ENV_ANCHOR]["BIZPORTAL_TOKEN_SIGNING_KEY"])
    assert match and match["name"] == "BIZPORTAL_TOKEN_SIGNING_KEY" and match["op"] == ":?"


def test_compose_env_values_are_strings(compose: dict[str, Any]) -> None:
    """Unquoted YAML booleans/numbers are rejected or mangled by some compose versions."""
    for key, value in compose[ENV_ANCHOR].items():
        assert isinstance(value, str), f"{key} must be quoted in docker-compose.yml"


# -- the env block actually configures the app ---------------------------------------------------

def test_settings_validate_from_the_compose_env(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    resolved = {key: resolve(str(value)) for key, value in compose[ENV_ANCHOR].items()}
    assert not any("${" in value for value in resolved.values()), resolved
    for key, value in resolved.items():
        monkeypatch.setenv(key, value)

    settings = Settings()

    assert settings.object_store == "s3"
    assert settings.s3_secure is False
    assert settings.port == 8000 and settings.host == "0.0.0.0"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.data_dir == Path("/var/lib/bizportal")
    assert settings.token_signing_key is not None
    assert settings.signing_key() == "dummy-bizportal_token_signing_key"  # used as is, nothing written to disk
    # The composition root accepts the S3 settings (construction does no network I/O) ...
    store = object_store_from(settings)
    assert isinstance(store, S3ObjectStore) and store.endpoint == "minio:9000" and store.bucket == "bizportal"
    # ... and the postgresql:// URL is driven by psycopg 3 (no connection is made).
    engine = make_engine(settings.resolved_database_url())
    try:
        assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
        assert engine.url.host == "postgres" and engine.url.database == "bizportal"
    finally:
        engine.dispose()
