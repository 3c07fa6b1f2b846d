"""The prepared CMS container gives the container pyHanko would build, for every document digest."""

import asyncio
import hashlib
import io
from datetime import UTC, datetime, timedelta

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from fpdf import FPDF
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pypdf import PdfReader

from bizportal.api.key_files import development_certificate, new_signing_key_pem
from bizportal.engine.documents.cms_container import PreparedContainer
from bizportal.engine.documents.signing import pem_signer, sign_pdf, validate_pdf


def _rsa_signer() -> signers.SimpleSigner:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA test signer")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return pem_signer(key_pem, cert.public_bytes(serialization.Encoding.PEM))


def _pyhanko(signer: signers.Signer, digest: bytes) -> bytes:
    return asyncio.run(signer.async_sign(digest, "sha256", use_pades=True,
                                         signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now(UTC)))
                       ).dump()


def test_an_rsa_container_is_pyhankos_byte_for_byte() -> None:
    # RSA PKCS#1 v1.5 signatures are deterministic: the whole container can be compared.
    signer = _rsa_signer()
    prepared = asyncio.run(PreparedContainer.prepare(signer, "sha256"))
    assert prepared is not None
    for text in (b"one document", b"another document", b""):
        digest = hashlib.sha256(text).digest()
        assert asyncio.run(prepared.container(signer, digest)) == _pyhanko(signer, digest)


def test_an_ecdsa_container_matches_pyhankos_but_for_the_signature_and_verifies() -> None:
    key_pem = new_signing_key_pem()
    cert_pem = development_certificate(key_pem, datetime.now(UTC))
    signer = pem_signer(key_pem, cert_pem)
    prepared = asyncio.run(PreparedContainer.prepare(signer, "sha256"))
    assert prepared is not None
    public_key = x509.load_pem_x509_certificate(cert_pem).public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    lengths = set()
    for index in range(40):  # ECDSA signatures vary in length (DER integers): the lengths around them follow
        digest = hashlib.sha256(b"document %d" % index).digest()
        ours = cms.ContentInfo.load(asyncio.run(prepared.container(signer, digest)))
        theirs = cms.ContentInfo.load(_pyhanko(signer, digest))
        ours_info, theirs_info = ours["content"]["signer_infos"][0], theirs["content"]["signer_infos"][0]
        assert ours_info["signed_attrs"].dump() == theirs_info["signed_attrs"].dump()
        assert ours_info["signed_attrs"].native[1]["values"] == [digest]  # the message digest attribute
        for field in ("version", "sid", "digest_algorithm", "signature_algorithm"):
            assert ours_info[field].dump() == theirs_info[field].dump()
        for field in ("version", "digest_algorithms", "encap_content_info", "certificates"):
            assert ours["content"][field].dump() == theirs["content"][field].dump()
        signature = ours_info["signature"].native
        lengths.add(len(signature))
        attributes = b"\x31" + ours_info["signed_attrs"].dump()[1:]  # signed as a SET, stored as [0] IMPLICIT
        public_key.verify(signature, attributes, ec.ECDSA(hashes.SHA256()))  # raises if it does not verify
    assert len(lengths) > 1


def test_a_container_of_another_shape_is_declined() -> None:
    class WithUnsignedAttribute(signers.SimpleSigner):
        """A signer whose container carries unsigned attributes (as a timestamp would add): not prepared."""

        async def unsigned_attrs(self, *args: object, **kwargs: object) -> cms.CMSAttributes:
            return cms.CMSAttributes([cms.CMSAttribute({"type": "signing_time",
                                                      "values": [cms.Time({"utc_time": datetime.now(UTC)})]})])

    plain = _rsa_signer()
    signer = WithUnsignedAttribute(plain.signing_cert, plain.signing_key, plain.cert_registry)
    assert asyncio.run(PreparedContainer.prepare(signer, "sha256")) is None
    # sign_pdf then lets pyHanko build every container, and the signature still validates.
    fpdf = FPDF()
    fpdf.add_page()
    fpdf.set_font("Helvetica", size=12)
    fpdf.cell(text="A page")
    signed = sign_pdf(bytes(fpdf.output()), signer)
    check = validate_pdf(signed, [signer.signing_cert])
    assert check.valid, check.reason
    fields = PdfReader(io.BytesIO(signed)).get_fields()
    assert fields is not None
    unsigned = cms.ContentInfo.load(fields["BizPortal"]["/V"]["/Contents"])
    assert unsigned["content"]["signer_infos"][0]["unsigned_attrs"].native is not None
