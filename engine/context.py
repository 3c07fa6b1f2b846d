"""What every use case needs, handed in by the composition root (never read from settings here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bizportal.adapters.registry_lookup import RegistryLookup
from bizportal.engine.agency_registry import AgencyAdapters
from bizportal.engine.catalogue import Catalogue
from bizportal.engine.clock import Clock
from bizportal.engine.licence_signing import LicenceSigning
from bizportal.engine.offices import OfficeDirectory
from bizportal.engine.process_runtime import ProcessRuntime
from bizportal.storage.object_store import ObjectStore


@dataclass
class EngineContext:
    catalogue: Catalogue
    runtime: ProcessRuntime
    clock: Clock
    object_store: ObjectStore
    offices: OfficeDirectory
    public_base_url: str
    # The data exchange (civil and company registries); None where none is configured.
    registry: RegistryLookup | None = None
    # Which agencies decide in their own systems (steps are delivered there); default: all in the inbox.
    agencies: AgencyAdapters = field(default_factory=AgencyAdapters)
    # Signs e-licences: the Ed25519 key behind the verification QR and the PAdES certificate.
    signing: LicenceSigning | None = None
