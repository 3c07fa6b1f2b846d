"""Public verification of e-licences: by the QR code's number and signature, or by the PDF itself.

Only what a public register of licences shows is revealed (holder name, business name, licence
type, dates, status); never the holder's ID number (PDPA). A number that does not exist and a QR
signature that does not match get the same answer, `unknown`, so the public check cannot list which
numbers exist. An uploaded PDF is hashed first: only a file whose sha256 is an issued licence's has its
signature validated, so a file never issued here costs one hash, whatever it holds.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from sqlmodel import Session, select

from bizportal.engine.catalogue.catalogue import Catalogue
from bizportal.engine.clock import BANGKOK
from bizportal.engine.documents.signing import LicenceSigner, validate_pdf
from bizportal.engine.errors import Unavailable
from bizportal.storage.issued_licences import IssuedLicenceRow, LicenceStanding

log = logging.getLogger(__name__)

# "unknown": no licence issued here has this number and this QR signature (or this exact file).
VerificationStatus = Literal["valid", "expired", "revoked", "suspended", "cancelled", "renewed", "replaced",
                             "unknown"]
NOT_ISSUED_HERE = "this file is not an e-licence issued by Biz Portal"
SIGNATURE_NOT_VERIFIED = "the file's signature could not be verified"
# pyHanko's validation is the one costly step (about 40 ms for an e-licence) and the verifier is public: one
# validation at a time per process, so uploading a genuine licence over and over occupies one thread at most.
# A caller that cannot get a turn within the wait is told to come back, rather than queue up server threads.
_VALIDATION_TURN = threading.Lock()
VALIDATION_WAIT_SECONDS = 5.0
# A licence's recorded standing other than valid, shown as it is: the agency revoked or suspended it, its holder
# cancelled it, or a successor (`successor_number`) renewed or replaced it. Expiry is computed from the date.
_RECORDED = (LicenceStanding.REVOKED, LicenceStanding.SUSPENDED, LicenceStanding.CANCELLED, LicenceStanding.RENEWED,
             LicenceStanding.REPLACED)


@dataclass(frozen=True)
class VerificationResult:
    status: VerificationStatus
    number: str
    licence_code: str | None = None
    holder_name: str | None = None
    business_name: str | None = None
    valid_until: date | None = None
    issued_on: date | None = None
    successor_number: str | None = None  # the licence that renewed or replaced this one
    licence_name_th: str | None = None  # what people read; `licence_code` is the catalogue's key
    licence_name_en: str | None = None


@dataclass(frozen=True)
class PdfVerification:
    """`authentic`: the exact file Biz Portal issued, with an intact, trusted PAdES signature.

    `status` is the licence's current standing (an authentic file of a revoked licence is still
    authentic); "unknown" when the file is not one Biz Portal issued.
    """

    authentic: bool
    number: str | None
    status: VerificationStatus
    reason: str | None


def _standing(row: IssuedLicenceRow, now: datetime) -> VerificationStatus:
    if row.status in _RECORDED:
        return row.status  # type: ignore[return-value]
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    today = now.astimezone(BANGKOK).date()
    if row.valid_until is not None and row.valid_until < today:
        return "expired"
    return "valid"


def verify_number(session: Session, number: str, signature: str, signer: LicenceSigner,
                  now: datetime) -> VerificationResult:
    """The verdict for a scanned QR code `…/verify/{number}?s={signature}`.

    A wrong signature on an existing number answers exactly like a number that does not exist.
    """
    row = session.get(IssuedLicenceRow, number)
    # The QR signs number, holder and validity; pdf_sha256 is "" (see licence_signing).
    if row is None or not signer.verify(signature, row.number, row.holder_name, row.valid_until, ""):
        return VerificationResult(status="unknown", number=number)
    return VerificationResult(status=_standing(row, now), number=row.number, licence_code=row.licence_code,
                              holder_name=row.holder_name, business_name=row.business_name,
                              valid_until=row.valid_until, issued_on=row.issued_on,
                              successor_number=row.successor_number)


def with_licence_names(result: VerificationResult, catalogue: Catalogue) -> VerificationResult:
    """`result` with its licence's Thai and English names from the catalogue (nothing to add to a verdict
    that reveals no licence, or for a code the catalogue no longer lists)."""
    manual = catalogue.licences.get(result.licence_code) if result.licence_code else None
    if manual is None:
        return result
    return replace(result, licence_name_th=manual.name_th, licence_name_en=manual.name_en)


def verify_pdf(session: Session, pdf: bytes,
               trust_roots: Sequence[x509.Certificate | asn1_x509.Certificate | bytes],
               now: datetime | None = None) -> PdfVerification:
    """Is `pdf` exactly an e-licence Biz Portal issued, and what is that licence's standing?

    Both must hold: its sha256 is an issued licence's recorded `pdf_sha256`, and its PAdES signature
    is intact, valid, trusted by `trust_roots` and covers the whole file. The hash is looked up first;
    the signature (pyHanko, the costly part) is validated only for files issued here, one at a time.
    Reasons are fixed sentences: what the parser said is logged, never returned.

    Raises:
        Unavailable: another validation held the turn for longer than VALIDATION_WAIT_SECONDS.
    """
    digest = hashlib.sha256(pdf).hexdigest()
    row = session.exec(select(IssuedLicenceRow).where(IssuedLicenceRow.pdf_sha256 == digest)).first()
    if row is None:
        return PdfVerification(authentic=False, number=None, status="unknown", reason=NOT_ISSUED_HERE)
    if not _VALIDATION_TURN.acquire(timeout=VALIDATION_WAIT_SECONDS):
        raise Unavailable("the PDF check is busy", hint="try again in a moment")
    try:
        check = validate_pdf(pdf, trust_roots)
    finally:
        _VALIDATION_TURN.release()
    if not check.valid:
        # The exact bytes issued here no longer validate: the trust roots changed (a new signing
        # certificate without the old one kept as a root). An operator has to look.
        log.error("issued licence %s does not validate against the configured trust roots: %s", row.number,
                  check.reason)
        return PdfVerification(authentic=False, number=row.number, status="unknown", reason=SIGNATURE_NOT_VERIFIED)
    return PdfVerification(authentic=True, number=row.number, status=_standing(row, now or datetime.now(UTC)),
                           reason=None)
