"""Deleting uploaded documents nobody needs any more (PDPA: personal data is kept no longer than its purpose).

An application that ended without a licence (rejected, withdrawn or cancelled, or its fee not paid in time)
keeps its documents for the retention period, long enough for an appeal or a complaint, then loses them: the
periodic sweep marks each upload deleted, removes the bytes no other record still uses (the store is
content-addressed: an upload, an e-licence or a receipt may share them), and records the deletion in the
application's audit trail.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from bizportal.engine import audit
from bizportal.engine.context import EngineContext
from bizportal.engine.principal import SYSTEM
from bizportal.engine.statuses import Status
from bizportal.engine.uploads.limits import UploadLimits
from bizportal.storage.applications import ApplicationRow
from bizportal.storage.issued_licences import IssuedLicenceRow
from bizportal.storage.receipts import ReceiptRow
from bizportal.storage.uploaded_documents import UploadedDocumentRow

ENDED_WITHOUT_LICENCE = (Status.REJECTED, Status.CANCELLED, Status.PAYMENT_EXPIRED)
DELETED_BY = "system:retention"


def purge_expired_documents(ctx: EngineContext, session: Session, batch: int = 100) -> set[str]:
    """Mark deleted the uploads of applications that ended without a licence more than the retention period ago,
    each application's deletion audited.

    Returns:
        The object keys those uploads used: once this transaction commits, `delete_unused` removes the bytes
        (removing them before the commit could lose files whose rows a rollback keeps). At most `batch`
        applications are done per call: the sweep comes back for the rest.
    """
    now = ctx.clock.now()
    cutoff = now - timedelta(days=(ctx.upload_limits or UploadLimits()).retention_days)
    ended = select(ApplicationRow.id).where(col(ApplicationRow.status).in_([s.value for s in ENDED_WITHOUT_LICENCE]),
                                            ApplicationRow.updated_at <= cutoff)
    rows = list(session.exec(select(UploadedDocumentRow).where(col(UploadedDocumentRow.application_id).in_(ended),
                                                               col(UploadedDocumentRow.deleted_at).is_(None))
                             .order_by(col(UploadedDocumentRow.application_id)).limit(batch * 20)))
    by_application: dict[str, list[UploadedDocumentRow]] = {}
    for row in rows:
        by_application.setdefault(row.application_id, []).append(row)
    keys: set[str] = set()
    for application_id, uploads in list(by_application.items())[:batch]:
        for row in uploads:
            row.deleted_at, row.deleted_by = now, DELETED_BY
            keys.add(row.object_key)
        audit.record(session, SYSTEM, "documents_purged", now, application_id, uploads=[row.id for row in uploads],
                     reason="retention period over after the application ended without a licence",
                     retention_days=(ctx.upload_limits or UploadLimits()).retention_days)
    return keys


def delete_unused(ctx: EngineContext, session: Session, keys: set[str]) -> int:
    """Remove from the object store the bytes under `keys` that no record uses any more; returns how many."""
    unused = [key for key in sorted(keys) if not _still_used(session, key)]
    for key in unused:
        ctx.object_store.delete(key)
    return len(unused)


def _still_used(session: Session, key: str) -> bool:
    """Whether a record still refers to the stored bytes under `key`."""
    return any(session.exec(query).first() is not None for query in (
        select(UploadedDocumentRow.id).where(UploadedDocumentRow.object_key == key,
                                             col(UploadedDocumentRow.deleted_at).is_(None)),
        select(IssuedLicenceRow.number).where(IssuedLicenceRow.pdf_key == key),
        select(ReceiptRow.number).where(ReceiptRow.pdf_key == key)))
