"""What an uploaded file is, checked by its content: its size, its type, a PDF that parses, an image without
its metadata, and a safe file name.

The name and the multipart part's Content-Type are never trusted: a file is a PDF, a JPEG or a PNG because its
first bytes say so, and then only if it parses as one. Images are decoded and encoded again, which drops their
metadata (EXIF with the camera's location, XMP, comments, ICC profiles) and anything appended after the image
data; PDFs are stored as uploaded once they parse within the limits.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from typing import IO, Any

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from bizportal.engine.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from bizportal.engine.uploads.limits import MB, UploadLimits

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
_CHUNK = 64 * 1024
_MAX_NAME = 120  # characters of a stored file name, extension included
_SIGNATURES = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
# Path separators, characters Windows refuses, and quotes that would break a Content-Disposition header.
_UNSAFE = re.compile(r"[\\/:*?\"<>|;'`]+")
_SPACES = re.compile(r"\s+")
# A re-encoded image is held in memory up to this size, then on disk.
_SPOOL_IN_MEMORY = MB


@dataclass(frozen=True)
class Measured:
    """What reading an upload once found."""

    size: int
    sha256: str
    content_type: str


def _megabytes(size: int) -> str:
    return f"{size / MB:g} MB"


def measure(source: IO[bytes], limits: UploadLimits) -> Measured:
    """Read `source` once, in chunks, counting and hashing it, and recognise its type from its first bytes.

    Reading stops at the first chunk past the limit. `source` is left at its start.

    Raises:
        PayloadTooLarge: larger than `limits.file_bytes`.
        InvalidInput: empty.
        UnsupportedMediaType: not a PDF, JPEG or PNG by its content.
    """
    source.seek(0)
    digest = hashlib.sha256()
    size = 0
    head = b""
    while chunk := source.read(_CHUNK):
        if len(head) < 16:
            head += chunk[:16]
        size += len(chunk)
        if size > limits.file_bytes:
            raise PayloadTooLarge(f"the file is larger than {_megabytes(limits.file_bytes)}",
                                  hint=f"upload a file of at most {_megabytes(limits.file_bytes)}: scan at a lower "
                                       "resolution, or split the document into several files",
                                  details={"field": "file", "limit_bytes": limits.file_bytes})
        digest.update(chunk)
    source.seek(0)
    if size == 0:
        raise InvalidInput("the file is empty", hint="choose the file again and upload it", details={"field": "file"})
    return Measured(size=size, sha256=digest.hexdigest(), content_type=sniff(head))


def sniff(head: bytes) -> str:
    """The type the first bytes of a file announce.

    Raises:
        UnsupportedMediaType: neither a PDF, a JPEG nor a PNG.
    """
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    raise UnsupportedMediaType("the file is not a PDF, JPEG or PNG (recognised by its content, whatever its name)",
                               hint="save or scan the document as PDF, or photograph it as JPEG or PNG, and upload "
                                    "that file", details={"field": "file", "allowed": [PDF, JPEG, PNG]})


def check_pdf(source: IO[bytes], limits: UploadLimits) -> int:
    """Parse a PDF within the limits: its trailer, cross-reference and page tree; nothing is decompressed.

    Returns:
        The number of pages.

    Raises:
        InvalidInput: it does not parse (truncated, damaged), is encrypted, has no page or too many pages, or
            takes too long to parse.
    """
    started = time.monotonic()
    source.seek(0)
    try:
        reader = PdfReader(source, strict=False)
        if reader.is_encrypted:
            raise InvalidInput("the PDF is protected with a password",
                               hint="save the PDF without a password and upload it again", details={"field": "file"})
        pages = len(reader.pages)
        if pages > limits.pdf_pages:
            raise InvalidInput(f"the PDF has {pages} pages, more than the {limits.pdf_pages} allowed",
                               hint="split the document into several files", details={"field": "file"})
        for page in reader.pages:
            page.mediabox  # noqa: B018 - resolves the page's dictionary: a damaged page fails here
            if time.monotonic() - started > limits.pdf_seconds:
                raise InvalidInput("the PDF takes too long to read",
                                   hint="print it to a new PDF (or scan it again) and upload that file",
                                   details={"field": "file"})
    except InvalidInput:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            OSError) as err:
        raise InvalidInput("the PDF cannot be read: it is damaged or incomplete",
                           hint="upload the file again; if it fails again, save or scan it as a new PDF",
                           details={"field": "file", "reason": type(err).__name__}) from err
    finally:
        source.seek(0)
    if pages == 0:
        raise InvalidInput("the PDF has no page", hint="upload the document itself", details={"field": "file"})
    return pages


def reencode_image(source: IO[bytes], content_type: str, limits: UploadLimits) -> IO[bytes]:
    """Decode an image and encode it again in the same format, without its metadata.

    The EXIF orientation is applied first, so the picture still stands the right way up without it.

    Returns:
        A new file (memory, then disk past 1 MB) holding the clean image, at its start; the caller closes it.

    Raises:
        InvalidInput: it does not decode (truncated, damaged), is larger than `limits.image_pixels`, or is not
            the type its first bytes said.
    """
    source.seek(0)
    fmt = "JPEG" if content_type == JPEG else "PNG"
    try:
        # Image.open reads the header only: the size is checked before a pixel is decoded.
        with Image.open(source, formats=[fmt]) as image:
            width, height = image.size
            if width * height > limits.image_pixels:
                raise InvalidInput(f"the image has {width} x {height} pixels, more than the "
                                   f"{limits.image_pixels:,} allowed",
                                   hint="scan or photograph it at a lower resolution", details={"field": "file"})
            image.load()  # a truncated or damaged image fails here
            clean = ImageOps.exif_transpose(image)  # a new image: the picture upright, whatever the EXIF said
            _drop_metadata(clean, image.info)
    except InvalidInput:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as err:
        raise InvalidInput("the image cannot be read: it is damaged or incomplete",
                           hint="upload the file again; if it fails again, save or photograph it anew",
                           details={"field": "file", "reason": type(err).__name__}) from err
    finally:
        source.seek(0)
    target = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - the caller closes it
    try:
        if fmt == "JPEG":
            # Quality 90 keeps scanned text crisp; subsampling as the encoder's default.
            clean.save(target, "JPEG", quality=90, optimize=True)
        else:
            clean.save(target, "PNG", optimize=False)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target


def _drop_metadata(image: Image.Image, original: dict[Any, Any]) -> None:
    """Keep in `info` (what the encoders write back) only PNG transparency, pixel data, and the resolution,
    which prints a scan at its size; EXIF, XMP, comments, text chunks and ICC profiles go."""
    image.info = {key: original[key] for key in ("transparency", "dpi") if key in original}


def sanitise_filename(name: str | None, content_type: str) -> str:
    """A file name safe to store and to send back in a Content-Disposition header.

    Only the last path component is kept; control characters, path separators and quotes are removed; Thai and
    other letters stay; the extension is the one of the recognised type; at most 120 characters.
    """
    base = unicodedata.normalize("NFC", name or "")
    base = re.split(r"[\\/]", base)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _SPACES.sub(" ", _UNSAFE.sub("_", base)).strip(" ._-")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem.strip(" ._-") or "document"
    extension = EXTENSIONS[content_type]
    return stem[:_MAX_NAME - len(extension)].rstrip(" ._-") + extension
