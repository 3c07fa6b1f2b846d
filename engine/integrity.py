"""Do the stored files still back what the database says? The check after a restore (and any time an operator asks).

Every issued licence's PDF is in the object store, its bytes hash to what the licence row recorded, and its
signature verifies with this deployment's signing certificate (the public verifier's own check, `verify_pdf`);
every receipt's PDF and every kept upload is in the store with the bytes its row recorded. It reads only: a
problem is reported, never repaired.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Unavailable
from bizportal.engine.licences.verification import verify_pdf
from bizportal.storage.issued_licences import IssuedLicenceRow
from bizportal.storage.object_store import ObjectNotFound, ObjectStore
from bizportal.storage.receipts import ReceiptRow
from bizportal.storage.uploaded_documents import UploadedDocumentRow


@dataclass
class IntegrityReport:
    """How many records were checked, and what is wrong (nothing: `problems` is empty)."""

    licences: int = 0
    receipts: int = 0
    documents: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems


def check_integrity(ctx: EngineContext, session: Session) -> IntegrityReport:
    """Check every issued licence, receipt and kept upload against the object store (see the module's docstring).

    Raises:
        Unavailable: licence signing is not configured here, so no signature can be checked.
        ObjectStoreUnavailable: the store cannot be reached.
    """
    if ctx.signing is None:
        raise Unavailable("licence signing is not configured: no licence's signature can be checked",
                          hint="configure the signing keys the licences were issued with (`bizportal keys`)")
    report = IntegrityReport()
    for licence in session.exec(select(IssuedLicenceRow).order_by(col(IssuedLicenceRow.number))):
        report.licences += 1
        pdf = _bytes(ctx.object_store, licence.pdf_key)
        what = f"licence {licence.number}"
        if pdf is None:
            report.problems.append(f"{what}: its PDF {licence.pdf_key} is not in the object store")
        elif hashlib.sha256(pdf).hexdigest() != licence.pdf_sha256:
            report.problems.append(f"{what}: the stored PDF is not the one issued (sha256 differs)")
        elif not (verdict := verify_pdf(session, pdf, ctx.signing.trust_roots, ctx.clock.now())).authentic:
            report.problems.append(f"{what}: {verdict.reason} (signed with a key this deployment does not trust?)")
    for receipt in session.exec(select(ReceiptRow).order_by(col(ReceiptRow.number))):
        report.receipts += 1
        report.problems += _stored_as_recorded(ctx.object_store, f"receipt {receipt.number}", receipt.pdf_key,
                                               receipt.pdf_sha256)
    kept = select(UploadedDocumentRow).where(col(UploadedDocumentRow.deleted_at).is_(None))
    for upload in session.exec(kept.order_by(col(UploadedDocumentRow.id))):
        report.documents += 1
        report.problems += _stored_as_recorded(ctx.object_store, f"uploaded document {upload.id}", upload.object_key,
                                               upload.sha256)
    return report


def _bytes(store: ObjectStore, key: str) -> bytes | None:
    try:
        return store.get(key)
    except ObjectNotFound:
        return None


def _stored_as_recorded(store: ObjectStore, what: str, key: str, sha256: str) -> list[str]:
    """A problem if the object under `key` is missing or its bytes do not hash to `sha256`; streamed, not held."""
    digest = hashlib.sha256()
    try:
        for chunk in store.iter_chunks(key):
            digest.update(chunk)
    except ObjectNotFound:
        return [f"{what}: {key} is not in the object store"]
    if digest.hexdigest() != sha256:
        return [f"{what}: the stored bytes are not the ones recorded (sha256 differs)"]
    return []
