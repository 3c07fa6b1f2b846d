"""Helpers of the page tests over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bizportal.api.oidc import OidcProvider

ISSUER = "https://id.example.test"  # never contacted: a page only builds the address of its sign-in


def providers_configured(client: TestClient) -> None:
    """Give the test app an OpenID provider for citizens and one for staff, as a deployment configures them, so its
    pages send visitors through sign-in (without one, they say that signing in is not available)."""
    state = client.app.state  # type: ignore[attr-defined]
    state.oidc = OidcProvider(ISSUER, "bizportal-pages", None, {})
    state.staff_oidc = OidcProvider(ISSUER + "/staff", "bizportal-staff", None, {}, setting="BIZPORTAL_STAFF_OIDC")
