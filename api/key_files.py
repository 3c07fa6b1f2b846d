"""The signing key files: read at start-up, generated for development, written as a set for operators.

A deployment signs with three files (the Ed25519 key of the licence QR codes, and the key and
certificate of the PAdES signature in the PDFs) plus the token key. Every API and worker process
must read the *same* files: a licence is signed by whichever worker runs the job, and checked by the
API, today and after the next redeploy. So:
- configured paths (`BIZPORTAL_VERIFICATION_KEY`, `BIZPORTAL_LICENCE_SIGNING_KEY`,
  `BIZPORTAL_LICENCE_SIGNING_CERT`) are only read, never created: a missing file stops start-up;
- without them, development keys are generated once into the data dir, which only works while a
  single process owns that dir, so production settings (`Settings.is_production`) refuse to start;
- `bizportal keys <folder>` writes a full set for operators to mount into every container.

New keys and certificates are made here too (the engine only signs and verifies with the material it is given).
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from bizportal.api.settings import Settings
from bizportal.engine.documents.signing import LicenceSigning, licence_signing
from bizportal.engine.errors import StartupError

VERIFICATION_KEY_FILE = "verification-ed25519.pem"
LICENCE_KEY_FILE = "signing-key.pem"
LICENCE_CERT_FILE = "signing-cert.pem"
TOKEN_KEY_FILE = "token-signing.key"
DEV_SIGNER_CN = "Biz Portal development e-licence signer"
KEY_SET_HINT = ("generate a key set with `bizportal keys <folder>`, make it readable by every API and worker "
                "process and set BIZPORTAL_VERIFICATION_KEY, BIZPORTAL_LICENCE_SIGNING_KEY, "
                "BIZPORTAL_LICENCE_SIGNING_CERT and BIZPORTAL_TOKEN_SIGNING_KEY (see docker-compose.yml)")


def signing_from(settings: Settings) -> LicenceSigning:
    """The licence signing material the settings name, or the data dir's development keys.

    Raises:
        StartupError: production settings without configured keys, a configured file that is missing
            or unreadable, or keys that do not fit together.
    """
    missing = settings.missing_production_keys()
    if settings.is_production() and missing:
        raise StartupError(
            f"production settings (jobs on Redis or objects on S3) without {', '.join(missing)}: every container "
            "would generate its own development keys, so a licence signed by a worker would not verify at the "
            "API, nor after a redeploy", hint=KEY_SET_HINT)
    configured = {"BIZPORTAL_VERIFICATION_KEY": settings.verification_key,
                  "BIZPORTAL_LICENCE_SIGNING_KEY": settings.licence_signing_key,
                  "BIZPORTAL_LICENCE_SIGNING_CERT": settings.licence_signing_cert}
    if settings.licence_signing_key is None or settings.licence_signing_cert is None:
        pdf_key, pdf_cert = _development_certificate(settings.data_dir)
    else:
        pdf_key, pdf_cert = (_read(name, configured[name])
                             for name in ("BIZPORTAL_LICENCE_SIGNING_KEY", "BIZPORTAL_LICENCE_SIGNING_CERT"))
    if settings.verification_key is None:
        verification = _create_once(settings.data_dir / VERIFICATION_KEY_FILE, new_ed25519_pem())
    else:
        verification = _read("BIZPORTAL_VERIFICATION_KEY", settings.verification_key)
    try:
        return licence_signing(verification, pdf_key, pdf_cert)
    except ValueError as err:
        named = ", ".join(f"{name}={path}" for name, path in configured.items() if path is not None)
        raise StartupError(f"the signing keys cannot be used: {err}" + (f" ({named})" if named else ""),
                              hint=KEY_SET_HINT) from err


# --------------------------------------------------------------------------- new keys and certificates

def new_ed25519_pem() -> bytes:
    """A fresh Ed25519 private key for the QR signatures, as unencrypted PKCS#8 PEM."""
    return Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption())


def new_signing_key_pem() -> bytes:
    """A fresh ECDSA P-256 private key for the PDF signature, as unencrypted PKCS#8 PEM."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def self_signed_certificate(key_pem: bytes, common_name: str, organization: str, now: datetime,
                            years: int = 10) -> bytes:
    """A self-signed certificate (PEM) for the PDF signing key `key_pem`, valid from a day before `now` for `years`.

    `now` is the real time of generation (PDF readers check the validity against their own clock).
    For development and for deployments that are their own trust root; an agency may configure a
    certificate from a certification authority instead.
    """
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the PDF signing key must be an ECDSA key")
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
    ])
    now = now.astimezone(UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def development_certificate(key_pem: bytes, now: datetime) -> bytes:
    """The self-signed certificate of a development set-up (its name says so to anyone who checks)."""
    return self_signed_certificate(key_pem, DEV_SIGNER_CN, "Biz Portal (development)", now)



def write_key_set(folder: Path, organization: str = "Biz Portal") -> list[Path]:
    """Write a new key set into `folder` (created if needed; private keys mode 0600) and return the files.

    The PDF certificate is self-signed for `organization`, valid ten years: the deployment is its own
    trust root, like the development one but named for production. Nothing is overwritten.

    Raises:
        FileExistsError: one of the files is already there (keys in use must never be replaced by accident).
    """
    files = [folder / name for name in (VERIFICATION_KEY_FILE, LICENCE_KEY_FILE, LICENCE_CERT_FILE, TOKEN_KEY_FILE)]
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise FileExistsError(f"already there, not replaced: {', '.join(existing)}")
    key_pem = new_signing_key_pem()
    cert_pem = self_signed_certificate(key_pem, f"{organization} e-licence signer", organization, datetime.now(UTC))
    contents = [new_ed25519_pem(), key_pem, cert_pem, (secrets.token_urlsafe(48) + "\n").encode("ascii")]
    folder.mkdir(parents=True, exist_ok=True)
    for path, content in zip(files, contents, strict=True):
        _write_private(path, content)
    return files


def _development_certificate(data_dir: Path) -> tuple[bytes, bytes]:
    """The data dir's development PDF key and certificate, created on first use.

    The key file decides: whichever process creates it first, the certificate is made for the key in it.
    """
    key_pem = _create_once(data_dir / LICENCE_KEY_FILE, new_signing_key_pem())
    cert_path = data_dir / LICENCE_CERT_FILE
    if cert_path.exists():
        return key_pem, cert_path.read_bytes()
    return key_pem, _create_once(cert_path, development_certificate(key_pem, datetime.now(UTC)))


def _read(setting: str, path: Path | None) -> bytes:
    assert path is not None
    try:
        return path.read_bytes()
    except OSError as err:
        raise StartupError(f"{setting}={path} cannot be read: {err.strerror or err}",
                              hint="configured key files are read, never created: " + KEY_SET_HINT) from err


def _create_once(path: Path, content: bytes) -> bytes:
    """`path`'s content, writing `content` there first if the file does not exist (another process may win)."""
    try:
        _write_private(path, content)
    except FileExistsError:
        return path.read_bytes()
    return content


def _write_private(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600 holding `data`; nobody ever reads it half-written or readable by others.

    Raises:
        FileExistsError: `path` exists (it is never replaced).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)  # atomic, and fails if `path` exists: the first writer wins, whole
    finally:
        temporary.unlink(missing_ok=True)
