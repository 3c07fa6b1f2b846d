"""Test data and a driver for the licence journey over HTTP."""

from __future__ import annotations

import functools
import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader

from bizportal.engine.catalogue.catalogue import Catalogue, load_catalogue
from support.uploads import upload, upload_required

# Thai IDs with correct check digits.
VALID_IDS = ("1101700203395", "3100600123450", "0105556123453")
LICENCE = "food_premises_notice_small"
OFFICE = "BKK-KHLONG-TOEI"  # the local office of the sample business's district (Khlong Toei, Bangkok)
BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
SIGNING_KEY = "test-signing-key-" + "x" * 32  # the token key of the `settings` fixture (tests/conftest.py)
# The tests' own Redis database, flushed by them: one per pytest-xdist worker (gw0 15, gw1 14, ...), so workers
# running side by side never see each other's keys.
REDIS_DB = 15 - int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
# `auth(role, subject, agency=None, office=None)` -> request headers carrying a signed bearer token.
Auth = Callable[..., dict[str, str]]
# What a counter officer sends when filing for someone: they checked the person against their ID card.
COUNTER_CONSENT = {"method": "identity_checked_in_person", "valid_until": "2027-06-30"}
ALICE_ID = VALID_IDS[0]  # Alice is สมหญิง ใจดี of `application_body`, and a director of VALID_IDS[2]


def thai_id(seed: str) -> str:
    """A valid Thai citizen ID number (first digit 1-8), the same for the same seed."""
    digits = str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:11]
    first12 = str(1 + int(digits[0]) % 8) + digits[:11]
    total = sum(int(digit) * (14 - position) for position, digit in enumerate(first12, start=1))
    return first12 + str((11 - total % 11) % 10)


def id_number_of(subject: str) -> str:
    """The ID number a test applicant signs in with: Alice is the sample applicant, a 13-digit subject is
    itself, anyone else gets their own."""
    if subject == "alice":
        return ALICE_ID
    return subject if len(subject) == 13 and subject.isdigit() else thai_id(subject)


@functools.cache
def catalogue() -> Catalogue:
    """The repository's licence catalogue, loaded once (for test data that follows the manuals)."""
    return load_catalogue(BPMN_DIR)


def sample_form(licences: list[str], optional: bool = False) -> dict[str, dict[str, Any]]:
    """A valid form for each licence: every required field (and with `optional`, every field) with an example."""
    known = catalogue().licences
    return {code: {f.name: f.example() for f in known[code].form.fields if f.required or optional}
            for code in licences if code in known}  # an unknown code is refused for itself


def application_body(licences: list[str] | None = None, id_number: str = VALID_IDS[0], area_m2: float = 80,
                     **overrides: object) -> dict[str, object]:
    """A valid application; its `form` fills each licence's required fields unless `form` is given."""
    licences = licences or ["food_premises_notice_small"]
    body: dict[str, object] = {
        "licences": licences,
        "applicant": {"kind": "individual", "id_number": id_number, "name": "สมหญิง ใจดี"},
        "business": {"name": "ร้านข้าวมันไก่น้ำใจ", "address": "99/9 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร",
                     "province": "กรุงเทพมหานคร", "district": "คลองเตย", "area_m2": area_m2},
        "form": sample_form(licences),
    }
    body.update(overrides)
    return body


