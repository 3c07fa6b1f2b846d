"""The checks of an uploaded file's content: size, type by content, PDF parse limits, image re-encoding, names."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfWriter

from bizportal.engine.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from bizportal.engine.uploads.content import (
    JPEG,
    PDF,
    PNG,
    check_pdf,
    measure,
    reencode_image,
    sanitise_filename,
    sniff,
)
from bizportal.engine.uploads.limits import UploadLimits
from support.uploads import GPS_IFD, LINUX_ELF, WINDOWS_EXE, jpeg_with_location, pdf, png_with_location

LIMITS = UploadLimits()


def test_the_type_comes_from_the_first_bytes() -> None:
    assert sniff(pdf()[:16]) == PDF
    assert sniff(png_with_location()[:16]) == PNG
    assert sniff(jpeg_with_location()[:16]) == JPEG
    for disguised in (WINDOWS_EXE, LINUX_ELF, b"", b" %PDF-1.7", b"GIF89a", b"PK\x03\x04word.docx"):
        with pytest.raises(UnsupportedMediaType):
            sniff(disguised[:16])


def test_measure_counts_hashes_and_stops_past_the_limit() -> None:
    content = pdf(padding=5000)
    measured = measure(io.BytesIO(content), LIMITS)
    assert (measured.size, measured.content_type) == (len(content), PDF)
    with pytest.raises(PayloadTooLarge) as raised:
        measure(io.BytesIO(content), UploadLimits(file_bytes=len(content) - 1))
    assert raised.value.hint and "split" in raised.value.hint
    with pytest.raises(InvalidInput, match="empty"):
        measure(io.BytesIO(b""), LIMITS)


def test_a_pdf_must_parse_within_the_limits() -> None:
    assert check_pdf(io.BytesIO(pdf(pages=3)), LIMITS) == 3
    with pytest.raises(InvalidInput, match="more than the 2 allowed"):
        check_pdf(io.BytesIO(pdf(pages=3)), UploadLimits(pdf_pages=2))
    whole = pdf(pages=3)
    for cut in (len(whole) // 3, len(whole) // 2, len(whole) - 8):
        with pytest.raises(InvalidInput, match="damaged or incomplete"):
            check_pdf(io.BytesIO(whole[:cut]), LIMITS)
    with pytest.raises(InvalidInput, match="damaged or incomplete"):
        check_pdf(io.BytesIO(b"%PDF-1.7\n" + b"garbage" * 100), LIMITS)


def test_an_encrypted_pdf_is_refused() -> None:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(InvalidInput, match="password"):
        check_pdf(out, LIMITS)


def test_an_image_is_re_encoded_without_its_metadata() -> None:
    for original, content_type in ((png_with_location(), PNG), (jpeg_with_location(), JPEG)):
        with reencode_image(io.BytesIO(original), content_type, LIMITS) as clean:
            image = Image.open(clean)
            assert image.format == content_type.split("/")[1].upper()
            assert dict(image.getexif()) == {} and dict(image.getexif().get_ifd(GPS_IFD)) == {}
            assert not {"exif", "Author", "comment", "icc_profile", "xmp"} & set(image.info)


def test_a_png_keeps_its_transparency() -> None:
    palette = io.BytesIO()
    Image.new("P", (4, 4), 1).save(palette, "PNG", transparency=1)
    with reencode_image(palette, PNG, LIMITS) as clean:
        assert Image.open(clean).info["transparency"] == Image.open(palette).info["transparency"]
    alpha = io.BytesIO()
    Image.new("RGBA", (4, 4), (10, 20, 30, 40)).save(alpha, "PNG")
    with reencode_image(alpha, PNG, LIMITS) as clean:
        assert Image.open(clean).getpixel((1, 1)) == (10, 20, 30, 40)


def test_an_image_too_large_or_damaged_is_refused() -> None:
    big = io.BytesIO()
    Image.new("L", (200, 200)).save(big, "PNG")  # compresses to almost nothing: a bomb in miniature
    with pytest.raises(InvalidInput, match="200 x 200 pixels"):
        reencode_image(big, PNG, UploadLimits(image_pixels=10_000))
    whole = jpeg_with_location((300, 300))
    with pytest.raises(InvalidInput, match="damaged or incomplete"):
        reencode_image(io.BytesIO(whole[: len(whole) // 2]), JPEG, LIMITS)
    with pytest.raises(InvalidInput, match="damaged or incomplete"):
        reencode_image(io.BytesIO(png_with_location()), JPEG, LIMITS)  # a PNG is no JPEG


@pytest.mark.parametrize(("given", "content_type", "expected"), [
    ("plan.pdf", PDF, "plan.pdf"),
    ("../../etc/passwd", PDF, "passwd.pdf"),
    ("C:\\Users\\somying\\แผนที่ร้าน.PDF", PDF, "แผนที่ร้าน.pdf"),
    ("invoice.pdf.exe", PDF, "invoice.pdf.pdf"),
    ('a"b;c\r\nSet-Cookie: x=1.png', PNG, "a_b_cSet-Cookie_ x=1.png"),
    ("photo.jpeg", JPEG, "photo.jpg"),
    ("", PNG, "document.png"),
    (None, PDF, "document.pdf"),
    ("...", PDF, "document.pdf"),
    ("x" * 300 + ".pdf", PDF, "x" * 116 + ".pdf"),
    ("\u202egnp.exe", PNG, "gnp.png"),  # the right-to-left override that disguises extensions is dropped
])
def test_file_names_are_sanitised(given: str | None, content_type: str, expected: str) -> None:
    assert sanitise_filename(given, content_type) == expected
