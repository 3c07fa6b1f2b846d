"""The addresses the engine hands out, in notices, documents and deliveries; the api says what they are.

The engine never formats a path: where an application, a receipt or a licence can be opened is the HTTP
layer's business (api/links.py builds these from BIZPORTAL_PUBLIC_BASE_URL and its routes), handed in
through `EngineContext.links`. Every address is absolute: it is read in a mail client, a PDF or another
agency's system.
"""

from __future__ import annotations

from typing import Protocol


class Links(Protocol):
    def application(self, application_id: str) -> str:
        """The page where the applicant follows an application (sends documents, pays its fees, downloads the
        licence and receipts): a stable address, as mail is read late (never a short-lived signed URL)."""
        ...

    def licence_verification(self, number: str, signature: str | None = None) -> str:
        """The public page the licence's QR code opens, carrying the QR signature when there is one."""
        ...

    def renewal(self, number: str) -> str:
        """The page where the holder requests the renewal of an issued licence."""
        ...

    def receipt_pdf(self, number: str) -> str:
        """A stable address of a receipt's PDF, printed on the receipt itself."""
        ...

    def agency_callback(self, agency: str) -> str:
        """Where an agency's own system posts its decisions on the steps delivered to it."""
        ...
