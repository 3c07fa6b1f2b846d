"""The HTTP app factory (a composition root)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from starlette.types import ASGIApp

from bizportal.api import access_log, errors, input_guard, pages
from bizportal.api.composition import engine_from, settle_process
from bizportal.api.download_links import DownloadLinks
from bizportal.api.oidc import OidcProvider
from bizportal.api.rate_limits import RateLimitMiddleware, public_rules
from bizportal.api.request_limits import Limits, RequestLimits
from bizportal.api.routes.agencies import router as agencies_router
from bizportal.api.routes.applications import router as applications_router
from bizportal.api.routes.auth import me_router
from bizportal.api.routes.auth import router as auth_router
from bizportal.api.routes.auth import staff_router as staff_auth_router
from bizportal.api.routes.business_types import router as business_types_router
from bizportal.api.routes.companies import router as companies_router
from bizportal.api.routes.consents import router as consents_router
from bizportal.api.routes.diagrams import router as diagrams_router
from bizportal.api.routes.downloads import router as downloads_router
from bizportal.api.routes.entrepreneurs import router as entrepreneurs_router
from bizportal.api.routes.health import router as health_router
from bizportal.api.routes.issued_licences import router as issued_router
from bizportal.api.routes.kpis import router as kpis_router
from bizportal.api.routes.licences import open_data as open_data_router
from bizportal.api.routes.licences import pages as pages_router
from bizportal.api.routes.licences import router as licences_router
from bizportal.api.routes.my_data import router as my_data_router
from bizportal.api.routes.payments import online_router as online_payments_router
from bizportal.api.routes.payments import router as payments_router
from bizportal.api.routes.receipts import router as receipts_router
from bizportal.api.routes.refunds import router as refunds_router
from bizportal.api.routes.register import router as register_router
from bizportal.api.routes.staff import router as staff_router
from bizportal.api.routes.status_stream import router as status_stream_router
from bizportal.api.routes.surveys import router as surveys_router
from bizportal.api.routes.tasks import router as tasks_router
from bizportal.api.routes.uploads import router as uploads_router
from bizportal.api.routes.verification import page_router as verification_page_router
from bizportal.api.routes.verification import router as verification_router
from bizportal.api.security_headers import SecurityHeaders
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.clock import Clock
from bizportal.engine.errors import StartupError

log = logging.getLogger(__name__)

DESCRIPTION = """
One-stop business licensing: apply once for every licence a business needs, follow each
agency's decision, pay the fees and receive signed e-licences.

