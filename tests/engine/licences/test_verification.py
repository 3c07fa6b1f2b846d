import dataclasses
import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

import bizportal.storage.tables  # noqa: F401  (registers every table before create_all)
from bizportal.api.key_files import development_certificate, new_signing_key_pem
from bizportal.engine.documents.licence_pdf import LicenceDocument, render_licence_pdf
from bizportal.engine.documents.signing import LicenceSigner, PdfCheck, pem_signer, sign_pdf
from bizportal.engine.errors import Unavailable
from bizportal.engine.licences import verification
from bizportal.engine.licences.verification import (
    NOT_ISSUED_HERE,
    SIGNATURE_NOT_VERIFIED,
    VerificationResult,
    verify_number,
    verify_pdf,
)
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.issued_licences import IssuedLicenceRow

NUMBER = "BMA-2569-000001"
HOLDER = "นางสาวสมหญิง ใจดี"
BUSINESS = "ร้านข้าวมันไก่น้ำใจ"
VALID_UNTIL = date(2027, 11, 21)
# 22 November 2027 00:30 in Bangkok is still 21 November in UTC.
DAY_AFTER_EXPIRY_BANGKOK = datetime(2027, 11, 21, 17, 30, tzinfo=UTC)
LAST_DAY_BANGKOK = datetime(2027, 11, 21, 16, 30, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)

DOC = LicenceDocument(
    licence_number=NUMBER, licence_code="FOOD-NOTIFY-200", licence_name_th="หนังสือรับรองการแจ้ง",
    licence_name_en="Certificate of Notification", agency_name_th="สำนักงานเขตคลองเตย",
    agency_name_en="Khlong Toei District Office", holder_name=HOLDER, holder_id_masked="1-2345-xxxxx-xx-1",
    business_name=BUSINESS, business_address="99/9 ถนนสุขุมวิท กรุงเทพมหานคร 10110",
    issued_on=date(2026, 11, 22), valid_until=VALID_UNTIL, verification_url="https://bizportal.example/verify/x",
)


def _key_and_certificate() -> tuple[bytes, bytes]:
    # Made at the real time: PDF validation checks the certificate's validity against the wall clock.
    key = new_signing_key_pem()
    return key, development_certificate(key, datetime.now(UTC))


@pytest.fixture(scope="module")
def pki() -> tuple[bytes, bytes]:
    return _key_and_certificate()


@pytest.fixture(scope="module")
def signer() -> LicenceSigner:
    return LicenceSigner(Ed25519PrivateKey.generate())


@pytest.fixture(scope="module")
def signed_pdf(pki: tuple[bytes, bytes], signer: LicenceSigner) -> bytes:
    qr_signature = signer.sign(NUMBER, HOLDER, VALID_UNTIL, "")
    doc = dataclasses.replace(DOC, verification_url=f"https://bizportal.example/verify/{NUMBER}?s={qr_signature}")
    return sign_pdf(render_licence_pdf(doc), pem_signer(*pki))


@pytest.fixture
def session(signed_pdf: bytes) -> Iterator[Session]:
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(ApplicationRow(id="app-1", owner="1234567890121", created_by="citizen-1", created_by_role="citizen",
                                   applicant_kind="person", applicant_id_number="1234567890121",
                                   applicant_name=HOLDER, business_name=BUSINESS, business_address="99/9",
                                   business_province="Bangkok", business_area_m2=40.0))
        session.add(LicenceCaseRow(id="case-1", application_id="app-1", licence_code="FOOD-NOTIFY-200",
                                   agency="BMA"))
        session.add(IssuedLicenceRow(number=NUMBER, licence_case_id="case-1", application_id="app-1",
                                     licence_code="FOOD-NOTIFY-200", agency="BMA", holder_name=HOLDER,
                                     holder_id_number="1234567890121", business_name=BUSINESS,
                                     issued_on=date(2026, 11, 22), valid_until=VALID_UNTIL,
                                     pdf_key=f"sha256/{hashlib.sha256(signed_pdf).hexdigest()}",
                                     pdf_sha256=hashlib.sha256(signed_pdf).hexdigest(), pdf_size=len(signed_pdf)))
        session.commit()
        yield session
    engine.dispose()


def _set_status(session: Session, status: str) -> None:
    row = session.get(IssuedLicenceRow, NUMBER)
    assert row is not None
    row.status = status
    session.add(row)
    session.commit()


def test_valid_qr(session: Session, signer: LicenceSigner) -> None:
    result = verify_number(session, NUMBER, signer.sign(NUMBER, HOLDER, VALID_UNTIL, ""), signer, NOW)
    assert result.status == "valid"
    assert (result.number, result.licence_code, result.holder_name, result.business_name) == (
        NUMBER, "FOOD-NOTIFY-200", HOLDER, BUSINESS)
    assert (result.issued_on, result.valid_until) == (date(2026, 11, 22), VALID_UNTIL)
    # PDPA: the holder's ID number is never part of the verdict.
    assert "1234567890121" not in repr(result)


def test_unknown_number(session: Session, signer: LicenceSigner) -> None:
    result = verify_number(session, "BMA-2569-999999", signer.sign("BMA-2569-999999", HOLDER, None, ""), signer, NOW)
    assert result.status == "unknown" and result.holder_name is None


