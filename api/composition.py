"""The composition root: settings -> concrete adapters -> the engine. Nothing else reads settings.

Every adapter the engine uses is chosen here: the object store, and the plug-ins (`engine/plugins.py`) that
serve notifications, registry look-ups, payments, each agency and the document scanner, built from the settings
that configure them.
"""

from __future__ import annotations

import gc
from datetime import timedelta
from typing import Any

import httpx

from bizportal.adapters.jobs.arq_queue import ArqJobQueue
from bizportal.adapters.notifications.base import NotificationChannel
from bizportal.adapters.registries.base import RegistryLookup
from bizportal.adapters.scanners.base import DocumentScanner
from bizportal.api.key_files import signing_from
from bizportal.api.links import PublicLinks
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine, build_engine
from bizportal.engine.cases.agency_adapters import load_agency_adapters
from bizportal.engine.clock import Clock, SystemClock
from bizportal.engine.documents.typefaces import preload_fonts
from bizportal.engine.errors import StartupError
from bizportal.engine.payments.providers import PaymentProviders, load_payment_providers
from bizportal.engine.plugins import NOTIFICATIONS, REGISTRIES, SCANNERS, PluginLoader
from bizportal.engine.uploads.limits import UploadLimits
from bizportal.storage.database import make_engine
from bizportal.storage.local_object_store import LocalObjectStore
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.object_store import ObjectStore
from bizportal.storage.s3_object_store import S3ObjectStore


def object_store_from(settings: Settings) -> ObjectStore:
    if settings.object_store == "s3":
        if not (settings.s3_endpoint and settings.s3_access_key and settings.s3_secret_key):
            raise StartupError("BIZPORTAL_OBJECT_STORE=s3 needs BIZPORTAL_S3_ENDPOINT, BIZPORTAL_S3_ACCESS_KEY "
                               "and BIZPORTAL_S3_SECRET_KEY")
        return S3ObjectStore(endpoint=settings.s3_endpoint, access_key=settings.s3_access_key,
                             secret_key=settings.s3_secret_key.get_secret_value(), bucket=settings.s3_bucket,
                             region=settings.s3_region, secure=settings.s3_secure)
    return LocalObjectStore(settings.data_dir / "objects")


def _given(**values: Any) -> dict[str, Any]:
    """The settings that are set: an unset one is left to the plug-in's default (or reported missing by it)."""
    return {key: value.get_secret_value() if hasattr(value, "get_secret_value") else value
            for key, value in values.items() if value is not None}


def channel_from(settings: Settings, http: httpx.Client) -> NotificationChannel:
    """E-mail through the `smtp` plug-in when BIZPORTAL_SMTP_HOST is set; otherwise `log` (embedded default)."""
    loader = PluginLoader(NOTIFICATIONS, http)
    if settings.smtp_host is None:
        return loader.build("log", {})
    return loader.build("smtp", _given(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
                                       username=settings.smtp_username, password=settings.smtp_password,
                                       starttls=settings.smtp_starttls), setting="the BIZPORTAL_SMTP_* settings")


def payments_from(settings: Settings, http: httpx.Client) -> PaymentProviders:
    """Stripe always (it answers 503 until a key is set); PromptPay once a PromptPay or biller id is set."""
    config = {
        "stripe": _given(secret_key=settings.stripe_secret_key, webhook_secret=settings.stripe_webhook_secret,
                         api_base=settings.stripe_api_base, publishable_key=settings.stripe_publishable_key),
        "promptpay": _given(promptpay_id=settings.promptpay_id, biller_id=settings.promptpay_biller_id,
                            webhook_secret=settings.promptpay_webhook_secret),
    }
    enabled = ["stripe"] + (["promptpay"] if settings.promptpay_id or settings.promptpay_biller_id else [])
    return load_payment_providers(config, http, enabled, settings_of={
        "stripe": "BIZPORTAL_STRIPE_SECRET_KEY, BIZPORTAL_STRIPE_WEBHOOK_SECRET, BIZPORTAL_STRIPE_API_BASE",
        "promptpay": "BIZPORTAL_PROMPTPAY_ID, BIZPORTAL_PROMPTPAY_BILLER_ID, BIZPORTAL_PROMPTPAY_WEBHOOK_SECRET"})


