"""A real OpenID provider for tests: `oidc-provider-mock` (PyPI) in its own process, on a free port of 127.0.0.1.

Its sign-in page is a form: the person types (or picks) a `sub` and posts it; the provider then redirects to
the client's redirect URI with a code, which its token endpoint exchanges for an RS256 ID token carrying the
person's claims (`name` with the `profile` scope; non-standard claims such as `pid`, `ial`, `aal` always).
Any client id and secret are accepted.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import httpx

STARTUP_TIMEOUT_S = 20.0

# Sample people (valid Thai ID numbers: the check digit holds).
SOMCHAI = {"sub": "somchai-sub-0001", "pid": "1101700203450", "name": "Somchai Jaidee", "ial": "2.3", "aal": "2"}
MALEE = {"sub": "malee-sub-0002", "pid": "3100600123450", "name": "Malee Rakthai", "ial": "1.1", "aal": "1"}
PEOPLE = (SOMCHAI, MALEE)


@dataclass
class OidcProviderProcess:
    issuer: str
    process: subprocess.Popen[bytes]

    def sign_in(self, client_id: str, sub: str, redirect_uri: str = "http://127.0.0.1/cb", nonce: str = "n-0",
                scope: str = "openid profile") -> dict[str, object]:
        """The token response the provider gives `client_id` for `sub` (the whole code flow over HTTP)."""
        with httpx.Client(timeout=10) as http:
            query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                     "scope": scope, "state": "s-0", "nonce": nonce}
            answer = http.post(f"{self.issuer}/oauth2/authorize", params=query, data={"sub": sub})
            assert answer.status_code == 302, answer.text
            code = parse_qs(urlparse(answer.headers["location"]).query)["code"][0]
            tokens = http.post(f"{self.issuer}/oauth2/token", auth=(client_id, "secret"),
                               data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
            assert tokens.status_code == 200, tokens.text
            body: dict[str, object] = tokens.json()
            return body

    def id_token(self, client_id: str, sub: str) -> str:
        return str(self.sign_in(client_id, sub)["id_token"])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_provider(people: tuple[dict[str, str], ...] = PEOPLE) -> OidcProviderProcess:
    """Start the provider and wait until its discovery document answers.

    Raises:
        RuntimeError: it did not start (its output is in the message).
    """
    port = _free_port()
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    for person in people:
        command += ["--user-claims", json.dumps(person)]
    log = tempfile.TemporaryFile()  # not a pipe: a full pipe would stop the provider mid-test
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                return OidcProviderProcess(issuer, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    process.wait()
    log.seek(0)
    output = log.read().decode(errors="replace")
    raise RuntimeError(f"oidc-provider-mock did not start on {issuer}:\n{output}")
