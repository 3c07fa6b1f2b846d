"""A real OpenID provider for tests: `oidc-provider-mock` (PyPI) in its own process on a free port of 127.0.0.1,
started as `make run` starts its development provider (api/dev_provider.py), with the same sample people and
sample staff (olivia, carl, ada), plus `MALLORY`, a staff sign-in whose token claims to be an administrator.

Its sign-in page is a form: the person types (or picks) a `sub` and posts it; the provider then redirects to
the client's redirect URI with a code, which its token endpoint exchanges for an RS256 ID token carrying the
person's claims (`name` with the `profile` scope; non-standard claims such as `pid`, `ial`, `aal` always).
Any client id and secret are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import httpx

from bizportal.api import dev_provider
from bizportal.api.dev_provider import ADA, ALL_PEOPLE, CARL, MALEE, OLIVIA, SOMCHAI

__all__ = ["ADA", "CARL", "MALEE", "MALLORY", "OLIVIA", "SOMCHAI", "OidcProviderProcess", "start_provider"]

# Claims a person controls (at a provider that lets them edit their profile) saying what only the register may say.
MALLORY = {"sub": "mallory", "name": "Mallory", "role": "admin", "agency": "EXCISE", "office": "BKK-BANG-RAK"}


@dataclass
class OidcProviderProcess:
    issuer: str
    running: dev_provider.ProviderProcess

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
        self.running.stop()


def start_provider(people: tuple[dict[str, str], ...] = (*ALL_PEOPLE, MALLORY)) -> OidcProviderProcess:
    running = dev_provider.start(dev_provider.free_port(), people)
    return OidcProviderProcess(running.issuer, running)
