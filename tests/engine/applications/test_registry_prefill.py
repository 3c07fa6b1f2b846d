"""Prefilling an application from the registries, and which manual documents that satisfies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI

from bizportal.adapters.registries.base import (
    JuristicRecord,
    LookupRequest,
    NotRegistered,
    PersonRecord,
    RegistryError,
    RegistryUnavailable,
)
from bizportal.adapters.registries.http_lookup import HttpRegistryLookup
from bizportal.engine.applications.prefill import DEFAULT_PURPOSE, Prefill, mark_obtained, prefill
from bizportal.engine.catalogue.manual import Document
from bizportal.engine.errors import InvalidInput, Unavailable
from support.fake_registry import (
    API_KEY,
    CLOSED_PARTNERSHIP,
    COMPANY,
    DECEASED_PERSON,
    JURISTIC_PERSONS,
    PERSON,
    PERSON_WITHOUT_ADDRESS,
    PERSONS,
    UNREGISTERED_COMPANY,
    UNREGISTERED_PERSON,
    create_registry_app,
    start_registry_server,
)

BPMN = Path(__file__).resolve().parents[3] / "bpmn"


class InMemoryRegistry:
    """A RegistryLookup over the fake gateway's records, that can also be made to fail."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.requests: list[LookupRequest] = []

    def lookup(self, request: LookupRequest) -> PersonRecord | JuristicRecord:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        if request.kind == "individual":
            if request.id_number not in PERSONS:
                raise NotRegistered("no such citizen")
            return PersonRecord.model_validate(PERSONS[request.id_number])
        if request.id_number not in JURISTIC_PERSONS:
            raise NotRegistered("no such juristic person")
        return JuristicRecord.model_validate(JURISTIC_PERSONS[request.id_number])


@pytest.fixture(scope="module")
def http_registry() -> Iterator[tuple[str, FastAPI]]:
    app = create_registry_app()
    base_url, stop = start_registry_server(app)
    yield base_url, app
    stop()


def test_an_individual_gets_name_address_id_card_and_house_registration() -> None:
    registry = InMemoryRegistry()
    result = prefill(registry, "individual", PERSON)
    assert result == Prefill(name="สมหญิง ใจดี",
                             address="99/1 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร 10110",
                             obtained_documents=["applicant_id_card", "premises_house_registration"],
                             source="registry")
    assert registry.requests == [LookupRequest(id_number=PERSON, kind="individual", purpose=DEFAULT_PURPOSE)]


def test_without_an_address_the_house_registration_is_not_obtained() -> None:
    result = prefill(InMemoryRegistry(), "individual", PERSON_WITHOUT_ADDRESS)
    assert (result.name, result.address) == ("สมชาย รักไทย", None)
    assert result.obtained_documents == ["applicant_id_card"]


def test_a_juristic_person_gets_its_certificate_but_not_an_id_card() -> None:
    registry = InMemoryRegistry()
    result = prefill(registry, "juristic", "0-1055-56123-45-3", purpose="ขอใบอนุญาตจำหน่ายสุรา")
    assert result.name == "บริษัท ตัวอย่าง จำกัด"
    assert result.address == JURISTIC_PERSONS[COMPANY]["registered_address"]
    assert result.obtained_documents == ["juristic_person_certificate"]
    assert result.source == "registry"
    assert registry.requests[0].id_number == COMPANY and registry.requests[0].purpose == "ขอใบอนุญาตจำหน่ายสุรา"


def test_prefill_over_http_against_the_local_registry(http_registry: tuple[str, FastAPI]) -> None:
    base_url, app = http_registry
    with HttpRegistryLookup(base_url, API_KEY) as lookup:
        person = prefill(lookup, "individual", PERSON)
        company = prefill(lookup, "juristic", COMPANY)
        with pytest.raises(InvalidInput, match="not found in the civil/company registry"):
            prefill(lookup, "juristic", UNREGISTERED_COMPANY)
    assert person.name == "สมหญิง ใจดี" and company.name == "บริษัท ตัวอย่าง จำกัด"
    assert {seen["purpose"] for seen in app.state.seen} == {DEFAULT_PURPOSE}


def test_an_unregistered_number_is_invalid_input_on_the_id_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        prefill(InMemoryRegistry(), "individual", UNREGISTERED_PERSON)
    error = caught.value
    assert "applicant.id_number" in error.message
    assert "not found in the civil/company registry" in error.message
    assert UNREGISTERED_PERSON not in error.message  # masked
    assert error.details == {"field": "applicant.id_number", "registry": "civil registry"}
    assert error.hint and "re-check" in error.hint
    assert isinstance(error.__cause__, NotRegistered)


