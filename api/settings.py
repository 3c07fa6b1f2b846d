"""Configuration, read only by the composition roots (HTTP app factory, worker, CLI).

Every variable is `BIZPORTAL_<FIELD>`; the defaults are the embedded set-up (SQLite and a
local object-store folder under ./var, jobs in-process), so `make run` needs no server.
A variable set to the empty string counts as unset (its default applies): docker-compose.yml passes
every setting as `${BIZPORTAL_X:-}`, so an operator sets only the ones they need.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, Literal

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bizportal.engine.errors import StartupError

DEFAULT_BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"
# HS256 needs a key at least as long as its hash (RFC 7518 s.3.2): a shorter one can be guessed offline.
MIN_SIGNING_KEY_BYTES = 32
KEY_FILE = "token-signing.key"
# Which claim of the provider's ID token holds each of our fields (BIZPORTAL_OIDC_CLAIMS overrides any of them).
DEFAULT_OIDC_CLAIMS = {"id_number": "pid", "name": "name", "ial": "ial", "aal": "aal"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BIZPORTAL_", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Field(default=Path("var"), description="SQLite file, local objects and the generated key")
    database_url: str | None = Field(default=None, description="default: sqlite:///<data_dir>/bizportal.db")
    database_pool_size: int = Field(default=10, ge=1, le=200, description="database connections each process keeps "
                                    "open (up to as many again are opened for a burst and closed after it); a "
                                    "request or job that finds none free opens a new one, which costs PostgreSQL a "
                                    "process")
    redis_url: str | None = Field(default=None, description="set to run jobs on arq workers; unset = in-process")
    job_timeout_seconds: float = Field(default=60, gt=0, le=3600, description="longest an arq job may run before "
                                       "the worker cancels it and it is retried; a job dispatched and not finished "
                                       "after twice this (its worker died, Redis lost its queue) is dispatched again")
    worker_poll_seconds: float = Field(default=0.02, gt=0, le=5, description="how often an arq worker looks for "
                                       "queued jobs (arq's own default, 0.5 s, would add up to that to every job)")
    object_store: Literal["local", "s3"] = "local"
    s3_endpoint: str | None = Field(default=None, description="host:port of S3/MinIO")
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "bizportal"
    s3_region: str = "us-east-1"
    s3_secure: bool = False
    token_signing_key: SecretStr | None = Field(default=None, description="HS256 key of 32+ bytes; generated "
                                                "into <data_dir>/token-signing.key on first run")
    token_ttl_minutes: int = 60 * 12
    token_max_lifetime_minutes: int = Field(default=24 * 60, gt=0, description="a token whose exp is further than "
                                            "this from its iat (or from now) is refused, whoever signed it")
    max_body_bytes: int = Field(default=1024 * 1024, gt=0, description="largest JSON (or other non-multipart) "
                                "request body; larger ones get 413 while they are read")
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="largest multipart/form-data "
                                  "request body (the PDF verifier's upload); a document upload may be "
                                  "BIZPORTAL_MAX_DOCUMENT_BYTES + 64 KB")
    max_document_bytes: int = Field(default=20 * 1024 * 1024, gt=0, description="largest uploaded document (a PDF "
                                    "as uploaded; an image as re-encoded)")
    max_application_documents_bytes: int = Field(default=100 * 1024 * 1024, gt=0, description="all the uploaded "
                                                 "documents of one application together, earlier versions included")
    max_document_pdf_pages: int = Field(default=500, gt=0, description="most pages an uploaded PDF may have")
    document_retention_days: int = Field(default=365, ge=1, le=3650, description="how long the documents of an "
                                         "application that ended without a licence (rejected, withdrawn, cancelled, "
                                         "fee unpaid) are kept before the sweep deletes them (PDPA)")
    max_document_image_pixels: int = Field(default=25_000_000, gt=0, description="largest uploaded image, width x "
                                           "height (decoding a larger one could exhaust memory)")
    document_scanner: str = Field(default="accept_all", description="the `bizportal.scanners` plug-in asked about "
                                  "every upload; the built-in `accept_all` accepts everything")
    # May hold a scanner service's credentials: kept out of the settings' repr.
    document_scanner_settings: dict[str, Any] = Field(default_factory=dict, repr=False,
                                                      description="JSON: the scanner plug-in's own settings")
    max_header_bytes: int = Field(default=16 * 1024, gt=0, description="largest request head (request line and "
                                  "headers): uvicorn's h11 parser stops buffering past it; the app answers 431")
    public_base_url: str = Field(default="http://127.0.0.1:8000", description="the address people reach this "
                                 "service at (links in e-mails and PDFs, the sign-in's return address); unset, it "
                                 "follows BIZPORTAL_HOST and BIZPORTAL_PORT")
    smtp_host: str | None = Field(default=None, description="set to e-mail notifications; unset = log only")
    smtp_port: int = 587
    smtp_sender: str = "no-reply@bizportal.localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    opdc_email: str | None = Field(default=None, description="OPDC's address: copies of Section 10 notices")
    stripe_secret_key: SecretStr | None = Field(default=None, description="unset: Stripe answers 503")
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = Field(default=None, description="a Stripe-compatible server (tests)")
    stripe_publishable_key: str | None = Field(default=None, description="pk_...: the pages' card form (Stripe.js) "
                                               "needs it; unset: the pages offer no card payment")
    promptpay_id: str | None = Field(default=None, description="PromptPay id (mobile, tax id) that receives fees")
    promptpay_biller_id: str | None = Field(default=None, description="Thai QR bill-payment biller id (tag 30)")
    promptpay_webhook_secret: SecretStr | None = None
    # The three key files are read, never created; unset, development keys are generated into the data dir
    # (refused in production: see is_production). `bizportal keys <folder>` writes a set.
    verification_key: Path | None = Field(default=None, description="Ed25519 PEM key signing the verification "
                                          "QR; default <data_dir>/verification-ed25519.pem, created on first run")
    licence_signing_key: Path | None = Field(default=None, description="PEM key of the PAdES signing certificate")
    licence_signing_cert: Path | None = Field(default=None, description="PEM certificate; unset: a development "
                                              "certificate is generated into the data dir")
    registry_url: str | None = Field(default=None, description="data-exchange registry API (GDX/DOPA gateway)")
    registry_api_key: SecretStr | None = None
    # Holds the agencies' shared secrets: kept out of the settings' repr. Each agency's settings are checked
    # against its adapter's own `Settings` model when the adapter is built (engine/plugins.py).
    agency_adapters: dict[str, dict[str, Any]] = Field(
        default_factory=dict, repr=False,
        description='JSON: agency code -> {"adapter": name, ...its settings}; unlisted agencies use the inbox')
    # Citizens sign in with OpenID Connect (DGA Digital ID, ThaID or any provider): unset issuer = no sign-in page,
    # only the development tokens of `bizportal token`. See README "Signing in".
    oidc_issuer: str | None = Field(default=None, description="the provider's issuer URL; its discovery document "
                                    "is <issuer>/.well-known/openid-configuration")
    oidc_client_id: str | None = Field(default=None, description="this service's client id at the provider (the "
                                       "`aud` of the tokens it accepts)")
    oidc_client_secret: SecretStr | None = Field(default=None, description="the client secret (authorization code "
                                                 "exchange); unset for a public client")
    oidc_claims: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_OIDC_CLAIMS),
                                        description="JSON: our field (id_number, name, ial, aal) -> the provider's "
                                        "claim name; fields left out keep their default")
    # Staff (officers, counter staff, administrators) sign in with their organisation's provider, a second one:
    # unset issuer = staff use development tokens only. Their role, agency and office come from the staff
    # register (POST /api/v1/staff), never from the token. A bearer token is the staff provider's when its `iss`
    # is this issuer and, if the citizens' provider has the same issuer, when its `aud` is this client id (the
    # audience decides); any other token is the citizens'. See README "Staff sign-in".
    staff_oidc_issuer: str | None = Field(default=None, description="the staff provider's issuer URL (may be the "
                                          "citizens' one: then the client id tells staff tokens apart)")
    staff_oidc_client_id: str | None = Field(default=None, description="this service's client id at the staff "
                                             "provider; must differ from BIZPORTAL_OIDC_CLIENT_ID when the two "
                                             "providers share an issuer")
    staff_oidc_client_secret: SecretStr | None = Field(default=None, description="the staff client's secret; unset "
                                                       "for a public client")
    staff_oidc_claims: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_OIDC_CLAIMS),
                                              description="JSON, as BIZPORTAL_OIDC_CLAIMS; only `name` (the display "
                                              "name, when the register gives none) is read for staff")
    bpmn_dir: Path = DEFAULT_BPMN_DIR
    host: str = "127.0.0.1"
    port: int = 8000
    background_interval_seconds: float = Field(default=30.0, description="in-process timer/outbox sweep period")
    log_level: str = "info"
    # Per client address; counted in Redis when redis_url is set (shared by every API process).
    rate_limit_verify_uploads: str = Field(default="20/minute", description="POST /api/v1/verify (PDF uploads)")
    rate_limit_lookups: str = Field(default="120/minute", description="verification look-ups and download links")
    rate_limit_auth_failures: str = Field(default="30/minute", description="requests with a rejected token; past "
                                          "it, every signed-in request from that address waits")

    @field_validator("rate_limit_verify_uploads", "rate_limit_lookups", "rate_limit_auth_failures")
    @classmethod
    def _a_rate_limit(cls, value: str) -> str:
        try:
            parse_rate_limit(value)
        except ValueError as err:
            raise ValueError(f"{value!r} is not a rate limit; write it like '20/minute' or '1000/hour'") from err
        return value

    @field_validator("oidc_claims", "staff_oidc_claims")
    @classmethod
    def _a_claims_map(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(DEFAULT_OIDC_CLAIMS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; the map's keys are {sorted(DEFAULT_OIDC_CLAIMS)}")
        empty = sorted(field for field, claim in value.items() if not claim.strip())
        if empty:
            raise ValueError(f"field(s) {empty} map to an empty claim name; name the provider's claim")
        return {**DEFAULT_OIDC_CLAIMS, **{field: claim.strip() for field, claim in value.items()}}

    @field_validator("oidc_issuer", "staff_oidc_issuer")
    @classmethod
    def _an_issuer(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} is not an issuer URL; write it like https://id.example.go.th")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _base_url_follows_the_port(self) -> Settings:
        """Unset, the public address is where `serve` listens, so links and the sign-in's return work on any port."""
        if "public_base_url" not in self.model_fields_set:
            self.public_base_url = f"http://{self.host}:{self.port}"
            # Assigning marks the field as set; it was derived, not set, and `serve --port` must still move it.
            self.model_fields_set.discard("public_base_url")
        return self

    def is_production(self) -> bool:
        """Jobs on Redis workers or objects on S3: several processes serve one deployment, so they must share
        their keys (see `missing_production_keys`)."""
        return bool(self.redis_url) or self.object_store == "s3"

    def missing_production_keys(self) -> list[str]:
        """The key settings left to their development default (a key generated into this process's data dir)."""
        names = ("token_signing_key", "verification_key", "licence_signing_key", "licence_signing_cert")
        return [f"BIZPORTAL_{name.upper()}" for name in names if getattr(self, name) is None]

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'bizportal.db').resolve()}"

    def signing_key(self) -> str:
        """The configured key, or one generated into the data dir on first run (kept private).

        Raises:
            StartupError: the key (configured, or read from the key file) is shorter than 32 bytes.
        """
        if self.token_signing_key is not None:
            return _long_enough(self.token_signing_key.get_secret_value(), "BIZPORTAL_TOKEN_SIGNING_KEY",
                                "set a random key of 32+ bytes, e.g. `openssl rand -hex 32`")
        path = self.data_dir / KEY_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            _create_key_file(path)
        return _long_enough(path.read_text(encoding="utf-8").strip(), str(path),
                            "delete the file to have a new key generated (tokens signed with the old one stop "
                            "working), or set BIZPORTAL_TOKEN_SIGNING_KEY")


def _long_enough(key: str, source: str, hint: str) -> str:
    if len(key.encode("utf-8")) < MIN_SIGNING_KEY_BYTES:
        state = "is empty" if not key else f"is shorter than {MIN_SIGNING_KEY_BYTES} bytes"
        raise StartupError(f"the token signing key in {source} {state}", hint=hint)
    return key


def _create_key_file(path: Path) -> None:
    """Write a new random key to `path` all at once, readable by this user only.

    The key is written to a private temporary file beside `path`, then linked into place: readers see no
    file or the whole key, never an empty one (a crash half-way leaves only the temporary file), and when
    two processes start at once the first link wins and both use its key.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(48))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError:  # a file system without hard links
            os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The `BIZPORTAL_*` variables that make `Settings()` equal `settings`, for the processes `serve` starts.

    Only what was set (by the environment or by `serve` itself, e.g. the development sign-in) is written:
    the rest stays at its default in the child too. Maps and lists as JSON, as the environment takes them.
    """
    environment: dict[str, str] = {}
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, dict | list):
            text = json.dumps(value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        environment[f"BIZPORTAL_{name.upper()}"] = text
    return environment
