"""The composition root chooses the concrete adapters: which notification channel and registry lookup serve."""

from __future__ import annotations

import httpx
import pytest

from bizportal.adapters.notifications.log import LogNotificationChannel
from bizportal.adapters.notifications.smtp import SmtpEmailChannel
from bizportal.adapters.registries.http_lookup import HttpRegistryLookup
from bizportal.api.composition import channel_from, registry_from
from bizportal.api.settings import Settings
from bizportal.engine.errors import StartupError

SECRET = "registry-key-that-must-not-show"


@pytest.fixture
def http() -> httpx.Client:
    return httpx.Client()


def test_the_composition_root_picks_the_channel_and_the_registry(http: httpx.Client) -> None:
    assert isinstance(channel_from(Settings(), http), LogNotificationChannel)
    smtp = channel_from(Settings(smtp_host="mail.example", smtp_password="pw"), http)
    assert isinstance(smtp, SmtpEmailChannel) and smtp.password == "pw"
    assert registry_from(Settings(), http) is None
    lookup = registry_from(Settings(registry_url="https://gdx.example/v1", registry_api_key=SECRET), http)
    assert isinstance(lookup, HttpRegistryLookup) and lookup.base_url == "https://gdx.example/v1"
    with pytest.raises(StartupError, match="without BIZPORTAL_REGISTRY_API_KEY"):
        registry_from(Settings(registry_url="https://gdx.example/v1"), http)
