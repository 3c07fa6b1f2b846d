"""One loader for every kind of plug-in: built-ins are entry points, settings are checked against each plug-in's
model, and anything wrong stops start-up naming the plug-in (and the field, never its value)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel

from bizportal.adapters.notifications.log import LogNotificationChannel
from bizportal.adapters.notifications.smtp import SmtpEmailChannel
from bizportal.engine.errors import StartupError
from bizportal.engine.plugins import (
    AGENCIES,
    GROUPS,
    NOTIFICATIONS,
    PAYMENTS,
    REGISTRIES,
    SCANNERS,
    PluginLoader,
    installed,
)
from support.entry_points import FakeEntryPoint

SECRET = "registry-key-that-must-not-show"


class Mute:
    """Declares settings but sends nothing: not a notification channel."""

    class Settings(BaseModel):
        volume: int

    def __init__(self, settings: Settings, http: httpx.Client) -> None:
        self.name = "mute"


@pytest.fixture
def http() -> httpx.Client:
    return httpx.Client()


def test_every_group_has_its_built_ins_as_entry_points() -> None:
    assert {group.entry_points for group in GROUPS} == {"bizportal.agencies", "bizportal.payments",
                                                        "bizportal.notifications", "bizportal.registries",
                                                        "bizportal.scanners"}
    assert {"inbox", "webhook"} <= set(installed(AGENCIES))
    assert {"stripe", "promptpay"} <= set(installed(PAYMENTS))
    assert {"smtp", "log"} <= set(installed(NOTIFICATIONS))
    assert {"http"} <= set(installed(REGISTRIES))
    assert {"accept_all"} <= set(installed(SCANNERS))


def test_a_plug_in_is_built_from_its_checked_settings(http: httpx.Client) -> None:
    loader = PluginLoader(NOTIFICATIONS, http)
    channel = loader.build("smtp", {"host": "mail.example", "sender": "Biz Portal <no-reply@example.go.th>",
                                    "password": "pw", "port": 2525})
    assert isinstance(channel, SmtpEmailChannel)
    assert (channel.host, channel.port, channel.password, channel.starttls) == ("mail.example", 2525, "pw", True)
    assert isinstance(loader.build("log", {}), LogNotificationChannel)


def test_a_missing_or_wrong_setting_names_plug_in_and_field_but_not_the_value(http: httpx.Client) -> None:
    with pytest.raises(StartupError, match=r"notification channel 'smtp' rejected its settings: host: Field required"):
        PluginLoader(NOTIFICATIONS, http).build("smtp", {"sender": "no-reply@example.go.th"})
    with pytest.raises(StartupError, match="notification channel 'log' rejected its settings: colour: Extra") as err:
        PluginLoader(NOTIFICATIONS, http).build("log", {"colour": "red"}, setting="BIZPORTAL_LOG")
    assert err.value.hint == "fix BIZPORTAL_LOG"
    with pytest.raises(StartupError, match="registry lookup 'http' rejected its settings: base_url") as err:
        PluginLoader(REGISTRIES, http).build("http", {"base_url": "ftp://x", "api_key": SECRET})
    assert SECRET not in err.value.message


def test_a_plug_in_without_the_protocol_or_not_installed_stops_start_up(http: httpx.Client) -> None:
    mute = FakeEntryPoint("mute", Mute, "third_party.channel:Channel")
    loader = PluginLoader(NOTIFICATIONS, http, available={"mute": mute})
    with pytest.raises(StartupError, match=r"notification channel 'mute' \(third_party.channel:Channel\) is not a "
                                           "notification channel: it lacks send"):
        loader.build("mute", {"volume": 0})
    with pytest.raises(StartupError, match="'mute' rejected its settings: volume: Field required"):
        loader.build("mute", {})
    with pytest.raises(StartupError, match="notification channel 'sms' is not installed") as err:
        loader.build("sms", {})
    assert "mute" in (err.value.hint or "")
