"""Signing keys shared by every process of a deployment, and refused when a production set-up has none."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from bizportal.api.composition import engine_from
from bizportal.api.key_files import (
    LICENCE_CERT_FILE,
    LICENCE_KEY_FILE,
    TOKEN_KEY_FILE,
    VERIFICATION_KEY_FILE,
    signing_from,
    write_key_set,
)
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import StartupError
from bizportal.engine.licences.verification import SIGNATURE_NOT_VERIFIED, verify_number, verify_pdf
from bizportal.storage.database import transaction
from support.helpers import Journey, qr_link

KEYS = ("verification_key", "licence_signing_key", "licence_signing_cert")


def _issue(journey: Journey) -> tuple[str, str, bytes]:
    """A licence issued by the `portal` fixture's process: its number, QR signature and PDF."""
    number, pdf = journey.issue()
    return number, parse_qs(urlparse(qr_link(pdf)).query)["s"][0], pdf


def _checks(engine: LicensingEngine, number: str, signature: str, pdf: bytes) -> tuple[str, str | None]:
    assert engine.ctx.signing is not None
    with transaction(engine.db) as session:
        qr = verify_number(session, number, signature, engine.ctx.signing.qr, engine.ctx.clock.now())
        upload = verify_pdf(session, pdf, engine.ctx.signing.trust_roots, now=engine.ctx.clock.now())
    return qr.status, upload.reason


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_licence_signed_by_one_process_verifies_in_another_that_shares_the_key_files(
        journey: Journey, client: TestClient, settings: Settings, tmp_path: Path) -> None:
    # The `engine` fixture plays the worker that issued the licence; the API runs with a data dir of its own
    # (another container), and so does an API re-created by a redeploy: all read the same key files.
    number, signature, pdf = _issue(journey)
    for data_dir in ("api", "api-after-redeploy"):
        api = engine_from(settings.model_copy(update={"data_dir": tmp_path / data_dir}), migrate=False)
        try:
            assert _checks(api, number, signature, pdf) == ("valid", None)
        finally:
            api.db.dispose()
    # What production compose did before the keys were shared: each container generated its own.
    alone = engine_from(settings.model_copy(update={"data_dir": tmp_path / "alone", **dict.fromkeys(KEYS)}),
                        migrate=False)
    try:
        # A QR it cannot verify reads as unknown (no existence oracle); the PDF's signature fails.
        assert _checks(alone, number, signature, pdf) == ("unknown", SIGNATURE_NOT_VERIFIED)
    finally:
        alone.db.dispose()


@pytest.mark.parametrize("production", [{"redis_url": "redis://127.0.0.1:1/0"},
                                        {"object_store": "s3", "s3_endpoint": "127.0.0.1:1", "s3_access_key": "a",
                                         "s3_secret_key": "b"}])
def test_production_settings_without_key_files_refuse_to_start(production: dict[str, str], tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", token_signing_key="k" * 40, **production)  # type: ignore[arg-type]
    with pytest.raises(StartupError) as refused:
        engine_from(settings)
    message = refused.value.message
    assert "BIZPORTAL_VERIFICATION_KEY" in message and "BIZPORTAL_LICENCE_SIGNING_CERT" in message
    assert "BIZPORTAL_TOKEN_SIGNING_KEY" not in message  # that one is set
    assert "bizportal keys" in (refused.value.hint or "")
    assert list((tmp_path / "var").iterdir()) == []  # no development key written, no database migrated


def test_a_configured_key_file_is_read_never_created(tmp_path: Path, key_set: Path) -> None:
    missing = tmp_path / "secrets" / VERIFICATION_KEY_FILE
    settings = Settings(data_dir=tmp_path / "var", verification_key=missing,
                        licence_signing_key=key_set / LICENCE_KEY_FILE,
                        licence_signing_cert=key_set / LICENCE_CERT_FILE)
    with pytest.raises(StartupError, match=f"BIZPORTAL_VERIFICATION_KEY={missing} cannot be read"):
        signing_from(settings)
    assert not missing.exists()
    # A key that does not belong to the certificate is refused too, naming the files.
    other = tmp_path / "other"
    write_key_set(other)
    mismatched = settings.model_copy(update={"verification_key": key_set / VERIFICATION_KEY_FILE,
                                             "licence_signing_key": other / LICENCE_KEY_FILE})
    with pytest.raises(StartupError, match="does not belong to the signing certificate"):
        signing_from(mismatched)


def test_development_keys_are_made_once_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = signing_from(settings)
    for name in (VERIFICATION_KEY_FILE, LICENCE_KEY_FILE, LICENCE_CERT_FILE):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
    again = signing_from(settings)
    assert again.trust_roots == first.trust_roots
    assert again.qr.verify(first.qr.sign("N-1", "Holder", None, ""), "N-1", "Holder", None, "")
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []


def test_a_key_set_is_written_private_and_never_overwritten(tmp_path: Path) -> None:
    files = write_key_set(tmp_path / "keys", organization="Bangkok Metropolitan Administration")
    assert [path.name for path in files] == [VERIFICATION_KEY_FILE, LICENCE_KEY_FILE, LICENCE_CERT_FILE,
                                             TOKEN_KEY_FILE]
    assert all(stat.S_IMODE(os.stat(path).st_mode) == 0o600 for path in files)
    assert len(files[3].read_text().strip()) >= 32
    settings = Settings(data_dir=tmp_path / "var", verification_key=files[0], licence_signing_key=files[1],
                        licence_signing_cert=files[2])
    certificate = x509.load_pem_x509_certificate(signing_from(settings).trust_roots[0])
    assert certificate.subject.rfc4514_string() == "C=TH,O=Bangkok Metropolitan Administration," \
                                                   "CN=Bangkok Metropolitan Administration e-licence signer"
    before = [path.read_bytes() for path in files]
    with pytest.raises(FileExistsError, match=VERIFICATION_KEY_FILE):
        write_key_set(tmp_path / "keys")
    assert [path.read_bytes() for path in files] == before
