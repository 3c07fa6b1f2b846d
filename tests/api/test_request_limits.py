"""Request size limits (M5): bodies and headers over the configured maximum are refused while they are read."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from bizportal.api.app import create_app
from bizportal.api.cli import server_options
from bizportal.api.pages.rendering import size_text
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from support.helpers import Auth, application_body
from support.local_server import serve_in_thread

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
BOUNDARY = b"limit-test-boundary"
PART_HEAD = (b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="l.pdf"\r\n'
             b"Content-Type: application/pdf\r\n\r\n")


def _multipart(content: bytes) -> bytes:
    return PART_HEAD + content + b"\r\n--" + BOUNDARY + b"--\r\n"


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code and error["message"] and error["hint"]
    return error


def test_a_json_body_over_the_limit_is_413_and_nothing_is_stored(client: TestClient, auth: Auth) -> None:
    alice = auth("applicant", "alice")
    body = application_body()
    body["form"] = {"food_premises_notice_small": {"x": "a" * (1024 * 1024)}}  # the review stored 50 MB of this
    error = _error(client.post("/api/v1/applications", json=body, headers=alice), 413, "PayloadTooLarge")
    assert "1048576 bytes" in error["message"]
    assert client.get("/api/v1/applications", headers=alice).json() == []
    # Streamed without a Content-Length (chunked): counted as it arrives, same answer.
    chunks = (b"x" * 65536 for _ in range(20))
    _error(client.post("/api/v1/applications", content=chunks, headers={**alice, "Content-Type": "application/json"}),
           413, "PayloadTooLarge")
    assert client.post("/api/v1/applications", json=application_body(), headers=alice).status_code == 201


def test_an_upload_over_the_limit_is_413_and_one_under_it_is_checked(client: TestClient) -> None:
    over = _multipart(b"%PDF-1.7\n" + b"A" * (10 * 1024 * 1024))
    answer = client.post("/api/v1/verify", content=over,
                         headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY.decode()}"})
    _error(answer, 413, "PayloadTooLarge")
    under = client.post("/api/v1/verify", files={"file": ("l.pdf", b"%PDF-1.7\n" + b"A" * 5_000_000)})
    assert under.status_code == 200 and under.json()["status"] == "unknown"


def test_a_pages_upload_over_the_limit_is_a_page_with_the_way_back(client: TestClient, settings: Settings) -> None:
    """A browser's form gets the 413 as a page in its language, linking back to the form it came from; an API
    client keeps the JSON envelope for the same body."""
    over = _multipart(b"%PDF-1.7\n" + b"A" * (settings.max_document_bytes + 1024 * 1024))
    form = "/apply/some-draft/documents"
    page = client.post(form, content=over, headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY.decode()}", "Accept": "text/html",
        "Referer": "http://testserver/apply/some-draft/documents?lang=en", "Cookie": "bizportal_lang=en"})
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    assert "The file is too large" in page.text and 'href="/apply/some-draft/documents?lang=en"' in page.text
    # The size the form announces (the document's), not the body's with room for the form's other parts.
    assert f"larger than {size_text(settings.max_document_bytes)}<" in page.text
    foreign = client.post(form, content=over, headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY.decode()}", "Accept": "text/html",
        "Referer": "https://elsewhere.example/apply/x/documents"})
    assert foreign.status_code == 413 and "ไฟล์ใหญ่เกินกว่าที่รับได้" in foreign.text  # Thai, and no way "back" there
    assert "elsewhere.example" not in foreign.text
    _error(client.post(form, content=over, headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY.decode()}"}), 413, "PayloadTooLarge")


def test_headers_over_the_limit_are_431(client: TestClient) -> None:
    _error(client.get("/healthz", headers={"X-Pad": "a" * 17 * 1024}), 431, "HeadersTooLarge")
    assert client.get("/healthz", headers={"X-Pad": "a" * 8 * 1024}).status_code == 200


# -- over a real socket, as `bizportal serve` runs it ------------------------------------------------


@pytest.fixture
def served(settings: Settings, engine: LicensingEngine) -> Iterator[tuple[str, int]]:
    small = settings.model_copy(update={"max_upload_bytes": 200_000, "max_body_bytes": 50_000,
                                        "max_header_bytes": 4096})
    base_url, stop = serve_in_thread(create_app(small, engine=engine), "bizportal", **server_options(small))
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    yield parts.hostname, parts.port
    stop()


def _exchange(address: tuple[str, int], head: bytes, body: Iterable[bytes] = ()) -> bytes:
    """Send `head`, then `body` from another thread, and return what the server answers (until it closes the
    connection) within 10 s.

    The body is never finished: a server that waits for all of it before answering never answers here.
    """
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(head)

        def send_body() -> None:
            try:
                for part in body:
                    connection.sendall(part)
            except OSError:  # the server answered and closed: what the test expects
                pass

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        answer = b""
        try:
            while data := connection.recv(65536):
                answer += data
        except TimeoutError:
            pytest.fail(f"no complete answer while the body was still coming: {answer[:200]!r}")
        except ConnectionResetError:  # closed with our unread body in its buffer: the answer came first
            pass
    sender.join(5)
    return answer


def _post_head(path: str, content_type: bytes, *framing: bytes) -> bytes:
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: bizportal.test\r\nContent-Type: " + content_type
            + b"\r\n" + b"".join(line + b"\r\n" for line in framing) + b"\r\n")


MULTIPART = b"multipart/form-data; boundary=" + BOUNDARY


def test_a_declared_length_over_the_limit_is_refused_before_the_body(served: tuple[str, int]) -> None:
    answer = _exchange(served, _post_head("/api/v1/verify", MULTIPART, b"Content-Length: 104857600"))
    assert answer.startswith(b"HTTP/1.1 413 ") and b'"PayloadTooLarge"' in answer


def test_a_streamed_body_is_cut_off_at_the_limit(served: tuple[str, int]) -> None:
    chunk = b"A" * 16384
    endless = (b"%x\r\n%s\r\n" % (len(part), part) for part in [PART_HEAD, *[chunk] * 1000])  # 16 MB, no last chunk
    answer = _exchange(served, _post_head("/api/v1/verify", MULTIPART, b"Transfer-Encoding: chunked"), endless)
    assert answer.startswith(b"HTTP/1.1 413 ") and b"200000 bytes" in answer
    json_stream = (b"4000\r\n" + chunk + b"\r\n" for _ in range(1000))
    answer = _exchange(served, _post_head("/api/v1/applications", b"application/json", b"Transfer-Encoding: chunked"),
                       json_stream)
    assert answer.startswith(b"HTTP/1.1 413 ") and b"50000 bytes" in answer


def test_the_server_stops_reading_a_head_over_the_limit(served: tuple[str, int]) -> None:
    """httptools read an 8 MB header; h11 gives up past `max_header_bytes`, before the app sees anything."""
    ok = _exchange(served, b"GET /healthz HTTP/1.1\r\nHost: bizportal.test\r\nConnection: close\r\nX-Pad: "
                   + b"a" * 2000 + b"\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 200 ")
    big = _exchange(served, b"GET /healthz HTTP/1.1\r\nHost: bizportal.test\r\nX-Pad: " + b"a" * 1_000_000)
    assert big.startswith(b"HTTP/1.1 400 ") and b"Invalid HTTP request" in big
