"""The e-licence is signed twice: an Ed25519 signature in its QR code and a PAdES signature in the PDF.

1. **The QR code** points at `{base}/verify/{number}?s={signature}`. The signature is Ed25519 over a
   canonical UTF-8 message (see `licence_message`) naming the licence number, the holder and the
   validity. Anyone scanning a printout can check it online, and the portal can tell a forged QR
   (a made-up number or holder) from a genuine one before looking anything up.

2. **The PDF itself** carries a PAdES B-B signature (pyHanko) made with an X.509 signing
   certificate, so the file can be checked offline in any PDF reader and by `POST /api/v1/verify`.

Why the QR does not sign the PDF's bytes: the QR is drawn *inside* the PDF, so the PDF's sha256
depends on the QR's pixels, which depend on the signature, which would depend on the sha256 — a
fixed point that cannot be computed (short of breaking sha256). Signing "everything but the QR"
would need a second, bespoke canonicalisation of the PDF that no verifier could reproduce from the
file alone. So the message format keeps a `pdf_sha256` field but the QR fills it with "": the QR
vouches for number, holder and validity only. The bytes are bound differently: the issued-licence
record stores the sha256 of the final, *signed* PDF, and verifying an uploaded PDF checks both that
sha256 against the record and the PAdES signature (intact, trusted, covering the whole file).
PAdES has no such loop because the signature lives in a byte range excluded from its own digest.

PAdES signing is not deterministic (the signing time is embedded), so the stored PDF is the signed
one and its sha256 is computed after signing; only the unsigned rendering is reproducible.
"""

from __future__ import annotations

import asyncio
import base64
import io
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from bizportal.engine.documents.cms_container import PreparedContainer

MESSAGE_PREFIX = "bizportal-licence/1"
SIGNATURE_FIELD = "BizPortal"


# --------------------------------------------------------------------------- Ed25519 (QR code)

def licence_message(number: str, holder: str, valid_until: date | None, pdf_sha256: str) -> bytes:
    """The canonical signed message; `pdf_sha256` is "" for the QR code (see the module docstring)."""
    validity = valid_until.isoformat() if valid_until is not None else "-"
    return f"{MESSAGE_PREFIX}\n{number}\n{holder}\n{validity}\n{pdf_sha256}".encode()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LicenceSigner:
    """Ed25519 signatures for the verification QR code (URL-safe base64, no padding: 86 characters)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()

    def sign(self, number: str, holder: str, valid_until: date | None, pdf_sha256: str) -> str:
        return _b64encode(self._private_key.sign(licence_message(number, holder, valid_until, pdf_sha256)))

    def verify(self, signature: str, number: str, holder: str, valid_until: date | None, pdf_sha256: str) -> bool:
        """True only for a well-formed signature over exactly these values."""
        try:
            raw = _b64decode(signature)
        except (ValueError, TypeError):
            return False
        if len(raw) != 64:
            return False
        try:
            self.public_key.verify(raw, licence_message(number, holder, valid_until, pdf_sha256))
        except InvalidSignature:
            return False
        return True


def load_ed25519_pem(pem: bytes) -> Ed25519PrivateKey:
    """The Ed25519 private key in `pem`.

    Raises:
        ValueError: `pem` holds no private key, or one of another type.
    """
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the key is not an Ed25519 private key")
    return key


# --------------------------------------------------------------------------- PAdES (the PDF)

def pem_signer(key_pem: bytes, cert_pem: bytes, passphrase: bytes | None = None) -> signers.SimpleSigner:
    """A pyHanko signer from a PEM private key and certificate (e.g. a key set that `bizportal keys` wrote)."""
    key = serialization.load_pem_private_key(key_pem, password=passphrase)
    key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert = x509.load_pem_x509_certificate(cert_pem)
    return signers.SimpleSigner(signing_cert=to_asn1(cert), signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
                                cert_registry=SimpleCertificateStore())  # an empty store, as None would give


def pkcs12_signer(pkcs12: bytes, passphrase: bytes | None) -> signers.SimpleSigner:
    """A pyHanko signer from a PKCS#12 archive (key, certificate and its chain)."""
    signer = signers.SimpleSigner.load_pkcs12_data(pkcs12, other_certs=(), passphrase=passphrase)
    if signer is None:
        raise ValueError("could not load the PKCS#12 signing key")
    return signer


