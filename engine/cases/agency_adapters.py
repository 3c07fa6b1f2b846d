"""Which adapter serves each agency, built at start-up from the `bizportal.agencies` entry points.

The built-in adapters (`inbox`, `webhook`) are entry points like any third-party package's, so an
agency's own adapter is installed with `pip install` and named in the configuration; `plugins.PluginLoader`
builds them. Anything wrong (an unknown adapter, a plug-in that does not import, settings it rejects) raises
`StartupError` naming the agency and the adapter, which stops start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from bizportal.adapters.agencies.base import AgencyAdapter
from bizportal.engine.errors import NotFound, StartupError
from bizportal.engine.plugins import AGENCIES, EntryPointLike, PluginLoader, installed

DEFAULT_ADAPTER = "inbox"


class AgencyAdapters:
    """The adapter of every agency; agencies without one work in the inbox."""

    def __init__(self, adapters: Mapping[str, AgencyAdapter] | None = None) -> None:
        self._adapters = dict(adapters or {})

    def get(self, agency: str) -> AgencyAdapter | None:
        return self._adapters.get(agency)

    def for_agency(self, agency: str) -> AgencyAdapter:
        """The adapter serving `agency`.

        Raises:
            NotFound: the agency is not in the catalogue.
        """
        adapter = self._adapters.get(agency)
        if adapter is None:
            raise NotFound(f"agency {agency!r} is not known", hint="use an agency code from /api/v1/licences")
        return adapter

    def handles_tasks(self, agency: str | None) -> bool:
        """True when the agency's steps go to its own system rather than our inbox."""
        adapter = self._adapters.get(agency) if agency else None
        return adapter is not None and adapter.handles_tasks

    def external_agencies(self) -> set[str]:
        """Agencies whose steps go to their own systems (and so do not appear in our officer inbox)."""
        return {code for code, adapter in self._adapters.items() if adapter.handles_tasks}

    def names(self) -> dict[str, str]:
        """Agency code -> adapter name, for logs and health pages."""
        return {code: adapter.name for code, adapter in sorted(self._adapters.items())}


def available_adapters() -> dict[str, EntryPointLike]:
    """The installed agency adapter entry points by name (see `plugins.installed`)."""
    return installed(AGENCIES)


def load_agency_adapters(config: Mapping[str, Mapping[str, Any]], agencies: Iterable[str], http: httpx.Client,
                         available: Mapping[str, EntryPointLike] | None = None) -> AgencyAdapters:
    """Build the adapter of every agency.

    Args:
        config: agency code -> {"adapter": name, ...that adapter's settings}; agencies not listed use `inbox`.
        agencies: every agency code of the catalogue.
        http: the HTTP client adapters make their calls with.
        available: the adapter entry points (default: the installed `bizportal.agencies` group).

    Raises:
        StartupError: an agency in `config` is not in the catalogue or names no adapter; the adapter is not
            installed; its plug-in fails to import, rejects its settings or is no agency adapter. The message
            names the agency and the adapter.
    """
    known = set(agencies)
    unknown = sorted(set(config) - known)
    if unknown:
        raise StartupError(f"agency adapter configured for unknown agencies: {', '.join(unknown)}",
                           hint="use agency codes from bpmn/agencies.yaml")
    loader = PluginLoader(AGENCIES, http, available)
    adapters: dict[str, AgencyAdapter] = {}
    for agency in sorted(known):
        settings = dict(config.get(agency, {"adapter": DEFAULT_ADAPTER}))
        name = settings.pop("adapter", None)
        if not isinstance(name, str) or not name:
            raise StartupError(f"agency {agency}: its configuration names no adapter",
                               hint=f'add "adapter": one of {", ".join(loader.names()) or "(none installed)"}')
        adapters[agency] = loader.build(name, settings, subject=f"agency {agency}: adapter {name!r}",
                                        setting=f"BIZPORTAL_AGENCY_ADAPTERS[{agency!r}]")
    return AgencyAdapters(adapters)
