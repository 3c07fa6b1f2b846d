"""The composition root: settings -> concrete adapters -> the engine. Nothing else reads settings."""

from __future__ import annotations

import httpx

from bizportal.adapters.jobs.arq_queue import ArqJobQueue
from bizportal.adapters.notifications.base import NotificationChannel
from bizportal.adapters.notifications.log import LogNotificationChannel
from bizportal.adapters.notifications.smtp import SmtpEmailChannel
from bizportal.adapters.registries.base import RegistryLookup
from bizportal.adapters.registries.http_lookup import HttpRegistryLookup
from bizportal.api.key_files import signing_from
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine, build_engine
from bizportal.engine.cases.agency_adapters import load_agency_adapters
from bizportal.engine.clock import Clock, SystemClock
from bizportal.engine.errors import DefinitionError
from bizportal.engine.payments.providers import PaymentProviders, load_payment_providers
from bizportal.storage.database import make_engine
from bizportal.storage.local_object_store import LocalObjectStore
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.object_store import ObjectStore
from bizportal.storage.s3_object_store import S3ObjectStore


def object_store_from(settings: Settings) -> ObjectStore:
    if settings.object_store == "s3":
        if not (settings.s3_endpoint and settings.s3_access_key and settings.s3_secret_key):
            raise DefinitionError("BIZPORTAL_OBJECT_STORE=s3 needs BIZPORTAL_S3_ENDPOINT, BIZPORTAL_S3_ACCESS_KEY "
                                  "and BIZPORTAL_S3_SECRET_KEY")
        return S3ObjectStore(endpoint=settings.s3_endpoint, access_key=settings.s3_access_key,
                             secret_key=settings.s3_secret_key.get_secret_value(), bucket=settings.s3_bucket,
                             region=settings.s3_region, secure=settings.s3_secure)
    return LocalObjectStore(settings.data_dir / "objects")


def channel_from(settings: Settings) -> NotificationChannel:
    """E-mail over SMTP when configured; otherwise notifications are only logged (embedded default)."""
    if settings.smtp_host is None:
        return LogNotificationChannel()
    return SmtpEmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_sender,
                            username=settings.smtp_username,
                            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                            starttls=settings.smtp_starttls)


def payments_from(settings: Settings, http: httpx.Client) -> PaymentProviders:
    """Stripe always (it answers 503 until a key is set); PromptPay once a PromptPay or biller id is set."""
    secret = lambda value: value.get_secret_value() if value is not None else None  # noqa: E731
    config = {
        "stripe": {"secret_key": secret(settings.stripe_secret_key),
                   "webhook_secret": secret(settings.stripe_webhook_secret), "api_base": settings.stripe_api_base},
        "promptpay": {"promptpay_id": settings.promptpay_id, "biller_id": settings.promptpay_biller_id,
                      "webhook_secret": secret(settings.promptpay_webhook_secret)},
    }
    enabled = ["stripe"] + (["promptpay"] if settings.promptpay_id or settings.promptpay_biller_id else [])
    return load_payment_providers(config, http, enabled)


def registry_from(settings: Settings) -> RegistryLookup | None:
    """The data-exchange lookup, when a registry is configured (none in the embedded default)."""
    if settings.registry_url is None:
        return None
    if settings.registry_api_key is None:
        raise DefinitionError("BIZPORTAL_REGISTRY_URL is set without BIZPORTAL_REGISTRY_API_KEY")
    return HttpRegistryLookup(settings.registry_url, settings.registry_api_key.get_secret_value())


def portal_from(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> LicensingEngine:
    """Build the whole engine from settings; migrations are applied first (idempotent).

    Raises:
        DefinitionError: a setting that cannot work (checked before anything is migrated or started),
            e.g. production settings without shared signing keys (see `key_files`).
    """
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private: the database, keys, objects
    signing = signing_from(settings)
    db = make_engine(settings.resolved_database_url())
    if migrate:
        upgrade_to_head(db)
    queue = ArqJobQueue(settings.redis_url) if settings.redis_url else None
    # One client for every agency adapter (they set their own timeouts); redirects are never followed.
    http = httpx.Client(timeout=10.0, follow_redirects=False)
    return build_engine(db=db, bpmn_dir=settings.bpmn_dir, object_store=object_store_from(settings),
                        clock=clock or SystemClock(), public_base_url=settings.public_base_url, queue=queue,
                        registry=registry_from(settings), channel=channel_from(settings),
                        opdc_email=settings.opdc_email,
                        agency_adapters=lambda codes: load_agency_adapters(settings.agency_adapters, codes, http),
                        payments=payments_from(settings, http),
                        signing=signing)