def to_asn1(cert: x509.Certificate | asn1_x509.Certificate | bytes) -> asn1_x509.Certificate:
    """A certificate (cryptography object, asn1crypto object, PEM or DER bytes) as asn1crypto wants it."""
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, bytes):
        cert = x509.load_pem_x509_certificate(cert) if b"-----BEGIN" in cert else x509.load_der_x509_certificate(cert)
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def sign_pdf(pdf: bytes, signer: signers.Signer, reason: str = "Electronic licence issued by Biz Portal") -> bytes:
    """`pdf` with a PAdES B-B signature in the field "BizPortal" (an incremental update); `reason` is shown by
    PDF readers beside the signature (receipts pass their own).

    What pyHanko would otherwise repeat for every document is done once per signer or thread: the room
    reserved for the signature (pyHanko signs a dummy to size it), the CMS container's signer-only parts
    (`cms_container`: pyHanko builds them in asn1crypto, most of a signature's cost) and the event loop its
    signing runs in (`asyncio.run` makes and closes one per call). pyHanko still writes the signature field
    and dictionary, and digests the byte range, through its interrupted-signing API.
    """
    return _event_loop().run_until_complete(_sign(pdf, signer, reason))


_MD_ALGORITHM = "sha256"


async def _sign(pdf: bytes, signer: signers.Signer, reason: str) -> bytes:
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm=_MD_ALGORITHM,
        reason=reason,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    pdf_signer = signers.PdfSigner(metadata, signer=signer)
    prepared, reserved = await _prepared(signer), await _reserved(signer)
    if prepared is None:  # a container of another shape (e.g. with a timestamp): pyHanko builds it
        out: io.BytesIO = await pdf_signer.async_sign_pdf(writer, bytes_reserved=reserved)
        return out.getvalue()
    digest, document, output = await pdf_signer.async_digest_doc_for_signing(writer, bytes_reserved=reserved)
    container = await prepared.container(signer, digest.document_digest)
    await PdfTBSDocument.async_finish_signing(output, digest, signature_cms=container,
                                              post_sign_instr=document.post_sign_instructions)
    assert isinstance(output, io.BytesIO)  # pyHanko writes to a new BytesIO when given no output
    return output.getvalue()


_PREPARED: weakref.WeakKeyDictionary[signers.Signer, PreparedContainer | None] = weakref.WeakKeyDictionary()


async def _prepared(signer: signers.Signer) -> PreparedContainer | None:
    """`signer`'s prepared CMS container, made on its first signature (None: pyHanko signs every time)."""
    if signer not in _PREPARED:
        _PREPARED[signer] = await PreparedContainer.prepare(signer, _MD_ALGORITHM)
    return _PREPARED[signer]


# The signature container's size depends on the signer only (its certificates and key type): no timestamp
# or revocation data is embedded. Keyed by the signer object itself, so a replaced signer is sized again.
_RESERVED: weakref.WeakKeyDictionary[signers.Signer, int] = weakref.WeakKeyDictionary()
_LOCAL = threading.local()


