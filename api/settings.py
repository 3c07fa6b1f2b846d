"""Configuration, read only by the composition roots (HTTP app factory, worker, CLI).

Every variable is `BIZPORTAL_<FIELD>`; the defaults are the embedded set-up (SQLite and a
local object-store folder under ./var, jobs in-process), so `make run` needs no server.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Literal

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BIZPORTAL_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="SQLite file, local objects and the generated key")
    database_url: str | None = Field(default=None, description="default: sqlite:///<data_dir>/bizportal.db")
    redis_url: str | None = Field(default=None, description="set to run jobs on arq workers; unset = in-process")
    object_store: Literal["local", "s3"] = "local"
    s3_endpoint: str | None = Field(default=None, description="host:port of S3/MinIO")
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "bizportal"
    s3_region: str = "us-east-1"
    s3_secure: bool = False
    token_signing_key: SecretStr | None = Field(default=None, description="HS256 key; generated on first run")
    token_ttl_minutes: int = 60 * 12
    public_base_url: str = "http://127.0.0.1:8000"
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
    promptpay_id: str | None = Field(default=None, description="PromptPay id (mobile, tax id) that receives fees")
    promptpay_biller_id: str | None = Field(default=None, description="Thai QR bill-payment biller id (tag 30)")
    promptpay_webhook_secret: SecretStr | None = None
    verification_key: Path | None = Field(default=None, description="Ed25519 PEM key signing the verification "
                                          "QR; default <data_dir>/verification-ed25519.pem, created on first run")
    licence_signing_key: Path | None = Field(default=None, description="PEM key of the PAdES signing certificate")
    licence_signing_cert: Path | None = Field(default=None, description="PEM certificate; unset: a development "
                                              "certificate is generated into the data dir")
    registry_url: str | None = Field(default=None, description="data-exchange registry API (GDX/DOPA gateway)")
    registry_api_key: SecretStr | None = None
    # Holds the agencies' shared secrets: kept out of the settings' repr.
    agency_adapters: dict[str, dict[str, Any]] = Field(
        default_factory=dict, repr=False,
        description='JSON: agency code -> {"adapter": name, ...its settings}; unlisted agencies use the inbox')
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

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'bizportal.db').resolve()}"

    def signing_key(self) -> str:
        """The configured key, or one generated into the data dir on first run (kept private)."""
        if self.token_signing_key is not None:
            return self.token_signing_key.get_secret_value()
        path = self.data_dir / "token-signing.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        return path.read_text(encoding="utf-8").strip()