def test_forged_signature_reveals_nothing(session: Session, signer: LicenceSigner) -> None:
    other = LicenceSigner(Ed25519PrivateKey.generate())
    for signature in (other.sign(NUMBER, HOLDER, VALID_UNTIL, ""), signer.sign(NUMBER, "someone else", VALID_UNTIL, ""),
                      "garbage", ""):
        # Not even whether the number exists (L5): the answer is the one a missing number gets.
        assert verify_number(session, NUMBER, signature, signer, NOW) == VerificationResult("unknown", NUMBER)
        missing = verify_number(session, "BMA-2569-999999", signature, signer, NOW)
        assert missing == VerificationResult("unknown", "BMA-2569-999999")


@pytest.mark.parametrize("status", ["revoked", "suspended"])
def test_revoked_and_suspended(session: Session, signer: LicenceSigner, status: str) -> None:
    _set_status(session, status)
    result = verify_number(session, NUMBER, signer.sign(NUMBER, HOLDER, VALID_UNTIL, ""), signer, NOW)
    assert result.status == status


def test_expiry_uses_the_bangkok_date(session: Session, signer: LicenceSigner) -> None:
    signature = signer.sign(NUMBER, HOLDER, VALID_UNTIL, "")
    assert verify_number(session, NUMBER, signature, signer, LAST_DAY_BANGKOK).status == "valid"
    assert verify_number(session, NUMBER, signature, signer, DAY_AFTER_EXPIRY_BANGKOK).status == "expired"


def test_authentic_pdf(session: Session, signed_pdf: bytes, pki: tuple[bytes, bytes]) -> None:
    result = verify_pdf(session, signed_pdf, [pki[1]], now=NOW)
    assert result.authentic and result.number == NUMBER and result.status == "valid" and result.reason is None
    assert verify_pdf(session, signed_pdf, [pki[1]], now=DAY_AFTER_EXPIRY_BANGKOK).status == "expired"


def test_authentic_pdf_of_a_revoked_licence(session: Session, signed_pdf: bytes, pki: tuple[bytes, bytes]) -> None:
    _set_status(session, "revoked")
    result = verify_pdf(session, signed_pdf, [pki[1]], now=NOW)
    assert result.authentic and result.status == "revoked"


def test_changed_byte_is_not_authentic(session: Session, signed_pdf: bytes, pki: tuple[bytes, bytes]) -> None:
    tampered = bytearray(signed_pdf)
    tampered[len(signed_pdf) // 3] ^= 0x01
    result = verify_pdf(session, bytes(tampered), [pki[1]], now=NOW)
    assert not result.authentic and result.number is None and result.status == "unknown"
    assert result.reason


def test_validly_signed_but_not_issued_pdf(session: Session, pki: tuple[bytes, bytes]) -> None:
    # Signed with our certificate, but not the file on record (e.g. re-signed or never issued).
    other = sign_pdf(render_licence_pdf(DOC), pem_signer(*pki))
    result = verify_pdf(session, other, [pki[1]], now=NOW)
    assert not result.authentic and result.reason == NOT_ISSUED_HERE


def test_recorded_pdf_with_an_untrusted_signer(session: Session, signed_pdf: bytes,
                                               caplog: pytest.LogCaptureFixture) -> None:
    other_root = _key_and_certificate()[1]
    result = verify_pdf(session, signed_pdf, [other_root], now=NOW)
    assert not result.authentic and result.number == NUMBER
    assert result.reason == SIGNATURE_NOT_VERIFIED  # the detail is for the operator's log
    assert "the signing certificate is not trusted" in caplog.text


def test_a_file_never_issued_here_is_never_parsed(session: Session, signed_pdf: bytes, pki: tuple[bytes, bytes],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """M6: only the sha256 of an unknown file is computed; pyHanko runs only on files issued here."""
    validated: list[int] = []

    def counting(pdf: bytes, roots: list[object]) -> PdfCheck:
        validated.append(len(pdf))
        return PdfCheck(valid=False, intact=False, signer_cn=None, reason="unreadable PDF: not enough values to "
                                                                          "unpack (expected 3, got 2)")

    monkeypatch.setattr(verification, "validate_pdf", counting)
    for junk in (b"", b"%PDF-1.7\n" + b"[" * 200_000, signed_pdf + b"\n%" + b"A" * 1_000_000):
        result = verify_pdf(session, junk, [pki[1]], now=NOW)
        assert result == verification.PdfVerification(authentic=False, number=None, status="unknown",
                                                      reason=NOT_ISSUED_HERE)
    assert validated == []
    # L9: whatever the parser says about a file issued here, the answer is a fixed sentence.
    result = verify_pdf(session, signed_pdf, [pki[1]], now=NOW)
    assert validated == [len(signed_pdf)] and result.reason == SIGNATURE_NOT_VERIFIED


def test_one_validation_at_a_time(session: Session, signed_pdf: bytes, pki: tuple[bytes, bytes],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """M6: however many genuine licences are uploaded at once, pyHanko runs once at a time; files never issued
    here do not wait for a turn (they are never validated)."""
    monkeypatch.setattr(verification, "VALIDATION_WAIT_SECONDS", 0.01)
    with verification._VALIDATION_TURN:  # another upload is being validated
        with pytest.raises(Unavailable, match="busy"):
            verify_pdf(session, signed_pdf, [pki[1]], now=NOW)
        assert verify_pdf(session, b"%PDF-1.7 junk", [pki[1]], now=NOW).reason == NOT_ISSUED_HERE
    assert verify_pdf(session, signed_pdf, [pki[1]], now=NOW).authentic
