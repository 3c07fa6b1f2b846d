"""Which adapter serves each agency, built at start-up from the `bizportal.agencies` entry points.

The built-in adapters (`inbox`, `webhook`) are entry points like any third-party package's, so an
agency's own adapter is installed with `pip install` and named in the configuration. Anything wrong —
an unknown adapter, a plug-in that does not import, a constructor that rejects its settings — raises
`DefinitionError` naming the agency and the adapter, which stops start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from bizportal.adapters.agencies.base import ENTRY_POINT_GROUP, AgencyAdapter
from bizportal.engine.errors import DefinitionError, NotFound
from bizportal.engine.plugins import EntryPointLike, installed

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


def available_adapters(group: str = ENTRY_POINT_GROUP) -> dict[str, EntryPointLike]:
    """The installed agency adapter entry points by name (see `plugins.installed`)."""
    return installed(group, "agency adapter")


def load_agency_adapters(config: Mapping[str, Mapping[str, Any]], agencies: Iterable[str], http: httpx.Client,
                         available: Mapping[str, EntryPointLike] | None = None) -> AgencyAdapters:
    """Build the adapter of every agency.

    Args:
        config: agency code -> {"adapter": name, ...that adapter's settings}; agencies not listed use `inbox`.
        agencies: every agency code of the catalogue.
        http: the HTTP client adapters make their calls with.
        available: the adapter entry points (default: the installed `bizportal.agencies` group).

    Raises:
        DefinitionError: an agency in `config` is not in the catalogue or names no adapter; the adapter is not
            installed; its plug-in fails to import or to build from the settings given. The message names
            the agency and the adapter.
    """
    known = set(agencies)
    unknown = sorted(set(config) - known)
    if unknown:
        raise DefinitionError(f"agency adapter configured for unknown agencies: {', '.join(unknown)}",
                              hint="use agency codes from bpmn/agencies.yaml")
    points = dict(available) if available is not None else available_adapters()
    factories: dict[str, Callable[..., Any]] = {}
    adapters: dict[str, AgencyAdapter] = {}
    for agency in sorted(known):
        settings = dict(config.get(agency, {"adapter": DEFAULT_ADAPTER}))
        name = settings.pop("adapter", None)
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"agency {agency}: its configuration names no adapter",
                                  hint=f'add "adapter": one of {", ".join(sorted(points)) or "(none installed)"}')
        if name not in points:
            raise DefinitionError(f"agency {agency}: adapter {name!r} is not installed",
                                  hint=f"installed adapters: {', '.join(sorted(points)) or 'none'}; install the "
                                       f"package that registers {name!r} under the {ENTRY_POINT_GROUP!r} entry points")
        if name not in factories:
            try:
                factories[name] = points[name].load()
            except Exception as err:
                raise DefinitionError(f"agency {agency}: adapter {name!r} ({points[name].value}) failed to load: "
                                      f"{type(err).__name__}: {err}", hint="reinstall or fix the adapter package"
                                      ) from err
        try:
            adapter = factories[name](settings, http)
        except Exception as err:
            raise DefinitionError(f"agency {agency}: adapter {name!r} rejected its settings: "
                                  f"{type(err).__name__}: {err}",
                                  hint=f"fix BIZPORTAL_AGENCY_ADAPTERS[{agency!r}]") from err
        missing = [part for part in ("name", "handles_tasks", "dispatch", "parse_callback")
                   if not hasattr(adapter, part)]
        if missing:
            raise DefinitionError(f"agency {agency}: adapter {name!r} ({points[name].value}) is not an agency "
                                  f"adapter: it lacks {', '.join(missing)}",
                                  hint="implement bizportal.adapters.agencies.base.AgencyAdapter")
        adapters[agency] = adapter
    return AgencyAdapters(adapters)