class Journey:
    """Drives one application through the API as its applicant, officer and counter would."""

    def __init__(self, client: TestClient, applicant: dict[str, str], officer: dict[str, str],
                 counter: dict[str, str]) -> None:
        self.client, self.applicant, self.officer, self.counter = client, applicant, officer, counter
        self.id = ""

    def create(self, **body: Any) -> dict[str, Any]:
        response = self.client.post("/api/v1/applications", json=application_body(**body), headers=self.applicant)
        assert response.status_code == 201, response.text
        self.id = response.json()["id"]
        return response.json()

    def submit(self) -> dict[str, Any]:
        """Upload the required documents still missing (a one-page PDF each), then submit."""
        upload_required(self.client, self.id, self.applicant)
        response = self.client.post(f"/api/v1/applications/{self.id}/submit", headers=self.applicant)
        assert response.status_code == 200, response.text
        return response.json()

    def view(self) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/applications/{self.id}", headers=self.applicant)
        assert response.status_code == 200, response.text
        return response.json()

    def task(self, step: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        tasks = self.client.get("/api/v1/tasks", headers=headers or self.officer).json()
        mine = [t for t in tasks if t["application_id"] == self.id and t["step"] == step]
        assert len(mine) == 1, f"expected one open {step} task, got {tasks}"
        return mine[0]

    def decide(self, step: str, action: str, comment: str = "", headers: dict[str, str] | None = None,
               documents: list[str] | None = None) -> Any:
        """Complete the open `step`. A request for documents asks, unless told which, for the first document the
        applicant provides for the task's licence; the applicant's answer uploads a new version of each first."""
        task = self.task(step, headers)
        body: dict[str, Any] = {"action": action, "comment": comment}
        if action == "request_documents":
            body["documents"] = documents or [self.providable_documents(task["licence"])[0]]
        if task["lane"] == "applicant" and action == "submit" and task["document_request"] and documents is None:
            for asked in task["document_request"]["documents"]:
                assert upload(self.client, self.id, asked["code"], headers or self.applicant).status_code == 201
        return self.client.post(f"/api/v1/tasks/{task['id']}/complete", json=body, headers=headers or self.officer)

    def providable_documents(self, licence: str) -> list[str]:
        """The codes of the documents the applicant uploads for `licence` (not those looked up by exchange)."""
        manual = self.client.get(f"/api/v1/licences/{licence}").json()
        return [d["id"] for d in manual["documents"] if not d["obtained_by_exchange"]]

    def pay(self) -> Any:
        invoice = self.view()["invoices"][0]
        return self.client.post(f"/api/v1/invoices/{invoice['id']}/counter-payment",
                                json={"amount_satang": invoice["amount_satang"]}, headers=self.counter)

    def issue(self) -> tuple[str, bytes]:
        """File, approve and pay the sample licence: its number and its e-licence PDF."""
        self.create()
        self.submit()
        self.decide("document_check", "approve")
        self.decide("consideration", "approve")
        self.pay()
        number = self.view()["licences"][0]["licence_number"]
        return number, self.client.get(f"/api/v1/issued-licences/{number}/pdf", headers=self.applicant).content

    def open_tasks(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        return [t for t in self.client.get("/api/v1/tasks", headers=headers).json() if t["application_id"] == self.id]

    def approve_everything(self, officer: dict[str, str], licence: str | None = None) -> None:
        """Approve every open agency task of the application (or of one licence), setting assessed fees
        at their minimum, and pay every open invoice, until nothing is left to do."""
        while True:
            tasks = [t for t in self.open_tasks(officer) if licence is None or t["licence"] == licence]
            invoices = [i for i in self.view()["invoices"] if i["status"] == "open"
                        and (licence is None or i["licence"] == licence)]
            if not tasks and not invoices:
                return
            for task in tasks:
                self.approve(task, officer)
            for invoice in invoices:
                response = self.client.post(f"/api/v1/invoices/{invoice['id']}/counter-payment",
                                            json={"amount_satang": invoice["amount_satang"]}, headers=self.counter)
                assert response.status_code == 200, response.text

    def approve(self, task: dict[str, Any], officer: dict[str, str]) -> None:
        """Approve one task, setting an assessed fee at its minimum."""
        body: dict[str, Any] = {"action": "approve"}
        if task["sets_fee"]:
            body["fee_satang"] = task["sets_fee"]["min_satang"]
        response = self.client.post(f"/api/v1/tasks/{task['id']}/complete", json=body, headers=officer)
        assert response.status_code == 200, response.text

    def approve_until_payment(self, officer: dict[str, str]) -> dict[str, Any]:
        """Approve every open task of the application until only fees are left; returns the view."""
        while tasks := self.open_tasks(officer):
            for task in tasks:
                self.approve(task, officer)
        return self.view()


def qr_link(pdf: bytes) -> str:
    """The verification address an e-licence carries (its QR and its printed address link to it)."""
    links = {str(annotation.get_object()["/A"]["/URI"]) for page in PdfReader(io.BytesIO(pdf)).pages
             for annotation in page.get("/Annots", []) if "/A" in annotation.get_object()}
    (link,) = {link for link in links if "/verify/" in link}
    return link
