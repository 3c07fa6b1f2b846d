"""`check_integrity`: the stored files of licences, receipts and uploads against what their rows recorded."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlmodel import select

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import Unavailable
from bizportal.engine.integrity import check_integrity
from bizportal.storage.database import read_session
from bizportal.storage.issued_licences import IssuedLicenceRow
from bizportal.storage.local_object_store import LocalObjectStore
from bizportal.storage.receipts import ReceiptRow
from bizportal.storage.uploaded_documents import UploadedDocumentRow
from support.helpers import Journey


def _file(engine: LicensingEngine, key: str) -> Path:
    store = engine.ctx.object_store
    assert isinstance(store, LocalObjectStore)  # the `settings` fixture's store: its files can be damaged by hand
    return store.root / key


def test_a_sound_portal_passes_and_every_kind_of_damage_is_named(journey: Journey, engine: LicensingEngine) -> None:
    number, _ = journey.issue()
    with read_session(engine.db) as session:
        report = check_integrity(engine.ctx, session)
        licence = session.exec(select(IssuedLicenceRow)).one()
        receipt = session.exec(select(ReceiptRow)).one()
        upload = session.exec(select(UploadedDocumentRow)).one()
    assert report.sound and (report.licences, report.receipts, report.documents) == (1, 1, 1)

    engine.ctx.object_store.delete(receipt.pdf_key)
    damaged = _file(engine, upload.object_key)
    damaged.write_bytes(damaged.read_bytes() + b" ")
    signed = _file(engine, licence.pdf_key)
    signed.write_bytes(signed.read_bytes().replace(b"/Type", b"/Tipe", 1))
    with read_session(engine.db) as session:
        report = check_integrity(engine.ctx, session)
    assert report.problems == [
        f"licence {number}: the stored PDF is not the one issued (sha256 differs)",
        f"receipt {receipt.number}: {receipt.pdf_key} is not in the object store",
        f"uploaded document {upload.id}: the stored bytes are not the ones recorded (sha256 differs)"]


def test_licences_cannot_be_checked_without_the_signing_keys(engine: LicensingEngine) -> None:
    unsigned = dataclasses.replace(engine.ctx, signing=None)
    with read_session(engine.db) as session, pytest.raises(Unavailable, match="signing is not configured"):
        check_integrity(unsigned, session)
