"""Uploading a 20 MB document: throughput, and the server's peak memory while it streams the file.

The server runs in a child process (uvicorn serving `create_app`, SQLite and the local object store in a
temporary folder), as `bizportal serve` runs it; the client sends each file as multipart over a real socket,
read from disk in chunks. Every file is a valid PDF of N bytes (one blank page and a stream of random bytes, as
a scan would be) and a different one each time, so the content-addressed store never skips a write.

Three variants, measured in one run:

1. baseline: `LocalObjectStore.put_stream` of the same file, in a process of its own (the floor: spool, hash,
   link);
2. `LocalObjectStore.put` of the file's bytes read whole (what storing did before `put_stream`), likewise;
3. `POST /api/v1/applications/{id}/documents` over HTTP: the request parsed (python-multipart spools it), the
   file measured, the PDF parsed, scanned (`accept_all`), stored with `put_stream`, the row and audit written.

Memory is the peak resident set (VmHWM, reset through /proc/<pid>/clear_refs; else polled every 2 ms) during a
variant's files minus the resident set just before the first, of the process that stores. Each variant runs in a
fresh process: the allocator keeps memory a process freed, which would hide the next peak.

    .venv/bin/python benchmarks/uploads.py [--size-mb 20] [--files 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

KEY = "benchmark-signing-key-" + "x" * 32
MB = 1024 * 1024
DOCUMENT = "premises_map_and_floor_plan"
APPLICANT_ID = "1101700203395"
APPLICATION = {
    "licences": ["food_premises_notice_small"],
    "applicant": {"kind": "individual", "id_number": APPLICANT_ID, "name": "สมหญิง ใจดี"},
    "business": {"name": "ร้านข้าวมันไก่น้ำใจ", "address": "99/9 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร",
                 "province": "กรุงเทพมหานคร", "district": "คลองเตย", "area_m2": 80},
    "form": {},
}


def write_pdf(path: Path, size: int) -> None:
    """A valid one-page PDF of exactly `size` bytes: the page, and an unreferenced stream of random bytes."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]

    def tail(offsets: list[int], xref_at: int) -> bytes:
        xref = b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
        xref += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        # The offset zero-padded to 10 digits (a valid PDF integer), so the file's size is known before it is.
        return xref + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%010d\n%%%%EOF\n" % (len(offsets) + 1, xref_at)

    body, offsets = bytearray(head), []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    stream_head = b"4 0 obj\n<< /Length %010d >>\nstream\n" % 0
    stream_tail = b"\nendstream\nendobj\n"
    fixed = len(body) + len(stream_head) + len(stream_tail) + len(tail(offsets + [0], 0))
    payload = size - fixed
    if payload < 0:
        raise ValueError(f"{size} bytes is too small for a PDF")
    offsets.append(len(body))
    with path.open("wb") as out:
        out.write(body)
        out.write(b"4 0 obj\n<< /Length %010d >>\nstream\n" % payload)
        remaining = payload
        while remaining:
            chunk = os.urandom(min(MB, remaining))
            out.write(chunk)
            remaining -= len(chunk)
        out.write(stream_tail)
        xref_at = len(body) + len(stream_head) + payload + len(stream_tail)
        out.write(tail(offsets, xref_at))
    assert path.stat().st_size == size, (path.stat().st_size, size)


# -- memory of a process ------------------------------------------------------------------------------------


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


