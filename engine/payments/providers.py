"""The payment providers a deployment offers (Stripe, PromptPay, ...), by name, and their plug-in loader.

Providers are plug-ins (`plugins.PAYMENTS`); the composition root loads the configured ones once with
`load_payment_providers`, and the use cases (paying online, refunding) look them up by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from bizportal.adapters.payments.base import PaymentProvider
from bizportal.engine.errors import NotFound
from bizportal.engine.plugins import PAYMENTS, PluginLoader


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
                           enabled: Iterable[str] | None = None,
                           settings_of: Mapping[str, str] | None = None) -> PaymentProviders:
    """Build the enabled providers (default: every installed one) with their settings (see `plugins`).

    Args:
        settings_of: provider name -> the configuration that holds its settings, named in the hint of an error.

    Raises:
        StartupError: a provider is not installed, does not import or rejects its settings (named).
    """
    loader = PluginLoader(PAYMENTS, http)
    names = list(enabled) if enabled is not None else loader.names()
    where = settings_of or {}
    return PaymentProviders({name: loader.build(name, config.get(name, {}), setting=where.get(name))
                             for name in names})
