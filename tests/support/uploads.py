"""Files to upload in tests: a valid PDF, images carrying an EXIF location, a disguised executable."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfWriter

MAP_DOCUMENT = "premises_map_and_floor_plan"  # uploadable, for `food_premises_notice_small`
EXCHANGED_DOCUMENT = "applicant_id_card"  # obtained by data exchange: never uploaded
GPS_IFD = 0x8825
# Bangkok, Khlong Toei: what a phone writes into a photo of the premises.
LOCATION = {1: "N", 2: (13.0, 43.0, 12.5), 3: "E", 4: (100.0, 33.0, 45.0)}
# The head of a Windows executable and of a Linux one: what a "scan.pdf" may really be.
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run" * 40
LINUX_ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(2000)


def pdf(pages: int = 1, padding: int = 0) -> bytes:
    """A PDF of blank pages; `padding` bytes of a comment make it as large as a test needs."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if padding:
        writer.add_metadata({"/Padding": "x" * padding})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def exif_with_location(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(GPS_IFD).update(LOCATION)
    return exif


def png_with_location(size: tuple[int, int] = (40, 30)) -> bytes:
    """A PNG whose eXIf chunk holds a GPS location, with a text chunk naming the author too."""
    image = Image.new("RGB", size, (200, 30, 30))
    text = PngInfo()
    text.add_text("Author", "Somying Jaidee, 99/9 Sukhumvit")
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif_with_location().tobytes(), pnginfo=text)
    return out.getvalue()


def jpeg_with_location(size: tuple[int, int] = (60, 20), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif_with_location(orientation).tobytes(), comment=b"taken at the shop")
    return out.getvalue()


def upload(client: Any, application_id: str, document: str, headers: dict[str, str],
           content: bytes | None = None) -> Any:
    """POST one document (a one-page PDF unless `content` says otherwise)."""
    return client.post(f"/api/v1/applications/{application_id}/documents", data={"document": document},
                       files={"file": (f"{document}.pdf", content or pdf(), "application/pdf")}, headers=headers)


def upload_required(client: Any, application_id: str, headers: dict[str, str]) -> None:
    """Upload a PDF for each required document not uploaded yet, as an applicant does before submitting."""
    listed = client.get(f"/api/v1/applications/{application_id}/documents", headers=headers)
    assert listed.status_code == 200, listed.text
    for document in listed.json():
        if document["required"] and document["current"] is None:
            sent = upload(client, application_id, document["document"], headers)
            assert sent.status_code == 201, sent.text
