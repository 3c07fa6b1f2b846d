"""Short-lived signed download links: a URL that downloads one stored document without a login.

For sharing an e-licence or receipt (a bank, a landlord, a browser that cannot send a bearer token), and for
an officer opening an applicant's uploaded document in a browser:
the holder asks for a link while signed in; the link names the object, a file name and an expiry,
HMAC-signed with a key derived from the deployment's token-signing key. It works the same on the
local object store and on S3/MinIO (the API streams the bytes, so the object store never has to be
reachable from the internet). Links are capabilities: keep their lifetime short. A link to an e-licence
names the licence too, so the download can refuse it once the licence is revoked, suspended or cancelled; one to
an uploaded document names the upload, refused once it is deleted;
the access log never shows the token (api/access_log.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bizportal.engine.errors import Expired, Forbidden

DEFAULT_LIFETIME = timedelta(minutes=5)
_PURPOSE = b"bizportal download link v1"
# `<payload>.<signature>`, both unpadded base64url; the signature is an HMAC-SHA256 (43 characters). Anything
# else (non-ASCII, another alphabet, a payload too long to be ours) is refused before any decoding.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class DownloadGrant:
    """What a valid link allows: one object, served under one file name and type."""

    key: str
    filename: str
    content_type: str
    expires_at: datetime
    licence: str | None = None  # the issued licence whose PDF this is (None: a receipt or an uploaded document)
    document: str | None = None  # the uploaded document's id (refused once the upload is deleted)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DownloadLinks:
    """Signs and checks download tokens; `secret` is the deployment's token-signing key."""

    def __init__(self, secret: str, public_base_url: str) -> None:
        # A key of its own, so a download token can never pass for any other signed thing.
        self._key = hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()
        self._base = public_base_url.rstrip("/")

    def url(self, grant: DownloadGrant) -> str:
        fields = {"k": grant.key, "f": grant.filename, "t": grant.content_type, "e": int(grant.expires_at.timestamp())}
        if grant.licence is not None:
            fields["n"] = grant.licence
        if grant.document is not None:
            fields["d"] = grant.document
        payload = _b64(json.dumps(fields, separators=(",", ":")).encode())
        return f"{self._base}/api/v1/downloads/{payload}.{self._sign(payload)}"

    def check(self, token: str, now: datetime) -> DownloadGrant:
        """The grant a token carries.

        Raises:
            Forbidden: the token was not signed here or was altered.
            Expired: the link's time is up.
        """
        payload, _, signature = token.partition(".")
        if _TOKEN.fullmatch(token) is None or not hmac.compare_digest(signature, self._sign(payload)):
            raise Forbidden("this download link is not valid", hint="ask for a new link while signed in")
        data = json.loads(_unb64(payload))
        expires_at = datetime.fromtimestamp(data["e"], tz=now.tzinfo)
        if now >= expires_at:
            raise Expired(f"this download link expired at {expires_at.isoformat()}",
                          hint="ask for a new link while signed in")
        return DownloadGrant(key=data["k"], filename=data["f"], content_type=data["t"], expires_at=expires_at,
                             licence=data.get("n"), document=data.get("d"))

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())
