"""The document-scanner contract: a plug-in asked about every uploaded document before it is accepted.

An applicant's upload has passed the portal's own checks (size, type recognised by content, a PDF that parses,
an image re-encoded without its metadata) when the scanner sees it; the scanner may still refuse it (malware,
a policy of the deployment). A virus scanner (ClamAV's clamd, a vendor's API) ships as its own package and
registers under the `bizportal.scanners` entry points; the deployment picks it with BIZPORTAL_DOCUMENT_SCANNER.
The built-in `accept_all` accepts everything: it is the default and scans nothing.
"""

from __future__ import annotations

from typing import IO, Protocol

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DocumentScanner", "ScanVerdict", "ScannedDocument", "ScannerError", "ScannerUnavailable"]


class ScannedDocument(BaseModel):
    """What is known of the document being scanned (its bytes are passed beside it)."""

    model_config = ConfigDict(frozen=True)

    application_id: str = Field(max_length=36)
    document: str = Field(max_length=100, description="the document code of the licence's manual")
    filename: str = Field(max_length=255, description="the sanitised file name")
    content_type: str = Field(description="application/pdf, image/jpeg or image/png, recognised by content")
    size: int = Field(ge=0)
    sha256: str = Field(min_length=64, max_length=64)


class ScanVerdict(BaseModel):
    """The scanner's answer: accepted, or refused with a reason the applicant may read."""

    model_config = ConfigDict(frozen=True)

    accepted: bool
    reason: str | None = Field(default=None, max_length=500, description="why it was refused (shown to the "
                               "applicant: name no internals)")


class ScannerError(Exception):
    """Root of the errors a scanner raises."""


class ScannerUnavailable(ScannerError):
    """The scanner cannot be reached right now: the upload is refused (503) rather than accepted unscanned."""


class DocumentScanner(Protocol):
    """Scans an uploaded document before it is accepted."""

    name: str

    def scan(self, document: ScannedDocument, content: IO[bytes]) -> ScanVerdict:
        """Scan one document.

        Args:
            document: what is known of it.
            content: its bytes, exactly as they will be stored, positioned at the start (read, do not close).

        Returns:
            Accepted, or refused with a reason.

        Raises:
            ScannerUnavailable: the scanner cannot answer now.
        """
        ...
