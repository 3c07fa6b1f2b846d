import dataclasses
import io
from datetime import UTC, date, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from pypdf import PdfReader

from bizportal.api.key_files import DEV_SIGNER_CN, development_certificate, new_ed25519_pem, new_signing_key_pem
from bizportal.engine.documents.licence_pdf import render_licence_pdf
from bizportal.engine.documents.signing import (
    LicenceSigner,
    licence_signing,
    load_ed25519_pem,
    pem_signer,
    sign_pdf,
    validate_pdf,
)
from support.documents import SAMPLE_LICENCE

DOC = SAMPLE_LICENCE


def _key_and_certificate() -> tuple[bytes, bytes]:
    # Made at the real time: PDF validation checks the certificate's validity against the wall clock.
    key = new_signing_key_pem()
    return key, development_certificate(key, datetime.now(UTC))


@pytest.fixture(scope="module")
def dev_cert() -> tuple[bytes, bytes]:
    return _key_and_certificate()


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


def test_ed25519_keys_are_pem_and_only_ed25519_is_accepted(dev_cert: tuple[bytes, bytes]) -> None:
    pem = new_ed25519_pem()
    sig = LicenceSigner(load_ed25519_pem(pem)).sign("N-1", "Holder", None, "")
    assert LicenceSigner(load_ed25519_pem(pem)).verify(sig, "N-1", "Holder", None, "")
    with pytest.raises(ValueError, match="not an Ed25519"):
        load_ed25519_pem(dev_cert[0])  # the PDF's ECDSA key


def test_dev_certificate(dev_cert: tuple[bytes, bytes]) -> None:
    key_pem, cert_pem = dev_cert
    assert b"PRIVATE KEY" in key_pem
    cert = x509.load_pem_x509_certificate(cert_pem)
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [attribute.value for attribute in common_names] == [DEV_SIGNER_CN]
    assert cert.issuer == cert.subject
    years = (cert.not_valid_after_utc - cert.not_valid_before_utc).days / 365
    assert 9.9 < years < 10.1


def test_the_signing_material_must_fit_together(dev_cert: tuple[bytes, bytes]) -> None:
    signing = licence_signing(new_ed25519_pem(), *dev_cert)
    assert signing.trust_roots == [dev_cert[1]]
    with pytest.raises(ValueError, match="does not belong to the signing certificate"):
        licence_signing(new_ed25519_pem(), new_signing_key_pem(), dev_cert[1])


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


def test_untrusted_root_is_not_valid(signed_pdf: tuple[bytes, bytes]) -> None:
    other_root = _key_and_certificate()[1]
    check = validate_pdf(signed_pdf[1], [other_root])
    assert not check.valid and check.intact
    assert check.reason == "the signing certificate is not trusted"


def test_signing_does_not_change_the_rendering_input() -> None:
    # The QR URL may carry the Ed25519 signature; rendering stays deterministic for a given URL.
    doc = dataclasses.replace(DOC, verification_url="https://bizportal.example/verify/X?s=" + "A" * 86)
    assert render_licence_pdf(doc) == render_licence_pdf(doc)
