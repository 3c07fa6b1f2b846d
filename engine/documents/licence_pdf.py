"""The e-licence certificate: an A4 PDF with correctly shaped Thai text and a verification QR code.

Laid out by `document_templates/licence.xml.j2` and drawn by `pdf_layout`. The PDF is stored under
its sha256, so rendering is deterministic: the same `LicenceDocument` always gives byte-identical
output (the creation date comes from `issued_on`, never the clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bizportal.engine.documents.formats import english_date, thai_date
from bizportal.engine.documents.layout import render_pdf

# Dates print the same way on the licence and in the messages about it (the notifier imports them here).
__all__ = ["LicenceDocument", "english_date", "render_licence_pdf", "thai_date"]


@dataclass(frozen=True)
class LicenceDocument:
    """Everything printed on one e-licence. `holder_id_masked` is already masked by the caller (PDPA)."""

    licence_number: str
    licence_code: str
    licence_name_th: str
    licence_name_en: str
    agency_name_th: str
    agency_name_en: str
    holder_name: str
    holder_id_masked: str
    business_name: str
    business_address: str
    issued_on: date
    valid_until: date | None
    verification_url: str


def render_licence_pdf(doc: LicenceDocument) -> bytes:
    """Render `doc` as a one-page A4 certificate; identical input gives identical bytes."""
    return render_pdf("licence.xml.j2", {"doc": doc})
