"""Every licence of the catalogue, end to end through the API: routed, decided, paid, issued."""

from __future__ import annotations

from pathlib import Path

import pytest

from bizportal.engine.catalogue.manual import load_manual
from support.helpers import COUNTER_CONSENT, OFFICE, Auth, Journey

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
MANUALS = {path.parent.name: load_manual(path) for path in sorted(BPMN.glob("*/manual.yaml"))}


def _with_prerequisites(code: str) -> list[str]:
    ordered: list[str] = []
    for needed in MANUALS[code].prerequisites:
        ordered += [c for c in _with_prerequisites(needed) if c not in ordered]
    return [*ordered, code]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("code", sorted(MANUALS))
def test_licence_is_issued_through_the_api(code: str, journey: Journey, auth: Auth) -> None:
    licences = _with_prerequisites(code)
    # Alice signs in at the levels the strictest licence asks for (IAL 3, AAL 3 at most); a licence that must
    # be filed at a counter is filed by the counter officer, with her consent.
    alice = journey.applicant = auth("applicant", "alice", ial="3", aal="3")
    consent = {}
    if any(MANUALS[licence].must_file_at_counter for licence in licences):
        journey.applicant, consent = journey.counter, {"consent": COUNTER_CONSENT}
    journey.create(licences=licences, **consent)
    journey.submit()
    for licence in licences:  # prerequisites first, each by its own agency (and local office)
        manual = MANUALS[licence]
        officer = auth("agency_officer", "officer", manual.agency,
                       OFFICE if manual.routing == "local_office" else None)
        journey.approve_everything(officer, licence=licence)
        if manual.agency == "DOPA":  # the hotel licence also asks the local government's opinion
            journey.approve_everything(journey.officer)
            journey.approve_everything(officer, licence=licence)
    journey.applicant = alice  # the application is hers, whoever filed it
    view = journey.view()
    assert {item["code"]: item["status"] for item in view["licences"]} == dict.fromkeys(licences, "issued")
    paid = {invoice["licence"] for invoice in view["invoices"] if invoice["status"] in ("paid", "waived")}
    assert paid == {c for c in licences if MANUALS[c].fee.type != "none"}
    number = next(item["licence_number"] for item in view["licences"] if item["code"] == code)
    assert number.startswith(f"{MANUALS[code].agency}-")
