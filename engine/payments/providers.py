"""The payment providers a deployment offers (Stripe, PromptPay, ...), by name, and their plug-in loader.

Providers are plug-ins of the entry-point group `bizportal.payments`; the composition root loads the
configured ones once, and the use cases (paying online, refunding) look them up by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from bizportal.adapters.payments.base import PaymentProvider
from bizportal.engine.errors import DefinitionError, NotFound
from bizportal.engine.plugins import installed

ENTRY_POINT_GROUP = "bizportal.payments"


class PaymentProviders:
    """The configured providers by name."""

    def __init__(self, providers: Mapping[str, PaymentProvider] | None = None) -> None:
        self._providers = dict(providers or {})

    def get(self, name: str) -> PaymentProvider:
        provider = self._providers.get(name)
        if provider is None:
            raise NotFound(f"payment provider {name!r} is not available",
                           hint=f"use one of: {', '.join(sorted(self._providers)) or 'none configured'}")
        return provider

    def names(self) -> list[str]:
        return sorted(self._providers)


def load_payment_providers(config: Mapping[str, Mapping[str, Any]], http: httpx.Client,
                           enabled: Iterable[str] | None = None) -> PaymentProviders:
    """Build every installed provider with its settings; a broken plug-in stops start-up.

    Raises:
        DefinitionError: a provider does not import or rejects its settings (named).
    """
    points = installed(ENTRY_POINT_GROUP, "payment provider")
    providers: dict[str, PaymentProvider] = {}
    for name in enabled if enabled is not None else points:
        if name not in points:
            raise DefinitionError(f"payment provider {name!r} is not installed",
                                  hint=f"installed: {', '.join(sorted(points)) or 'none'}")
        try:
            providers[name] = points[name].load()(config.get(name, {}), http)
        except Exception as err:  # any failure of a plug-in stops start-up with its name
            raise DefinitionError(f"payment provider {name!r} cannot start: {type(err).__name__}: {err}") from err
    return PaymentProviders(providers)