Authenticate with `Authorization: Bearer <JWT>` (roles: `applicant`, `counter_officer`,
`agency_officer` and `agency_supervisor` with an `agency` claim, `admin`). For development, mint one with
`bizportal token --role applicant --subject alice`. With an OpenID provider configured, a browser signs in at
`/auth/login` (a session cookie; unsafe requests with it need this service's `Origin`), and the provider's
ID tokens are accepted as bearer tokens. Money is integer satang (1 THB = 100 satang).
"""


def _sweeper(engine: LicensingEngine, interval: float, stop: threading.Event) -> None:
    """Embedded mode: pick up outbox rows a crash left behind, fire due timers, send due notices and reminders."""
    while not stop.wait(interval):
        try:
            engine.dispatch()
            engine.fire_due_timers_and_notices()
        except Exception:  # keep sweeping; the next round retries
            log.exception("background sweep failed")


class _App(FastAPI):
    """FastAPI with the security headers outside its server-error middleware, so a 500 carries them too."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), self.state.public_base_url)




def oidc_provider(settings: Settings) -> OidcProvider | None:
    """The OpenID provider citizens sign in with, or None when BIZPORTAL_OIDC_ISSUER is unset (its discovery
    document is read on first use, so the provider need not be up when the service starts).

    Raises:
        StartupError: an issuer without a client id.
    """
    if not settings.oidc_issuer:
        return None
    if not settings.oidc_client_id:
        raise StartupError("BIZPORTAL_OIDC_ISSUER is set but BIZPORTAL_OIDC_CLIENT_ID is not",
                           hint="set the client id the provider registered for this service")
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    return OidcProvider(settings.oidc_issuer, settings.oidc_client_id, secret, settings.oidc_claims)


def staff_oidc_provider(settings: Settings) -> OidcProvider | None:
    """The provider staff sign in with (their organisation's), or None when BIZPORTAL_STAFF_OIDC_ISSUER is unset.

    Raises:
        StartupError: an issuer without a client id, or the citizens' issuer and client id both: then no token
            could tell a staff sign-in from a citizen's.
    """
    if not settings.staff_oidc_issuer:
        return None
    if not settings.staff_oidc_client_id:
        raise StartupError("BIZPORTAL_STAFF_OIDC_ISSUER is set but BIZPORTAL_STAFF_OIDC_CLIENT_ID is not",
                           hint="set the client id the staff provider registered for this service")
    if (settings.staff_oidc_issuer, settings.staff_oidc_client_id) == (settings.oidc_issuer, settings.oidc_client_id):
        raise StartupError("the staff provider has the citizens' issuer and client id: a citizen's token could not "
                           "be told from a staff member's",
                           hint="register a second client for staff at the provider and set it in "
                           "BIZPORTAL_STAFF_OIDC_CLIENT_ID")
    secret = settings.staff_oidc_client_secret.get_secret_value() if settings.staff_oidc_client_secret else None
    return OidcProvider(settings.staff_oidc_issuer, settings.staff_oidc_client_id, secret, settings.staff_oidc_claims,
                        setting="BIZPORTAL_STAFF_OIDC")


def create_app(settings: Settings | None = None, clock: Clock | None = None, engine: LicensingEngine | None = None,
               background_sweeper: bool = False, migrate: bool = True) -> FastAPI:
    """Build the app. Loads and validates every definition now, so a bad file stops start-up."""
    settings = settings or Settings()
    signing_key = settings.signing_key()  # first: a missing or short key stops start-up before anything is built
    oidc = oidc_provider(settings)
    staff_oidc = staff_oidc_provider(settings)
    engine = engine or engine_from(settings, clock=clock, migrate=migrate)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        if background_sweeper and not settings.redis_url:
            threading.Thread(target=_sweeper, args=(engine, settings.background_interval_seconds, stop),
                             daemon=True, name="bizportal-sweeper").start()
        yield
        stop.set()
        engine.queue.close()  # e.g. the arq queue's Redis pool
        for provider in (oidc, staff_oidc):
            if provider is not None:
                provider.close()

    app = _App(title="Biz Portal engine", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.engine = engine
    app.state.finder = engine.finder
    app.state.public_base_url = settings.public_base_url
    app.state.signing_key = signing_key
    app.state.token_max_lifetime = timedelta(minutes=settings.token_max_lifetime_minutes)
    app.state.oidc = oidc
    app.state.staff_oidc = staff_oidc
    app.state.download_links = DownloadLinks(app.state.signing_key, settings.public_base_url)
    errors.install(app)
    app.add_middleware(input_guard.NulGuard)
    app.add_middleware(RequestLimits, limits=Limits(body_bytes=settings.max_body_bytes,
                                                    upload_bytes=settings.max_upload_bytes,
                                                    document_bytes=settings.max_document_bytes,
                                                    header_bytes=settings.max_header_bytes))
    # Added last, so it runs first: a spent budget is refused before anything else reads the request.
    app.add_middleware(RateLimitMiddleware,
                       rules=public_rules(settings.rate_limit_verify_uploads, settings.rate_limit_lookups),
                       auth_failures=settings.rate_limit_auth_failures, storage_uri=settings.redis_url or "memory://")
    access_log.install()
    for router in (health_router, licences_router, open_data_router, business_types_router, applications_router,
                   uploads_router, status_stream_router, surveys_router, diagrams_router, tasks_router,
                   agencies_router, payments_router, online_payments_router, receipts_router, refunds_router,
                   downloads_router, issued_router, kpis_router, register_router, verification_router, staff_router,
                   auth_router, staff_auth_router, me_router, my_data_router, consents_router, companies_router,
                   entrepreneurs_router, pages_router, verification_page_router):
        app.include_router(router)
    pages.install(app)  # the pages for people (api/pages), their static files and the sign-in redirect
    errors.document(app)  # the OpenAPI document declares every error status with the one error body
    return app


def app_from_environment() -> FastAPI:
    """The app of one of `serve --processes N`'s processes (uvicorn's factory): the settings come from the
    environment `serve` prepared, and the database was migrated by `serve` before the processes started."""
    app = create_app(Settings(), background_sweeper=True, migrate=False)
    settle_process()
    return app
