"""The addresses the engine hands out (`engine.links.Links`), built from the public base URL and the app's paths.

What people open from an e-mail is a page, never a JSON route: the tracking page of an application, the page of an
issued licence. tests/api/test_links.py checks that each is a route the app serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class PublicLinks:
    """`Links` under `base_url` (BIZPORTAL_PUBLIC_BASE_URL), as people and agency systems reach the portal."""

    base_url: str

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def application(self, application_id: str) -> str:
        return self._url(f"/applications/{quote(application_id, safe='')}")  # the tracking page

    def licence_verification(self, number: str, signature: str | None = None) -> str:
        page = self._url(f"/verify/{quote(number, safe='')}")
        return page + "?" + urlencode({"s": signature}) if signature is not None else page

    def renewal(self, number: str) -> str:
        return self._url(f"/my-licences/{quote(number, safe='')}")  # the licence's page: renew, amend, cancel

    def receipt_pdf(self, number: str) -> str:
        return self._url(f"/api/v1/receipts/{quote(number, safe='')}/pdf")

    def agency_callback(self, agency: str) -> str:
        return self._url(f"/api/v1/agencies/{quote(agency, safe='')}/callbacks")
