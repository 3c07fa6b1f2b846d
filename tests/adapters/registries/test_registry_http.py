"""The registry look-up adapter against a real local gateway over HTTP (tests/support/fake_registry.py)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from datetime import date
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from bizportal.adapters.registries.base import (
    JuristicRecord,
    LookupRequest,
    NotRegistered,
    PersonRecord,
    RegistryError,
    RegistryLookup,
    RegistryUnavailable,
    is_valid_thai_id,
    thai_id_check_digit,
)
from bizportal.adapters.registries.http_lookup import HttpRegistryLookup, encode_purpose
from bizportal.engine.applications import thai_id
from support.fake_registry import (
    API_KEY,
    CLOSED_PARTNERSHIP,
    COMPANY,
    PERSON,
    PERSON_WITHOUT_ADDRESS,
    UNREGISTERED_COMPANY,
    UNREGISTERED_PERSON,
    create_registry_app,
    start_registry_server,
)

PURPOSE = "คำขอใบอนุญาต: ยืนยันตัวตนผู้ขอ"  # Thai on purpose: header values must be ASCII


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[str, FastAPI]]:
    app = create_registry_app()
    base_url, stop = start_registry_server(app)
    yield base_url, app
    stop()


@pytest.fixture
def gateway(registry: tuple[str, FastAPI]) -> FastAPI:
    _, app = registry
    app.state.seen.clear()
    app.state.fail_status = None
    app.state.delay_seconds = 0.0
    return app


@pytest.fixture
def lookup(registry: tuple[str, FastAPI], gateway: FastAPI) -> Iterator[HttpRegistryLookup]:
    with HttpRegistryLookup(registry[0], API_KEY) as adapter:
        yield adapter


def person(number: str = PERSON) -> LookupRequest:
    return LookupRequest(id_number=number, kind="individual", purpose=PURPOSE)


def company(number: str = COMPANY) -> LookupRequest:
    return LookupRequest(id_number=number, kind="juristic", purpose=PURPOSE)


def test_looks_up_a_person(lookup: HttpRegistryLookup) -> None:
    record = lookup.lookup(person())
    assert record == PersonRecord(id_number=PERSON, name_th="สมหญิง ใจดี", name_en="Somying Jaidee",
                                  address="99/1 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร 10110", alive=True)


def test_a_person_may_have_no_address(lookup: HttpRegistryLookup) -> None:
    record = lookup.lookup(person(PERSON_WITHOUT_ADDRESS))
    assert isinstance(record, PersonRecord)
    assert (record.name_th, record.name_en, record.address) == ("สมชาย รักไทย", None, None)


def test_looks_up_a_juristic_person(lookup: HttpRegistryLookup) -> None:
    record = lookup.lookup(company())
    assert isinstance(record, JuristicRecord)
    assert record.registration_number == COMPANY
    assert record.name_th == "บริษัท ตัวอย่าง จำกัด"
    assert record.name_en == "Example Company Limited"
    assert record.registered_address.endswith("กรุงเทพมหานคร 10110")
    assert (record.status, record.is_active) == ("active", True)
    assert record.directors == ["สมหญิง ใจดี", "สมชาย รักไทย"]
    assert record.registered_on == date(2013, 5, 10)


def test_a_closed_juristic_person_is_returned_with_its_status(lookup: HttpRegistryLookup) -> None:
    record = lookup.lookup(company(CLOSED_PARTNERSHIP))
    assert isinstance(record, JuristicRecord)
    assert (record.status, record.is_active) == ("closed", False)


def test_numbers_may_be_written_with_dashes(lookup: HttpRegistryLookup, gateway: FastAPI) -> None:
    record = lookup.lookup(LookupRequest(id_number="1-1017-00203-39-5", kind="individual", purpose=PURPOSE))
    assert isinstance(record, PersonRecord) and record.id_number == PERSON
    assert gateway.state.seen[-1]["path"] == f"/persons/{PERSON}"


@pytest.mark.parametrize("request_", [person(UNREGISTERED_PERSON), company(UNREGISTERED_COMPANY),
                                      # a company number asked of the population registry is not there
                                      person(COMPANY)], ids=["person", "company", "wrong-registry"])
def test_an_unknown_number_is_not_registered(lookup: HttpRegistryLookup, request_: LookupRequest) -> None:
    with pytest.raises(NotRegistered) as caught:
        lookup.lookup(request_)
    assert request_.id_number not in str(caught.value)  # masked: the full number is personal data
    assert request_.id_number[-1] in str(caught.value)


def test_a_wrong_key_is_rejected_and_never_echoed(registry: tuple[str, FastAPI], gateway: FastAPI) -> None:
    wrong_key = "wrong-key-" + uuid.uuid4().hex
    with HttpRegistryLookup(registry[0], wrong_key) as adapter, pytest.raises(RegistryError) as caught:
        adapter.lookup(person())
    assert type(caught.value) is RegistryError  # neither "not registered" nor worth retrying
    assert "credentials rejected" in str(caught.value)
    assert wrong_key not in str(caught.value) and API_KEY not in str(caught.value)


def test_sends_purpose_bearer_key_and_a_fresh_request_id(lookup: HttpRegistryLookup, gateway: FastAPI) -> None:
    lookup.lookup(person())
    lookup.lookup(company())
    first, second = gateway.state.seen
    assert first["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert first["purpose"] == PURPOSE == second["purpose"]
    assert first["headers"]["x-purpose"].isascii()
    ids = [str(uuid.UUID(seen["headers"]["x-request-id"])) for seen in (first, second)]
    assert ids[0] != ids[1]
    assert [seen["headers"]["idempotency-key"] for seen in (first, second)] == ids
    assert (first["path"], second["path"]) == (f"/persons/{PERSON}", f"/juristic-persons/{COMPANY}")


def test_errors_carry_the_request_id_the_gateway_saw(lookup: HttpRegistryLookup, gateway: FastAPI) -> None:
    with pytest.raises(NotRegistered) as caught:
        lookup.lookup(person(UNREGISTERED_PERSON))
    assert caught.value.request_id == gateway.state.seen[-1]["headers"]["x-request-id"]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_failures_are_retriable(lookup: HttpRegistryLookup, gateway: FastAPI, status: int) -> None:
    gateway.state.fail_status = status
    with pytest.raises(RegistryUnavailable) as caught:
        lookup.lookup(person())
    assert lookup.base_url in str(caught.value) and API_KEY not in str(caught.value)


def test_an_unexpected_status_is_a_final_error(lookup: HttpRegistryLookup, gateway: FastAPI) -> None:
    gateway.state.fail_status = 418
    with pytest.raises(RegistryError) as caught:
        lookup.lookup(person())
    assert type(caught.value) is RegistryError and "418" in str(caught.value)


def test_a_slow_registry_times_out_as_unavailable(registry: tuple[str, FastAPI], gateway: FastAPI) -> None:
    gateway.state.delay_seconds = 2.0
    started = time.monotonic()
    with HttpRegistryLookup(registry[0], API_KEY, timeout=0.2) as adapter, pytest.raises(RegistryUnavailable) as caught:
        adapter.lookup(person())
    assert time.monotonic() - started < 1.5
    assert registry[0] in str(caught.value)


def test_a_stopped_registry_is_unavailable_quickly() -> None:
    base_url, stop = start_registry_server()
    adapter = HttpRegistryLookup(base_url, API_KEY)
    assert isinstance(adapter.lookup(person()), PersonRecord)
    stop()
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable) as caught:
        adapter.lookup(person())
    assert time.monotonic() - started < 2.0
    assert base_url in str(caught.value) and API_KEY not in str(caught.value)
    adapter.close()


def test_an_injected_client_is_used_and_left_open(registry: tuple[str, FastAPI], gateway: FastAPI) -> None:
    sent: list[httpx.Request] = []
    client = httpx.Client(trust_env=False, event_hooks={"request": [sent.append]})
    adapter: RegistryLookup = HttpRegistryLookup(registry[0] + "/", API_KEY, client=client)
    assert isinstance(adapter.lookup(company()), JuristicRecord)
    assert str(sent[0].url) == f"{registry[0]}/juristic-persons/{COMPANY}"
    assert isinstance(adapter, HttpRegistryLookup)
    adapter.close()
    assert not client.is_closed  # the caller's client
    client.close()


@pytest.mark.parametrize("body", [b"<html>gateway error</html>", b'{"id_number": "1101700203395"}',
                                  b'{"id_number": "1101700203396", "name_th": "x", "alive": true}'],
                         ids=["not-json", "missing-fields", "bad-check-digit"])
def test_an_answer_that_does_not_fit_is_a_registry_error(body: bytes) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    with httpx.Client(transport=transport) as client, pytest.raises(RegistryError) as caught:
        HttpRegistryLookup("https://registry.invalid", API_KEY, client=client).lookup(person())
    assert type(caught.value) is RegistryError and "does not fit" in str(caught.value)
    assert "1101700203396" not in str(caught.value)  # field and rule only, never the value


def test_an_answer_about_another_number_is_refused() -> None:
    other = {"id_number": PERSON_WITHOUT_ADDRESS, "name_th": "สมชาย รักไทย", "alive": True}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=other))
    with httpx.Client(transport=transport) as client, pytest.raises(RegistryError, match="different number"):
        HttpRegistryLookup("https://registry.invalid", API_KEY, client=client).lookup(person())


def test_a_transport_timeout_is_unavailable() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with httpx.Client(transport=httpx.MockTransport(hang)) as client, pytest.raises(RegistryUnavailable):
        HttpRegistryLookup("https://registry.invalid", API_KEY, client=client).lookup(person())


def test_the_adapter_refuses_a_bad_configuration() -> None:
    with pytest.raises(ValueError, match="http"):
        HttpRegistryLookup("registry.example", API_KEY)
    with pytest.raises(ValueError, match="empty"):
        HttpRegistryLookup("https://registry.example", "")
    assert API_KEY not in repr(HttpRegistryLookup("https://registry.example", API_KEY))


@pytest.mark.parametrize("purpose", [PURPOSE, "licence application 100% online", "line\r\nX-Injected: 1"])
def test_the_purpose_header_is_ascii_and_decodes_back(purpose: str) -> None:
    encoded = encode_purpose(purpose)
    assert encoded.isascii() and "\n" not in encoded and "\r" not in encoded
    assert unquote(encoded) == purpose
    assert encode_purpose("verify applicant (licence) #12") == "verify applicant (licence) #12"


def test_the_request_checks_the_number_and_needs_a_purpose() -> None:
    with pytest.raises(ValidationError, match="check digit"):
        LookupRequest(id_number="1101700203396", kind="individual", purpose=PURPOSE)
    with pytest.raises(ValidationError, match="13 digits"):
        LookupRequest(id_number="110170020339", kind="individual", purpose=PURPOSE)
    with pytest.raises(ValidationError, match="13 digits"):
        LookupRequest(id_number="๑๑๐๑๗๐๐๒๐๓๓๙๕", kind="individual", purpose=PURPOSE)  # Thai digits
    with pytest.raises(ValidationError, match="purpose"):
        LookupRequest(id_number=PERSON, kind="individual", purpose="")
    with pytest.raises(ValidationError, match="kind"):
        LookupRequest(id_number=PERSON, kind="company", purpose=PURPOSE)


def test_the_check_digit_matches_the_engines_rule() -> None:
    assert thai_id_check_digit("010555612345") == 3 and thai_id_check_digit("110170020339") == 5
    rng = random.Random(4)
    for _ in range(500):
        first12 = "".join(rng.choice("0123456789") for _ in range(12))
        assert thai_id_check_digit(first12) == thai_id.check_digit(first12)
        number = first12 + str(rng.randrange(10))
        assert is_valid_thai_id(number) == thai_id.is_valid_thai_id(number)
    with pytest.raises(ValueError):
        thai_id_check_digit("12345")
