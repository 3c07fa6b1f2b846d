"""The limits an uploaded document is held to; the composition root sets them from the settings."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """Every limit of an upload, with the embedded defaults.

    Attributes:
        file_bytes: largest file (as uploaded, and as stored after an image is re-encoded).
        application_bytes: all the current and earlier uploads of one application together.
        pdf_pages: most pages a PDF may have.
        pdf_seconds: longest a PDF may take to parse (its page tree walked).
        image_pixels: largest image (width x height) decoded; a bigger one may be a decompression bomb.
        retention_days: how long the documents of an application that ended without a licence are kept (PDPA).
    """

    file_bytes: int = 20 * MB
    application_bytes: int = 100 * MB
    pdf_pages: int = 500
    pdf_seconds: float = 10.0
    image_pixels: int = 25_000_000
    retention_days: int = 365