async def _reserved(signer: signers.Signer) -> int:
    """Hex digits to reserve for `signer`'s CMS container: pyHanko's own estimate (a dry-run signature, its
    length in hex plus a 50 % margin), made once per signer instead of once per document."""
    if signer not in _RESERVED:
        dummy = hashes.Hash(hashes.SHA256()).finalize()
        cms = await signer.async_sign(dummy, _MD_ALGORITHM, dry_run=True, use_pades=True,
                                      signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now(UTC)))
        hex_length = len(cms.dump()) * 2
        _RESERVED[signer] = hex_length + 2 * (hex_length // 4)
    return _RESERVED[signer]


def _event_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop for pyHanko's coroutines (signing never waits on I/O here: no timestamp
    server, no revocation fetching). Like `asyncio.run` before, it cannot run inside a running loop."""
    loop: asyncio.AbstractEventLoop | None = getattr(_LOCAL, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOCAL.loop = asyncio.new_event_loop()
    return loop


@dataclass(frozen=True)
class PdfCheck:
    """`valid`: intact, cryptographically valid, trusted and covering the whole file."""

    valid: bool
    intact: bool
    signer_cn: str | None
    reason: str | None


def validate_pdf(pdf: bytes, trust_roots: Sequence[x509.Certificate | asn1_x509.Certificate | bytes]) -> PdfCheck:
    """Validate the "BizPortal" PAdES signature of `pdf` against `trust_roots` only (no network).

    Never raises for a bad file: an unreadable PDF or a missing signature is reported as not valid.
    Uses `asyncio.run` internally (pyHanko): call it from a thread, not from inside an event loop.
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = [sig for sig in reader.embedded_signatures if sig.field_name == SIGNATURE_FIELD]
    except Exception as exc:  # noqa: BLE001 - any parse failure means "not authentic"
        return PdfCheck(valid=False, intact=False, signer_cn=None, reason=f"unreadable PDF: {exc}")
    if not embedded:
        return PdfCheck(valid=False, intact=False, signer_cn=None, reason="the PDF has no Biz Portal signature")
    context = ValidationContext(trust_roots=[to_asn1(c) for c in trust_roots], allow_fetching=False,
                                revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(embedded[0], signer_validation_context=context)
    except (SigningError, ValueError, KeyError, TypeError) as exc:
        return PdfCheck(valid=False, intact=False, signer_cn=None, reason=f"signature could not be checked: {exc}")
    except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds on corrupted input
        return PdfCheck(valid=False, intact=False, signer_cn=None, reason=f"signature could not be checked: {exc}")
    cert = status.signing_cert
    signer_cn = cert.subject.native.get("common_name") if cert is not None else None
    reason = None
    if not status.intact:
        reason = "the document was changed after it was signed"
    elif not status.valid:
        reason = "the signature is not valid"
    elif not status.trusted:
        reason = "the signing certificate is not trusted"
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        reason = "content was added after the signature"
    return PdfCheck(valid=reason is None and status.bottom_line, intact=status.intact, signer_cn=signer_cn,
                    reason=reason if reason is not None or status.bottom_line else "the signature is not valid")


@dataclass(frozen=True)
class LicenceSigning:
    """Everything issuing and verification need: the QR signer, the PDF signer and its trust roots."""

    qr: LicenceSigner
    pdf: signers.Signer
    trust_roots: list[bytes]


def licence_signing(verification_key_pem: bytes, key_pem: bytes, cert_pem: bytes) -> LicenceSigning:
    """The signing material from its PEM texts; the certificate is also the trust root of uploaded PDFs.

    Where the keys come from (configured files, or development keys in the data dir) is the composition
    root's business: the engine never reads or writes key files.

    Raises:
        ValueError: a key or the certificate cannot be read, or the key does not belong to the certificate.
    """
    qr = LicenceSigner(load_ed25519_pem(verification_key_pem))
    certificate = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if (key.public_key().public_bytes(serialization.Encoding.DER, spki)
            != certificate.public_key().public_bytes(serialization.Encoding.DER, spki)):
        raise ValueError("the PDF signing key does not belong to the signing certificate")
    return LicenceSigning(qr=qr, pdf=pem_signer(key_pem, cert_pem), trust_roots=[cert_pem])
