import dataclasses
import io
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from pypdf import PdfReader

from bizportal.engine.licence_document import LicenceDocument, render_licence_pdf
from bizportal.engine.licence_signing import (
    DEV_SIGNER_CN,
    LicenceSigner,
    dev_certificate,
    load_or_create_ed25519,
    pem_signer,
    sign_pdf,
    validate_pdf,
)

DOC = LicenceDocument(
    licence_number="BMA-2569-000123",
    licence_code="FOOD-NOTIFY-200",
    licence_name_th="หนังสือรับรองการแจ้งจัดตั้งสถานที่จำหน่ายอาหาร",
    licence_name_en="Certificate of Notification for a Food Premises",
    agency_name_th="สำนักงานเขตคลองเตย",
    agency_name_en="Khlong Toei District Office",
    holder_name="นางสาวสมหญิง ใจดี",
    holder_id_masked="1-2345-xxxxx-xx-1",
    business_name="ร้านข้าวมันไก่น้ำใจ",
    business_address="99/9 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร 10110",
    issued_on=date(2026, 11, 22),
    valid_until=date(2027, 11, 21),
    verification_url="https://bizportal.example/verify/BMA-2569-000123?s=abc",
)


@pytest.fixture(scope="module")
def dev_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    return dev_certificate(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signed_pdf(dev_cert: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    unsigned = render_licence_pdf(DOC)
    return unsigned, sign_pdf(unsigned, pem_signer(*dev_cert))


def test_ed25519_signature_round_trip() -> None:
    signer = LicenceSigner(Ed25519PrivateKey.generate())
    sig = signer.sign("BMA-2569-000123", "นางสาวสมหญิง ใจดี", date(2027, 11, 21), "")
    assert len(sig) == 86 and "=" not in sig and "+" not in sig and "/" not in sig
    assert signer.verify(sig, "BMA-2569-000123", "นางสาวสมหญิง ใจดี", date(2027, 11, 21), "")
    assert not signer.verify(sig, "BMA-2569-000124", "นางสาวสมหญิง ใจดี", date(2027, 11, 21), "")
    assert not signer.verify(sig, "BMA-2569-000123", "นางสาวสมหญิง ใจดีมาก", date(2027, 11, 21), "")
    assert not signer.verify(sig, "BMA-2569-000123", "นางสาวสมหญิง ใจดี", None, "")
    assert not signer.verify(sig, "BMA-2569-000123", "นางสาวสมหญิง ใจดี", date(2027, 11, 21), "ab" * 32)
    assert not signer.verify("not-base64!", "BMA-2569-000123", "นางสาวสมหญิง ใจดี", date(2027, 11, 21), "")
    assert not signer.verify(sig[:-2], "BMA-2569-000123", "นางสาวสมหญิง ใจดี", date(2027, 11, 21), "")


def test_ed25519_no_expiry_and_another_key() -> None:
    signer = LicenceSigner(Ed25519PrivateKey.generate())
    sig = signer.sign("N-1", "Holder", None, "")
    assert signer.verify(sig, "N-1", "Holder", None, "")
    assert not LicenceSigner(Ed25519PrivateKey.generate()).verify(sig, "N-1", "Holder", None, "")


def test_ed25519_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ed25519.pem"
    first = load_or_create_ed25519(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = load_or_create_ed25519(path)
    sig = LicenceSigner(first).sign("N-1", "Holder", None, "")
    assert LicenceSigner(again).verify(sig, "N-1", "Holder", None, "")


def test_dev_certificate(dev_cert: tuple[bytes, bytes], tmp_path: Path) -> None:
    key_pem, cert_pem = dev_cert
    assert b"PRIVATE KEY" in key_pem
    cert = x509.load_pem_x509_certificate(cert_pem)
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [attribute.value for attribute in common_names] == [DEV_SIGNER_CN]
    assert cert.issuer == cert.subject
    years = (cert.not_valid_after_utc - cert.not_valid_before_utc).days / 365
    assert 9.9 < years < 10.1
    # Created once, then read back.
    assert dev_certificate(tmp_path) == dev_certificate(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "signing-key.pem").st_mode) == 0o600


def test_signed_pdf_validates(signed_pdf: tuple[bytes, bytes], dev_cert: tuple[bytes, bytes]) -> None:
    unsigned, signed = signed_pdf
    assert signed.startswith(unsigned)  # an incremental update: the rendering is untouched
    assert len(PdfReader(io.BytesIO(signed)).pages) == 1
    check = validate_pdf(signed, [dev_cert[1]])
    assert check.valid and check.intact
    assert check.signer_cn == DEV_SIGNER_CN
    assert check.reason is None


def test_unsigned_pdf_is_not_valid(signed_pdf: tuple[bytes, bytes], dev_cert: tuple[bytes, bytes]) -> None:
    check = validate_pdf(signed_pdf[0], [dev_cert[1]])
    assert not check.valid and check.reason


def test_flipped_byte_is_detected(signed_pdf: tuple[bytes, bytes], dev_cert: tuple[bytes, bytes]) -> None:
    unsigned, signed = signed_pdf
    tampered = bytearray(signed)
    tampered[len(unsigned) // 2] ^= 0x01
    check = validate_pdf(bytes(tampered), [dev_cert[1]])
    assert not check.valid and not check.intact
    assert check.reason


def test_garbage_and_appended_content_are_not_valid(signed_pdf: tuple[bytes, bytes],
                                                    dev_cert: tuple[bytes, bytes]) -> None:
    assert not validate_pdf(b"not a pdf", [dev_cert[1]]).valid
    appended = validate_pdf(signed_pdf[1] + b"\n% appended\n", [dev_cert[1]])
    assert not appended.valid and appended.intact


def test_untrusted_root_is_not_valid(signed_pdf: tuple[bytes, bytes], tmp_path: Path) -> None:
    other_root = dev_certificate(tmp_path)[1]
    check = validate_pdf(signed_pdf[1], [other_root])
    assert not check.valid and check.intact
    assert check.reason == "the signing certificate is not trusted"


def test_signing_does_not_change_the_rendering_input() -> None:
    # The QR URL may carry the Ed25519 signature; rendering stays deterministic for a given URL.
    doc = dataclasses.replace(DOC, verification_url="https://bizportal.example/verify/X?s=" + "A" * 86)
    assert render_licence_pdf(doc) == render_licence_pdf(doc)