def test_a_malformed_number_is_invalid_input_without_a_lookup() -> None:
    registry = InMemoryRegistry()
    with pytest.raises(InvalidInput, match="check digit") as caught:
        prefill(registry, "individual", "1101700203396")
    assert caught.value.details == {"field": "applicant.id_number"}
    assert registry.requests == []


def test_an_unavailable_registry_is_unavailable_with_a_retry_hint() -> None:
    error = RegistryUnavailable("registry at http://gdx.invalid cannot be reached", request_id="r-1")
    with pytest.raises(Unavailable) as caught:
        prefill(InMemoryRegistry(error), "juristic", COMPANY)
    assert "company registry" in caught.value.message
    assert caught.value.hint and "retry" in caught.value.hint
    assert caught.value.details == {"registry": "company registry", "request_id": "r-1"}
    assert caught.value.__cause__ is error


def test_a_registry_that_rejects_our_credentials_is_unavailable_to_the_applicant() -> None:
    error = RegistryError("credentials rejected by the registry at http://gdx.invalid (HTTP 401)")
    with pytest.raises(Unavailable) as caught:
        prefill(InMemoryRegistry(error), "individual", PERSON)
    assert "gdx.invalid" not in caught.value.message  # internal detail stays in the chained error
    assert caught.value.__cause__ is error


def test_a_stopped_http_registry_maps_to_unavailable() -> None:
    base_url, stop = start_registry_server()
    stop()
    with HttpRegistryLookup(base_url, API_KEY) as lookup, pytest.raises(Unavailable, match="civil registry"):
        prefill(lookup, "individual", PERSON)


def test_a_deceased_person_or_closed_company_cannot_apply() -> None:
    with pytest.raises(InvalidInput, match="deceased") as caught:
        prefill(InMemoryRegistry(), "individual", DECEASED_PERSON)
    assert caught.value.details["field"] == "applicant.id_number"
    with pytest.raises(InvalidInput, match="'closed'") as caught:
        prefill(InMemoryRegistry(), "juristic", CLOSED_PARTNERSHIP)
    assert caught.value.details["status"] == "closed"


def test_a_record_of_the_wrong_kind_is_not_trusted() -> None:
    class Confused(InMemoryRegistry):
        def lookup(self, request: LookupRequest) -> PersonRecord | JuristicRecord:
            return JuristicRecord.model_validate(JURISTIC_PERSONS[COMPANY])

    with pytest.raises(Unavailable, match="JuristicRecord"):
        prefill(Confused(), "individual", PERSON)


def _liquor_documents() -> list[dict]:
    manual = yaml.safe_load((BPMN / "liquor_sale_licence" / "manual.yaml").read_text(encoding="utf-8"))
    return [Document.model_validate(document).model_dump() for document in manual["documents"]]


def test_mark_obtained_for_an_individual_on_a_real_manual() -> None:
    documents = _liquor_documents()
    before = [dict(document) for document in documents]
    obtained = prefill(InMemoryRegistry(), "individual", PERSON).obtained_documents
    marked = mark_obtained(documents, obtained)
    assert {document["id"]: document["provided"] for document in marked} == {
        "applicant_id_card": "registry",
        "sale_location_map": "upload",
        "premises_house_registration": "registry",
        "power_of_attorney": "upload",
        "juristic_person_certificate": "exchange_pending",
    }
    assert documents == before  # the manual's dicts are not changed
    assert [{k: v for k, v in document.items() if k != "provided"} for document in marked] == before


def test_mark_obtained_for_a_juristic_person() -> None:
    obtained = prefill(InMemoryRegistry(), "juristic", COMPANY).obtained_documents
    marked = {document["id"]: document["provided"] for document in mark_obtained(_liquor_documents(), obtained)}
    assert marked["juristic_person_certificate"] == "registry"
    assert marked["applicant_id_card"] == "exchange_pending"
    assert marked["premises_house_registration"] == "exchange_pending"
    assert marked["sale_location_map"] == "upload"


def test_mark_obtained_with_nothing_obtained() -> None:
    documents: list[dict[str, Any]] = [{"id": "a", "obtained_by_exchange": True},
                                       {"id": "b", "obtained_by_exchange": False}, {"id": "c"}]
    assert [document["provided"] for document in mark_obtained(documents, [])] == [
        "exchange_pending", "upload", "upload"]
    assert mark_obtained([], ["applicant_id_card"]) == []