def registry_from(settings: Settings, http: httpx.Client) -> RegistryLookup | None:
    """The data-exchange lookup (the `http` plug-in), when a registry is configured (none in the embedded default).

    Raises:
        StartupError: BIZPORTAL_REGISTRY_URL is set without BIZPORTAL_REGISTRY_API_KEY, or is no http(s) URL.
    """
    if settings.registry_url is None:
        return None
    if settings.registry_api_key is None:
        raise StartupError("BIZPORTAL_REGISTRY_URL is set without BIZPORTAL_REGISTRY_API_KEY")
    return PluginLoader(REGISTRIES, http).build(
        "http", _given(base_url=settings.registry_url, api_key=settings.registry_api_key),
        setting="BIZPORTAL_REGISTRY_URL and BIZPORTAL_REGISTRY_API_KEY")


def scanner_from(settings: Settings, http: httpx.Client) -> DocumentScanner:
    """The document scanner plug-in BIZPORTAL_DOCUMENT_SCANNER names (default `accept_all`, which accepts everything).

    Raises:
        StartupError: the plug-in is not installed or rejects BIZPORTAL_DOCUMENT_SCANNER_SETTINGS.
    """
    return PluginLoader(SCANNERS, http).build(settings.document_scanner, settings.document_scanner_settings,
                                              setting="BIZPORTAL_DOCUMENT_SCANNER_SETTINGS")


def upload_limits_from(settings: Settings) -> UploadLimits:
    return UploadLimits(file_bytes=settings.max_document_bytes,
                        application_bytes=settings.max_application_documents_bytes,
                        pdf_pages=settings.max_document_pdf_pages, image_pixels=settings.max_document_image_pixels,
                        retention_days=settings.document_retention_days)


def engine_from(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> LicensingEngine:
    """Build the whole engine from settings; migrations are applied first (idempotent).

    Raises:
        StartupError: a setting that cannot work (checked before anything is migrated or started), e.g.
            production settings without shared signing keys (see `key_files`), or a plug-in that does not load
            or rejects its settings; DefinitionError (a kind of it): a BPMN or manual file that cannot be used.
    """
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private: the database, keys, objects
    signing = signing_from(settings)
    db = make_engine(settings.resolved_database_url(), pool_size=settings.database_pool_size)
    if migrate:
        upgrade_to_head(db)
    queue = ArqJobQueue(settings.redis_url) if settings.redis_url else None
    # One client for every plug-in (they set their own timeouts); redirects are never followed.
    http = httpx.Client(timeout=10.0, follow_redirects=False)
    return build_engine(db=db, bpmn_dir=settings.bpmn_dir, object_store=object_store_from(settings),
                        clock=clock or SystemClock(), links=PublicLinks(settings.public_base_url),
                        channel=channel_from(settings, http), queue=queue, registry=registry_from(settings, http),
                        opdc_email=settings.opdc_email,
                        agency_adapters=lambda codes: load_agency_adapters(settings.agency_adapters, codes, http),
                        payments=payments_from(settings, http),
                        signing=signing, scanner=scanner_from(settings, http),
                        upload_limits=upload_limits_from(settings),
                        lost_job_after=timedelta(seconds=2 * settings.job_timeout_seconds))


def settle_process() -> None:
    """Make what every request and job reads once, then set it aside from the garbage collector.

    The fonts are parsed now, not by the first document. `gc.freeze()` then moves every object alive (the
    catalogue, the BPMN specs, SQLAlchemy's mappings, the ~135,000 objects of the parsed fonts) to a generation
    the collector never scans: its full passes otherwise walked them all, about 1.4 ms per document rendered
    (benchmarks/README.md, documents). Called once a process has built its engine, before it serves.
    """
    preload_fonts()
    gc.collect()  # what start-up left as garbage goes now, not frozen with the rest
    gc.freeze()
