"""What every use case needs, handed in by the composition root (never read from settings here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

# For the field types only: the kernel imports no engine package at run time, so every package may import
# the context without an import cycle (the contracts in pyproject.toml leave typing-only imports out).
if TYPE_CHECKING:
    from bizportal.adapters.notifications.base import NotificationChannel
    from bizportal.adapters.registries.base import RegistryLookup
    from bizportal.adapters.scanners.base import DocumentScanner
    from bizportal.engine.cases.agency_adapters import AgencyAdapters
    from bizportal.engine.catalogue.catalogue import Catalogue
    from bizportal.engine.catalogue.offices import OfficeDirectory
    from bizportal.engine.clock import Clock
    from bizportal.engine.documents.signing import LicenceSigning
    from bizportal.engine.links import Links
    from bizportal.engine.payments.providers import PaymentProviders
    from bizportal.engine.uploads.limits import UploadLimits
    from bizportal.engine.workflow.runtime import ProcessRuntime
    from bizportal.storage.object_store import ObjectStore


@dataclass
class EngineContext:
    catalogue: Catalogue
    runtime: ProcessRuntime
    clock: Clock
    object_store: ObjectStore
    offices: OfficeDirectory
    # The addresses notices, documents and deliveries carry (the api builds them: the engine formats no path).
    links: Links
    # How notifications reach people (the outbox's send job uses it; e-mail, or the log in the embedded set-up).
    notifications: NotificationChannel
    # The payment providers on offer, by name (paying online, and the refund job).
    payments: PaymentProviders
    # Which agencies decide in their own systems (steps are delivered there); empty: all work in the inbox.
    agencies: AgencyAdapters
    # The data exchange (civil and company registries); None where none is configured.
    registry: RegistryLookup | None = None
    # Signs e-licences: the Ed25519 key behind the verification QR and the PAdES certificate.
    signing: LicenceSigning | None = None
    # Asked about every uploaded document before it is accepted (the `accept_all` plug-in by default); None: none.
    scanner: DocumentScanner | None = None
    # The limits of uploaded documents; None: the defaults of engine/uploads/limits.py.
    upload_limits: UploadLimits | None = None
