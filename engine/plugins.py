"""Installed plug-ins: the five entry-point groups, and the one loader that builds a plug-in of any of them.

Agency adapters, payment providers, notification channels, registry look-ups and document scanners are all
plug-ins: a class registered under its group's entry points, the built-ins in this project's pyproject.toml
exactly like a third-party package's. The composition root chooses which plug-in serves, and with which settings; this
module finds, checks and builds it:

    [project.entry-points."bizportal.agencies"]
    my_system = "my_package.adapter:MySystemAdapter"

    class MySystemAdapter:
        class Settings(pydantic.BaseModel):       # the plug-in's own keys, checked at start-up
            url: str
            token: str

        def __init__(self, settings: Settings, http: httpx.Client) -> None: ...

A plug-in class declares its settings as a pydantic model `Settings`; its configuration is validated against it
first, so a missing or wrong key stops start-up naming the plug-in and the field (never the value: settings
hold secrets). It is then built with `Plugin.from_settings(settings, http)` when it has that class method, else
with `Plugin(settings, http)`. A plug-in without `Settings` gets its configuration as a plain mapping. Anything
wrong (not installed, does not import, rejects its settings, lacks a member of the group's protocol) raises
`StartupError` naming the plug-in, which stops start-up.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from bizportal.adapters.agencies.base import AgencyAdapter
from bizportal.adapters.notifications.base import NotificationChannel
from bizportal.adapters.payments.base import PaymentProvider
from bizportal.adapters.registries.base import RegistryLookup
from bizportal.adapters.scanners.base import DocumentScanner
from bizportal.engine.errors import StartupError

T = TypeVar("T")


class EntryPointLike(Protocol):
    name: str
    value: str

    def load(self) -> Any: ...


@dataclass(frozen=True)
class PluginGroup(Generic[T]):
    """One kind of plug-in: its entry-point group, how messages name it, and the protocol it implements."""

    entry_points: str
    kind: str
    contract: Any  # the Protocol class T (a protocol is not a concrete `type[T]`)

    def members(self) -> list[str]:
        """What a built plug-in must have: the contract's attributes, then its methods, in declaration order."""
        declared = [name for name in getattr(self.contract, "__annotations__", {}) if not name.startswith("_")]
        methods = [name for name, value in vars(self.contract).items()
                   if inspect.isfunction(value) and not name.startswith("_")]
        return declared + [name for name in methods if name not in declared]


# Every group the engine loads, in this one place (third-party packages register under these names).
AGENCIES: PluginGroup[AgencyAdapter] = PluginGroup("bizportal.agencies", "agency adapter", AgencyAdapter)
PAYMENTS: PluginGroup[PaymentProvider] = PluginGroup("bizportal.payments", "payment provider", PaymentProvider)
NOTIFICATIONS: PluginGroup[NotificationChannel] = PluginGroup("bizportal.notifications", "notification channel",
                                                              NotificationChannel)
REGISTRIES: PluginGroup[RegistryLookup] = PluginGroup("bizportal.registries", "registry lookup", RegistryLookup)
SCANNERS: PluginGroup[DocumentScanner] = PluginGroup("bizportal.scanners", "document scanner", DocumentScanner)
GROUPS: tuple[PluginGroup[Any], ...] = (AGENCIES, PAYMENTS, NOTIFICATIONS, REGISTRIES, SCANNERS)


def installed(group: PluginGroup[Any]) -> dict[str, EntryPointLike]:
    """The entry points of `group` by name.

    Raises:
        StartupError: two installed packages claim the same name with different classes.
    """
    found: dict[str, EntryPointLike] = {}
    for point in entry_points(group=group.entry_points):
        previous = found.get(point.name)
        if previous is not None and previous.value != point.value:
            raise StartupError(f"two packages register {group.kind} {point.name!r}: {previous.value} and "
                               f"{point.value}", hint="uninstall one of them")
        found[point.name] = point
    return found


def field_errors(err: ValidationError) -> str:
    """`field: message` for every error; the input values are left out (they may be secrets)."""
    return "; ".join(f"{'.'.join(str(part) for part in e['loc']) or 'settings'}: {e['msg']}" for e in err.errors())


class PluginLoader(Generic[T]):
    """Builds plug-ins of one group; each entry point is imported at most once, and only when a plug-in uses it.

    Args:
        group: which plug-ins.
        http: the shared HTTP client every plug-in makes its calls with.
        available: the entry points by name (default: those installed for the group).
    """

    def __init__(self, group: PluginGroup[T], http: httpx.Client,
                 available: Mapping[str, EntryPointLike] | None = None) -> None:
        self.group = group
        self.http = http
        self.points = dict(available) if available is not None else installed(group)
        self._classes: dict[str, Any] = {}

    def names(self) -> list[str]:
        return sorted(self.points)

    def build(self, name: str, config: Mapping[str, Any], *, subject: str | None = None,
              setting: str | None = None) -> T:
        """Build plug-in `name` from its configuration.

        Args:
            name: the entry-point name.
            config: the plug-in's own settings.
            subject: how messages name it (default: "<kind> '<name>'").
            setting: the configuration that holds `config`, for the hint of a settings error.

        Raises:
            StartupError: not installed, fails to import, rejects its settings, or lacks a member of the group's
                protocol; the message names the plug-in.
        """
        subject = subject or f"{self.group.kind} {name!r}"
        plugin = self._load(name, subject)
        fix = f"fix {setting}" if setting else None
        settings_model = getattr(plugin, "Settings", None)
        settings: Any = dict(config)
        if isinstance(settings_model, type) and issubclass(settings_model, BaseModel):
            try:
                settings = settings_model.model_validate(settings)
            except ValidationError as err:
                raise StartupError(f"{subject} rejected its settings: {field_errors(err)}", hint=fix) from None
        factory = getattr(plugin, "from_settings", plugin)
        try:
            built = factory(settings, self.http)
        except Exception as err:  # any failure of a plug-in stops start-up with its name
            raise StartupError(f"{subject} rejected its settings: {type(err).__name__}: {err}", hint=fix) from err
        missing = [member for member in self.group.members() if not hasattr(built, member)]
        if missing:
            article = "an" if self.group.kind[0] in "aeiou" else "a"
            contract = self.group.contract
            raise StartupError(f"{subject} ({self.points[name].value}) is not {article} {self.group.kind}: it lacks "
                               f"{', '.join(missing)}", hint=f"implement {contract.__module__}.{contract.__qualname__}")
        return built

    def _load(self, name: str, subject: str) -> Any:
        if name in self._classes:
            return self._classes[name]
        point = self.points.get(name)
        if point is None:
            raise StartupError(f"{subject} is not installed",
                               hint=f"installed: {', '.join(self.names()) or 'none'}; install the package that "
                                    f"registers {name!r} under the {self.group.entry_points!r} entry points")
        try:
            self._classes[name] = point.load()
        except Exception as err:
            raise StartupError(f"{subject} ({point.value}) failed to load: {type(err).__name__}: {err}",
                               hint="reinstall or fix the package that provides it") from err
        return self._classes[name]
