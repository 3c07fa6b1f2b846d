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
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from bizportal.api.settings import Settings
from bizportal.engine.documents.signing import (
    LicenceSigning,
    development_certificate,
    licence_signing,
    new_ed25519_pem,
    new_signing_key_pem,
    self_signed_certificate,
)
from bizportal.engine.errors import DefinitionError

VERIFICATION_KEY_FILE = "verification-ed25519.pem"
LICENCE_KEY_FILE = "signing-key.pem"
LICENCE_CERT_FILE = "signing-cert.pem"
TOKEN_KEY_FILE = "token-signing.key"
KEY_SET_HINT = ("generate a key set with `bizportal keys <folder>`, make it readable by every API and worker "
                "process and set BIZPORTAL_VERIFICATION_KEY, BIZPORTAL_LICENCE_SIGNING_KEY, "
                "BIZPORTAL_LICENCE_SIGNING_CERT and BIZPORTAL_TOKEN_SIGNING_KEY (see docker-compose.yml)")


def signing_from(settings: Settings) -> LicenceSigning:
    """The licence signing material the settings name, or the data dir's development keys.

    Raises:
        DefinitionError: production settings without configured keys, a configured file that is missing
            or unreadable, or keys that do not fit together.
    """
    missing = settings.missing_production_keys()
    if settings.is_production() and missing:
        raise DefinitionError(
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
        raise DefinitionError(f"the signing keys cannot be used: {err}" + (f" ({named})" if named else ""),
                              hint=KEY_SET_HINT) from err


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
        raise DefinitionError(f"{setting}={path} cannot be read: {err.strerror or err}",
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
