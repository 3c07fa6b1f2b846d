"""Agency adapters come from the `bizportal.agencies` entry points; a wrong one stops start-up."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import httpx
import pytest

from bizportal.adapters.agencies.inbox import InboxAgencyAdapter
from bizportal.adapters.agencies.webhook import WebhookAgencyAdapter
from bizportal.engine.cases.agency_adapters import available_adapters, load_agency_adapters
from bizportal.engine.errors import NotFound, StartupError
from support.entry_points import FakeEntryPoint

AGENCIES = ["DLD", "FDA", "LAO"]
ADAPTER_PATH = "third_party.adapter:Adapter"  # where the stand-in plug-in claims to live
WEBHOOK = {"adapter": "webhook", "url": "https://dld.example/tasks", "secret": "x" * 32}


class ExplodingAdapter:
    name, handles_tasks = "exploding", True

    def __init__(self, config: Mapping[str, Any], http: httpx.Client) -> None:
        raise RuntimeError("cannot reach the licence register")


class NotAnAdapter:
    def __init__(self, config: Mapping[str, Any], http: httpx.Client) -> None:
        pass


@pytest.fixture
def http() -> httpx.Client:
    return httpx.Client()


def test_the_built_ins_are_installed_entry_points() -> None:
    points = available_adapters()
    assert {"inbox", "webhook"} <= set(points)
    assert points["inbox"].load() is InboxAgencyAdapter and points["webhook"].load() is WebhookAgencyAdapter
    assert {p.name for p in entry_points(group="bizportal.agencies")} >= {"inbox", "webhook"}


def test_every_agency_gets_its_configured_adapter_and_the_rest_the_inbox(http: httpx.Client) -> None:
    adapters = load_agency_adapters({"DLD": WEBHOOK}, AGENCIES, http)
    assert adapters.names() == {"DLD": "webhook", "FDA": "inbox", "LAO": "inbox"}
    assert isinstance(adapters.for_agency("DLD"), WebhookAgencyAdapter)
    assert adapters.handles_tasks("DLD") and not adapters.handles_tasks("FDA") and not adapters.handles_tasks(None)
    assert adapters.external_agencies() == {"DLD"}
    with pytest.raises(NotFound, match="XYZ"):
        adapters.for_agency("XYZ")


def test_an_unknown_adapter_names_the_agency(http: httpx.Client) -> None:
    with pytest.raises(StartupError, match="agency DLD: adapter 'soap' is not installed") as err:
        load_agency_adapters({"DLD": {"adapter": "soap"}}, AGENCIES, http)
    assert "inbox" in (err.value.hint or "") and "webhook" in (err.value.hint or "")


def test_configuration_for_an_unknown_agency_or_without_an_adapter_is_refused(http: httpx.Client) -> None:
    with pytest.raises(StartupError, match="unknown agencies: XYZ"):
        load_agency_adapters({"XYZ": WEBHOOK}, AGENCIES, http)
    with pytest.raises(StartupError, match="agency DLD: its configuration names no adapter"):
        load_agency_adapters({"DLD": {"url": "http://x"}}, AGENCIES, http)


def test_bad_settings_for_a_built_in_name_agency_and_adapter(http: httpx.Client) -> None:
    with pytest.raises(StartupError, match="agency DLD: adapter 'webhook' rejected its settings: .*secret"):
        load_agency_adapters({"DLD": {"adapter": "webhook", "url": "http://x"}}, AGENCIES, http)


@pytest.mark.parametrize(("target", "message"), [
    (ModuleNotFoundError("No module named 'third_party'"), "failed to load: ModuleNotFoundError"),
    (ExplodingAdapter, "rejected its settings: RuntimeError: cannot reach the licence register"),
    (NotAnAdapter, "is not an agency adapter: it lacks name, handles_tasks, dispatch, parse_callback"),
])
def test_a_broken_plug_in_stops_start_up_naming_agency_and_adapter(http: httpx.Client, target: Any,
                                                                   message: str) -> None:
    points = {**available_adapters(), "registry": FakeEntryPoint("registry", target, ADAPTER_PATH)}
    with pytest.raises(StartupError, match=f"agency FDA: adapter 'registry'.*{message}"):
        load_agency_adapters({"FDA": {"adapter": "registry"}}, AGENCIES, http, available=points)


def test_a_broken_plug_in_nobody_uses_does_not_stop_start_up(http: httpx.Client) -> None:
    points = {**available_adapters(), "registry": FakeEntryPoint("registry", ModuleNotFoundError("gone"), ADAPTER_PATH)}
    assert load_agency_adapters({}, AGENCIES, http, available=points).names()["FDA"] == "inbox"


def test_two_packages_claiming_one_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    clash = [EntryPoint("webhook", "bizportal.adapters.agencies.webhook:WebhookAgencyAdapter", "bizportal.agencies"),
             EntryPoint("webhook", "other.package:Webhook", "bizportal.agencies")]
    monkeypatch.setattr("bizportal.engine.plugins.entry_points", lambda group: clash)
    with pytest.raises(StartupError, match="two packages register agency adapter 'webhook'"):
        available_adapters()