class PeakMemory:
    """The peak resident set of a process during a block, above its resident set at the start (bytes)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.extra = 0
        self._polled = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        self.start = _status_kb(self.pid, "VmRSS")
        try:  # 5: reset the peak (VmHWM) to the current resident set
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self._reset = True
        except OSError:
            self._reset = False
        self._polled = self.start
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:  # a fallback where clear_refs is not allowed; also a cross-check
        while not self._stop.wait(0.002):
            self._polled = max(self._polled, _status_kb(self.pid, "VmRSS"))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        peak = _status_kb(self.pid, "VmHWM") if self._reset else self._polled
        self.extra = max(peak, self._polled) * 1024 - self.start * 1024


# -- the server ---------------------------------------------------------------------------------------------


def serve(port: int, data_dir: str) -> None:
    """Child-process mode: serve the app on 127.0.0.1:`port`."""
    import uvicorn

    from bizportal.api.app import create_app
    from bizportal.api.cli import server_options
    from bizportal.api.settings import Settings

    settings = Settings(data_dir=Path(data_dir), token_signing_key=KEY, public_base_url=f"http://127.0.0.1:{port}",
                        log_level="warning")
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, **server_options(settings))



def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    from bizportal.api.stack.ports import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(port), str(data_dir)])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the server did not answer within 60 s")


# -- the variants -------------------------------------------------------------------------------------------


def _timed(files: list[Path], pid: int, store: Callable[[Path], None]) -> tuple[list[float], int]:
    """Seconds per file, and the peak resident set above the one before the first file (bytes)."""
    seconds = []
    with PeakMemory(pid) as memory:
        for path in files:
            started = time.perf_counter()
            store(path)
            seconds.append(time.perf_counter() - started)
    return seconds, memory.extra


def store_in_process(method: str, folder: str, files: list[str]) -> None:
    """Child-process mode for variants 1 and 2: a fresh process each, so one's freed memory (which the allocator
    keeps) does not hide the other's peak. Prints the seconds per file and the peak as JSON."""
    from bizportal.storage.local_object_store import LocalObjectStore

    store = LocalObjectStore(Path(folder))

    def put_stream(path: Path) -> None:
        with path.open("rb") as source:
            store.put_stream(source, "application/pdf")

    def put_whole(path: Path) -> None:
        store.put(path.read_bytes(), "application/pdf")

    store.put(b"warm-up", "application/pdf")
    seconds, extra = _timed([Path(f) for f in files], os.getpid(), put_stream if method == "put_stream" else put_whole)
    print(json.dumps({"seconds": seconds, "extra": extra}))


def _in_child(method: str, folder: Path, files: list[Path]) -> tuple[list[float], int]:
    result = subprocess.run([sys.executable, __file__, "--store-in-process", method, str(folder),
                             *map(str, files)], capture_output=True, text=True, check=True)
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    return measured["seconds"], measured["extra"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=20.0, help="file size in MiB (default 20: the limit)")
    parser.add_argument("--files", type=int, default=3, help="files per variant (each a different one)")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "DATA_DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--store-in-process", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return
    if args.store_in_process:
        store_in_process(args.store_in_process[0], args.store_in_process[1], args.store_in_process[2:])
        return

    from bizportal.api.tokens import issue_token
    from bizportal.engine.principal import Role

    # At the default per-file limit (20 MiB) minus a page of room, as a full scan would be.
    size = int(args.size_mb * MB) - (4096 if args.size_mb == 20.0 else 0)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = {variant: [root / f"{variant}-{n}.pdf" for n in range(args.files)] for variant in (1, 2, 3)}
        for path in (p for paths in files.values() for p in paths):
            write_pdf(path, size)
        direct = _in_child("put_stream", root / "direct", files[1])
        whole = _in_child("put", root / "whole", files[2])

        server, base = start_server(root / "server")
        try:
            token = issue_token(KEY, "alice", Role.APPLICANT, id_number=APPLICANT_ID)
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:

                def upload(path: Path) -> None:
                    created = client.post("/api/v1/applications", json=APPLICATION)
                    assert created.status_code == 201, created.text
                    with path.open("rb") as source:
                        response = client.post(f"/api/v1/applications/{created.json()['id']}/documents",
                                               data={"document": DOCUMENT},
                                               files={"file": (path.name, source, "application/pdf")})
                    assert response.status_code == 201, response.text
                    assert response.json()["size"] == path.stat().st_size

                # One small upload first: the server's first-request costs (imports, caches) are not measured.
                warm_up = root / "warm-up.pdf"
                write_pdf(warm_up, 64 * 1024)
                upload(warm_up)
                over_http = _timed(files[3], server.pid, upload)
        finally:
            server.terminate()
            server.wait(timeout=10)

    rows = [("1 put_stream, in process (baseline)", direct), ("2 put of the bytes read whole", whole),
            ("3 POST .../documents over HTTP", over_http)]
    base_seconds = statistics.median(direct[0])
    print(f"{args.files} files of {size / MB:.2f} MiB per variant: median time per file; peak resident memory of\n"
          "the storing process (one of its own for 1 and 2, the server for 3) above its own before the first file\n")
    print(f"{'variant':38} {'s/file':>7} {'MiB/s':>7} {'x baseline':>10} {'peak MiB':>9} {'peak/file':>9}")
    for label, (seconds_per_file, extra) in rows:
        seconds = statistics.median(seconds_per_file)
        print(f"{label:38} {seconds:7.3f} {size / MB / seconds:7.1f} {seconds / base_seconds:9.2f}x "
              f"{extra / MB:9.1f} {extra / size:8.2f}x")


if __name__ == "__main__":
    main()
