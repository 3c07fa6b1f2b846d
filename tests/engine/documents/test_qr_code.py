"""The documents' QR codes read back as their URL with a real decoder (ZXing), though their mask is fixed."""

import dataclasses
import io

import pytest
import zxingcpp
from PIL import Image, ImageFilter
from pypdf import PdfReader

from bizportal.engine.documents.layout import QR_PIXELS_PER_MODULE, _qr_image
from bizportal.engine.documents.licence_pdf import LicenceDocument, render_licence_pdf
from support.documents import SAMPLE_LICENCE

LICENCE = SAMPLE_LICENCE


def _decoded(image: Image.Image) -> list[str]:
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    return [barcode.text for barcode in found]


def _scanned(image: Image.Image, pixels_per_module: int) -> Image.Image:
    """`image` as a camera or scanner sees it: fewer pixels a module, resampled and blurred edges."""
    modules = image.width // QR_PIXELS_PER_MODULE
    size = modules * pixels_per_module
    return image.convert("L").resize((size, size), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(0.8))


# Verification and receipt URLs of the lengths the portal makes (an 86-character Ed25519 signature), and
# others that give QR versions from small to large: each decodes, sharp and as scanned.
URLS = [
    "https://bizportal.example/verify/BMA-2569-000001?s=" + "A" * 86,
    "https://bizportal.example/verify/กทม-อ.2569/000123?s=abc",
    "https://bizportal.example/api/v1/receipts/BP-R-2569-000007/pdf",
    "https://portal.go.th/verify/X",
    "https://bizportal.example/verify/BMA-2569-000123?s=" + "".join(chr(0x41 + i % 26) for i in range(86)) * 3,
    *(f"https://bizportal.example/verify/BMA-2569-{n:06d}?s={n:086d}" for n in range(0, 200, 7)),
    # Runs of digits that qrcode's numeric segments fail on ("glog(0)", qrcode 8.2): encoded as one byte segment.
    *(f"https://bizportal.example/verify/LAO-2569-000123?s={'0' * zeros}{tail}"
      for zeros, tail in ((77, "123"), (78, "12"), (79, "1"), (86, "99"))),
]


@pytest.mark.parametrize("url", URLS)
def test_every_qr_code_decodes_to_its_url(url: str) -> None:
    image = _qr_image(url)
    assert _decoded(image) == [url]
    assert _decoded(_scanned(image, 3)) == [url]
    assert _decoded(_scanned(image, 10)) == [url]


def test_the_licences_qr_code_in_the_pdf_decodes_to_the_verification_url() -> None:
    for index in range(5):
        doc: LicenceDocument = dataclasses.replace(
            LICENCE, verification_url=f"https://bizportal.example/verify/BMA-2569-{index:06d}?s={index:086d}")
        page = PdfReader(io.BytesIO(render_licence_pdf(doc))).pages[0]
        [image] = page.images
        assert image.image is not None
        assert _decoded(image.image) == [doc.verification_url]
