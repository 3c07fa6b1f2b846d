"""Uploaded documents over HTTP (issue 12 §2): upload, list, read and delete, and every file that is refused.

Runs on SQLite and PostgreSQL (the `database_url` fixture), with the local object store; the S3 backend is
tests/api/test_uploads_s3.py. The limits are lowered here so a file "too large" stays small.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from bizportal.adapters.scanners.base import ScannedDocument, ScannerUnavailable, ScanVerdict
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.uploads import documents
from bizportal.storage.audit_events import AuditEventRow
from support.helpers import COUNTER_CONSENT, OFFICE, Auth, Journey, application_body
from support.uploads import (
    EXCHANGED_DOCUMENT,
    GPS_IFD,
    LINUX_ELF,
    MAP_DOCUMENT,
    WINDOWS_EXE,
    jpeg_with_location,
    pdf,
    png_with_location,
)

FILE_LIMIT = 200_000
APPLICATION_LIMIT = 450_000

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_document_bytes": FILE_LIMIT,
                                       "max_application_documents_bytes": APPLICATION_LIMIT})


def upload(client: TestClient, application_id: str, headers: dict[str, str], content: bytes,
           filename: str = "plan.pdf", document: str = MAP_DOCUMENT,
           content_type: str = "application/pdf") -> Any:
    return client.post(f"/api/v1/applications/{application_id}/documents", data={"document": document},
                       files={"file": (filename, content, content_type)}, headers=headers)


def stored_files(settings: Settings) -> list[Path]:
    """The uploaded bytes in the local object store (the sidecars aside)."""
    root = settings.data_dir / "objects"
    return [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".meta.json")] if root.exists() else []


def audit_events(engine: LicensingEngine, application_id: str) -> list[tuple[str, dict[str, Any]]]:
    with Session(engine.db) as session:
        rows = session.exec(select(AuditEventRow).where(AuditEventRow.application_id == application_id)
                            .order_by(AuditEventRow.id)).all()  # type: ignore[arg-type]
        return [(row.event, row.detail) for row in rows if row.event.startswith("document_")]


def test_an_applicant_uploads_lists_and_downloads_versions(client: TestClient, journey: Journey,
                                                           engine: LicensingEngine) -> None:
    journey.create()
    first = pdf(pages=2)
    response = upload(client, journey.id, journey.applicant, first, filename="../../แผนผัง ร้าน?.PDF")
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {"id", "document", "licence", "filename", "content_type", "size", "sha256",
                            "uploaded_at", "version"}
    assert (created["document"], created["content_type"], created["size"], created["version"]) == (
        MAP_DOCUMENT, "application/pdf", len(first), 1)
    assert created["sha256"] == hashlib.sha256(first).hexdigest()
    assert created["filename"] == "แผนผัง ร้าน.pdf"  # no path, no `?`, the Thai kept, the type's extension

    content = client.get(f"/api/v1/documents/{created['id']}/content", headers=journey.applicant)
    assert content.status_code == 200
    assert content.content == first
    assert content.headers["content-type"] == "application/pdf"
    assert "no-store" in content.headers["cache-control"]
    assert "filename*=UTF-8''" in content.headers["content-disposition"]

    second = upload(client, journey.id, journey.applicant, pdf(pages=3), filename="plan-v2.pdf").json()
    assert second["version"] == 2
    listed = client.get(f"/api/v1/applications/{journey.id}/documents", headers=journey.applicant)
    assert listed.status_code == 200
    by_code = {entry["document"]: entry for entry in listed.json()}
    assert EXCHANGED_DOCUMENT not in by_code  # the platform obtains it: nothing to upload
    plan = by_code[MAP_DOCUMENT]
    assert plan["current"]["id"] == second["id"] and [e["id"] for e in plan["earlier"]] == [created["id"]]
    assert plan["required"] is True and plan["name_en"]
    assert [event for event, _ in audit_events(engine, journey.id)] == [
        "document_uploaded", "document_read", "document_uploaded"]


def test_officers_of_the_case_and_the_counter_that_filed_read_others_do_not(
        client: TestClient, journey: Journey, auth: Auth, engine: LicensingEngine) -> None:
    cora = auth("counter_officer", "cora", office=OFFICE)
    filed = client.post("/api/v1/applications", json=application_body(consent=COUNTER_CONSENT), headers=cora)
    assert filed.status_code == 201, filed.text
    journey.id = filed.json()["id"]
    uploaded = upload(client, journey.id, cora, pdf())  # the counter uploads for the entrepreneur
    assert uploaded.status_code == 201, uploaded.text
    url = f"/api/v1/documents/{uploaded.json()['id']}/content"
    # Before submission no officer sees the draft.
    assert client.get(url, headers=journey.officer).status_code == 404
    assert client.post(f"/api/v1/applications/{journey.id}/submit", headers=cora).status_code == 200
    for reader in (journey.applicant, cora, journey.officer):
        assert client.get(url, headers=reader).status_code == 200
    elsewhere = auth("agency_officer", "oscar", "LAO", "BKK-BANG-RAK")
    other_agency = auth("agency_officer", "fda", "FDA")
    for stranger in (elsewhere, other_agency, auth("applicant", "bob"), auth("counter_officer", "carl")):
        assert client.get(url, headers=stranger).status_code == 404
    reads = [detail["upload"] for event, detail in audit_events(engine, journey.id) if event == "document_read"]
    assert len(reads) == 3
    # An officer reads; only the applicant's side uploads.
    refused = upload(client, journey.id, journey.officer, pdf())
    assert refused.status_code in (403, 409)


def test_guessing_another_applicants_document_id_finds_nothing(client: TestClient, journey: Journey,
                                                              auth: Auth) -> None:
    journey.create()
    alices = upload(client, journey.id, journey.applicant, pdf()).json()["id"]
    bob = auth("applicant", "bob")
    missing = client.get("/api/v1/documents/00000000-0000-0000-0000-000000000000/content", headers=bob)
    guessed = client.get(f"/api/v1/documents/{alices}/content", headers=bob)
    assert guessed.status_code == missing.status_code == 404
    assert guessed.json()["error"]["message"].replace(alices, "X") == \
        missing.json()["error"]["message"].replace("00000000-0000-0000-0000-000000000000", "X")
    assert client.post(f"/api/v1/documents/{alices}/download-link", headers=bob).status_code == 404
    assert client.delete(f"/api/v1/documents/{alices}", headers=bob).status_code == 404
    assert client.get(f"/api/v1/applications/{journey.id}/documents", headers=bob).status_code == 404
    assert upload(client, journey.id, bob, pdf()).status_code == 404
    assert client.get(f"/api/v1/documents/{alices}/content", headers=journey.applicant).status_code == 200


@ON_SQLITE  # a content check: the database adds nothing here
@pytest.mark.parametrize("content", [WINDOWS_EXE, LINUX_ELF, b"<html><script>alert(1)</script></html>"],
                         ids=["windows-exe", "linux-elf", "html"])
def test_a_disguised_file_is_refused_by_its_content(client: TestClient, journey: Journey, settings: Settings,
                                                    content: bytes) -> None:
    journey.create()
    response = upload(client, journey.id, journey.applicant, content, filename="scan.pdf")
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "UnsupportedMediaType" and "PDF, JPEG or PNG" in error["message"]
    assert error["hint"]
    assert stored_files(settings) == []


def test_an_oversized_file_is_refused_and_nothing_is_stored(client: TestClient, journey: Journey,
                                                            settings: Settings) -> None:
    journey.create()
    response = upload(client, journey.id, journey.applicant, pdf(padding=FILE_LIMIT))
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "PayloadTooLarge" and "larger than" in error["message"] and error["hint"]
    assert error["details"]["limit_bytes"] == FILE_LIMIT
    assert stored_files(settings) == []
    listed = client.get(f"/api/v1/applications/{journey.id}/documents", headers=journey.applicant).json()
    assert all(entry["current"] is None for entry in listed)


def test_a_request_far_over_the_limit_is_refused_before_it_is_read(client: TestClient, journey: Journey) -> None:
    journey.create()
    huge = 30 * 1024 * 1024  # over the default 20 MB + the form: the middleware answers from Content-Length
    response = client.post(f"/api/v1/applications/{journey.id}/documents", content=b"x" * 16,
                           headers={**journey.applicant, "Content-Type": "multipart/form-data; boundary=b",
                                    "Content-Length": str(huge)})
    assert response.status_code == 413


def test_the_application_total_is_limited(client: TestClient, journey: Journey, settings: Settings) -> None:
    journey.create()
    for pages in (1, 2):
        assert upload(client, journey.id, journey.applicant, pdf(pages, padding=180_000)).status_code == 201
    response = upload(client, journey.id, journey.applicant, pdf(3, padding=180_000))
    assert response.status_code == 413
    assert "delete earlier uploads" in response.json()["error"]["hint"]
    assert len(stored_files(settings)) == 2


@ON_SQLITE  # a content check: the database adds nothing here
def test_a_truncated_pdf_is_refused(client: TestClient, journey: Journey, settings: Settings) -> None:
    journey.create()
    whole = pdf(pages=3)
    response = upload(client, journey.id, journey.applicant, whole[: len(whole) // 2])
    assert response.status_code == 422
    assert "damaged or incomplete" in response.json()["error"]["message"]
    assert stored_files(settings) == []


@ON_SQLITE  # a content check: the database adds nothing here
def test_a_png_with_an_exif_location_is_stored_without_it(client: TestClient, journey: Journey) -> None:
    journey.create()
    original = png_with_location()
    response = upload(client, journey.id, journey.applicant, original, filename="shop.png",
                      content_type="application/pdf")  # the part's header is ignored: the content says PNG
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["content_type"] == "image/png" and created["filename"] == "shop.png"
    stored = client.get(f"/api/v1/documents/{created['id']}/content", headers=journey.applicant).content
    assert stored != original and created["sha256"] == hashlib.sha256(stored).hexdigest()
    image = Image.open(io.BytesIO(stored))
    assert dict(image.getexif()) == {} and dict(image.getexif().get_ifd(GPS_IFD)) == {}
    assert "Author" not in image.info and "exif" not in image.info
    assert b"Somying" not in stored and b"Phone" not in stored
    assert image.size == (40, 30) and image.getpixel((0, 0)) == (200, 30, 30)


@ON_SQLITE  # a content check: the database adds nothing here
def test_a_jpeg_loses_its_location_and_comment_and_stays_upright(client: TestClient, journey: Journey) -> None:
    journey.create()
    # Orientation 6: the camera was turned; the stored picture is rotated instead of carrying the tag.
    response = upload(client, journey.id, journey.applicant, jpeg_with_location((60, 20), orientation=6),
                      filename="photo.jpeg")
    assert response.status_code == 201, response.text
    stored = client.get(f"/api/v1/documents/{response.json()['id']}/content", headers=journey.applicant).content
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (20, 60)
    assert dict(image.getexif()) == {} and "comment" not in image.info
    assert response.json()["filename"] == "photo.jpg"


@ON_SQLITE  # a content check: the database adds nothing here
@pytest.mark.parametrize("document", ["no_such_document", EXCHANGED_DOCUMENT])
def test_only_the_licences_uploadable_documents_are_taken(client: TestClient, journey: Journey,
                                                          document: str) -> None:
    journey.create()
    response = upload(client, journey.id, journey.applicant, pdf(), document=document)
    assert response.status_code == 422
    error = response.json()["error"]
    assert MAP_DOCUMENT in error["details"]["allowed"] and EXCHANGED_DOCUMENT not in error["details"]["allowed"]
    if document == EXCHANGED_DOCUMENT:
        assert "data exchange" in error["message"]


def test_a_drafts_upload_can_be_deleted_and_a_submitted_ones_cannot(client: TestClient, journey: Journey,
                                                                    engine: LicensingEngine) -> None:
    journey.create()
    first = upload(client, journey.id, journey.applicant, pdf()).json()
    link = client.post(f"/api/v1/documents/{first['id']}/download-link", headers=journey.applicant)
    assert link.status_code == 200
    url = link.json()["url"].removeprefix("https://bizportal.test")
    assert client.get(url).content == pdf()  # no sign-in needed
    assert client.delete(f"/api/v1/documents/{first['id']}", headers=journey.applicant).status_code == 204
    assert client.get(f"/api/v1/documents/{first['id']}/content", headers=journey.applicant).status_code == 404
    assert client.get(url).status_code == 410  # the link dies with the upload
    listed = client.get(f"/api/v1/applications/{journey.id}/documents", headers=journey.applicant).json()
    assert all(entry["current"] is None for entry in listed)
    second = upload(client, journey.id, journey.applicant, pdf(2)).json()
    assert second["version"] == 2  # a version number is never reused
    journey.submit()
    assert client.delete(f"/api/v1/documents/{second['id']}", headers=journey.applicant).status_code == 409
    late = upload(client, journey.id, journey.applicant, pdf())
    assert late.status_code == 409 and "only when the agency asks" in late.json()["error"]["message"]
    assert [event for event, _ in audit_events(engine, journey.id)] == [
        "document_uploaded", "document_read", "document_deleted", "document_uploaded"]


class _Refusing:
    name = "refusing"

    def scan(self, document: ScannedDocument, content: Any) -> ScanVerdict:
        assert content.read() and document.size > 0
        return ScanVerdict(accepted=False, reason="EICAR test signature")


class _Down:
    name = "down"

    def scan(self, document: ScannedDocument, content: Any) -> ScanVerdict:
        raise ScannerUnavailable("clamd is not answering")


def test_the_scanner_is_asked_before_a_document_is_accepted(client: TestClient, journey: Journey,
                                                            engine: LicensingEngine, settings: Settings) -> None:
    journey.create()
    engine.ctx.scanner = _Refusing()
    refused = upload(client, journey.id, journey.applicant, pdf())
    assert refused.status_code == 422 and "EICAR test signature" in refused.json()["error"]["message"]
    engine.ctx.scanner = _Down()
    assert upload(client, journey.id, journey.applicant, pdf()).status_code == 503
    assert stored_files(settings) == []


def test_two_uploads_racing_for_one_version_number_keep_one(client: TestClient, journey: Journey,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    journey.create()
    assert upload(client, journey.id, journey.applicant, pdf()).status_code == 201
    # The fault: the second upload read the latest version before the first was committed.
    monkeypatch.setattr(documents, "_next_version", lambda session, application_id, code: 1)
    raced = upload(client, journey.id, journey.applicant, pdf(2))
    assert raced.status_code == 409 and "at the same time" in raced.json()["error"]["message"]
    listed = client.get(f"/api/v1/applications/{journey.id}/documents", headers=journey.applicant).json()
    assert [(e["current"] or {}).get("version") for e in listed if e["document"] == MAP_DOCUMENT] == [1]


@ON_SQLITE  # a content check: the database adds nothing here
def test_the_document_code_is_a_guarded_line(client: TestClient, journey: Journey) -> None:
    journey.create()
    for bad in ("premises\x00map", "\u202eplan", "x" * 101):
        response = upload(client, journey.id, journey.applicant, pdf(), document=bad)
        assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "document"
