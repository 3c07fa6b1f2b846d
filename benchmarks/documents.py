"""What one e-licence and one e-receipt cost in CPU: rendered, then PAdES-signed, as the issuing jobs do.

Renders and signs licences and receipts in one process and reports CPU milliseconds
(`time.process_time`) per document: the very first of each kind separately (it pays the one-time
costs: fonts parsed, templates compiled, signer state), then the steady state over `--renders`
documents after a warm-up. Every document differs (its number, and the holder or payer from a
rotation of Thai names), so per-document work cannot hide in a cache of identical input.

The baseline, measured in the same run, is the floor of the two libraries: a one-line fpdf2 page in
a core font (no embedded font, no shaping) signed by the same pyHanko signer. The target of issue 14
is 20 ms of CPU per document, rendering and signing together.

    .venv/bin/python benchmarks/documents.py                 # 100 of each
    .venv/bin/python benchmarks/documents.py --renders 20 --profile

Results are printed and written to benchmarks/results/documents.json (git-ignored).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import platform
import pstats
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

from fpdf import FPDF
from pyhanko.sign import signers

from bizportal.api.key_files import development_certificate, new_signing_key_pem
from bizportal.engine.documents.licence_pdf import LicenceDocument, render_licence_pdf
from bizportal.engine.documents.receipt_pdf import Cashier, ReceiptDocument, ReceiptLine, render_receipt_pdf
from bizportal.engine.documents.signing import pem_signer, sign_pdf

RESULTS = Path(__file__).with_name("results") / "documents.json"
TARGET_MS = 20.0

# Names with different Thai letters, vowels and tone marks, so the glyphs used change between documents.
HOLDERS = ("นางสาวสมหญิง ใจดี", "นายสมชาย รักษ์ไทย", "นางวิภาวรรณ ศรีสุข", "นายณัฐพงษ์ เจริญผล",
           "บริษัท ข้าวหอม จำกัด", "นางสาวฐิติมา ภู่ระหงษ์", "ห้างหุ้นส่วนจำกัด ฟ้าใส")

LICENCE = LicenceDocument(
    licence_number="BMA-2569-000000", licence_code="FOOD-NOTIFY-200",
    licence_name_th="หนังสือรับรองการแจ้งจัดตั้งสถานที่จำหน่ายอาหาร",
    licence_name_en="Certificate of Notification for a Food Premises",
    agency_name_th="สำนักงานเขตคลองเตย", agency_name_en="Khlong Toei District Office",
    holder_name=HOLDERS[0], holder_id_masked="1-2345-xxxxx-xx-1", business_name="ร้านข้าวมันไก่น้ำใจ",
    business_address="99/9 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร 10110",
    issued_on=date(2026, 11, 22), valid_until=date(2027, 11, 21),
    verification_url="https://bizportal.example/verify/BMA-2569-000000?s=" + "A" * 86)

RECEIPT = ReceiptDocument(
    receipt_number="BP-R-2569-000000", paid_at=datetime(2026, 12, 1, 2, 5, tzinfo=UTC), payer_name=HOLDERS[0],
    tracking_number="BP-2569-0000007", method="counter", payment_reference="0b6f3c2e-1f0a-4c55-9d36-1a2b3c4d5e6f",
    lines=(ReceiptLine("ขอหนังสือรับรองการแจ้งจัดตั้งสถานที่ จำหน่ายหรือสะสมอาหาร (ไม่เกิน 200 ตร.ม.)",
                       "Certificate of Notification for a Food Sale or Storage Premises (not exceeding 200 sq m)",
                       "สำนักงานเขตคลองเตย", "Khlong Toei District Office", 50000),),
    currency="THB", recorded_by=Cashier("counter_officer", "carl", "สมชาย รับเงิน"),
    record_url="https://bizportal.example/api/v1/receipts/BP-R-2569-000000/pdf")


def licence(index: int) -> bytes:
    number = f"BMA-2569-{index:06d}"
    return render_licence_pdf(dataclasses.replace(
        LICENCE, licence_number=number, holder_name=HOLDERS[index % len(HOLDERS)],
        issued_on=LICENCE.issued_on + timedelta(days=index % 300),
        verification_url=f"https://bizportal.example/verify/{number}?s={index:086d}"))


def receipt(index: int) -> bytes:
    number = f"BP-R-2569-{index:06d}"
    return render_receipt_pdf(dataclasses.replace(
        RECEIPT, receipt_number=number, payer_name=HOLDERS[index % len(HOLDERS)],
        paid_at=RECEIPT.paid_at + timedelta(minutes=7 * index),
        record_url=f"https://bizportal.example/api/v1/receipts/{number}/pdf"))


def bare_page(index: int) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text=f"Licence {index}")
    pdf.set_creation_date(datetime(2026, 11, 22, tzinfo=UTC))
    return bytes(pdf.output())


@dataclasses.dataclass
class Figure:
    """CPU per document of one kind: the first one, and the mean of the steady state."""

    kind: str
    first_render_ms: float
    first_sign_ms: float
    render_ms: float = 0.0
    sign_ms: float = 0.0
    renders: int = 0
    size_bytes: int = 0

    @property
    def first_ms(self) -> float:
        return self.first_render_ms + self.first_sign_ms

    @property
    def total_ms(self) -> float:
        return self.render_ms + self.sign_ms


def _timed(action: Callable[[], bytes]) -> tuple[bytes, float]:
    start = time.process_time()
    result = action()
    return result, (time.process_time() - start) * 1000


def first(kind: str, render: Callable[[int], bytes], signer: signers.Signer) -> Figure:
    pdf, render_ms = _timed(lambda: render(0))
    _, sign_ms = _timed(lambda: sign_pdf(pdf, signer))
    return Figure(kind, render_ms, sign_ms)


def steady(figure: Figure, render: Callable[[int], bytes], signer: signers.Signer, renders: int,
           warm_up: int = 3) -> Figure:
    for index in range(1, warm_up + 1):
        sign_pdf(render(index), signer)
    render_total = sign_total = 0.0
    size = 0
    for index in range(warm_up + 1, warm_up + 1 + renders):
        pdf, render_ms = _timed(partial(render, index))
        signed, sign_ms = _timed(partial(sign_pdf, pdf, signer))
        render_total, sign_total, size = render_total + render_ms, sign_total + sign_ms, len(signed)
    figure.render_ms, figure.sign_ms = render_total / renders, sign_total / renders
    figure.renders, figure.size_bytes = renders, size
    return figure


def profile(signer: signers.Signer, renders: int, top: int = 25) -> list[dict[str, Any]]:
    """cProfile `renders` licences and receipts, rendered and signed: the functions by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(10_000, 10_000 + renders):
        sign_pdf(licence(index), signer)
        sign_pdf(receipt(index), signer)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{Path(filename).name}:{line}({function})", "calls": calls,
                     "own_ms_per_case": own * 1000 / renders, "cumulative_ms_per_case": cumulative * 1000 / renders})
    rows.sort(key=lambda row: -row["cumulative_ms_per_case"])
    return rows[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=100, help="documents of each kind in the steady state")
    parser.add_argument("--profile", action="store_true", help="afterwards, cProfile min(N, 30) licence + receipt")
    args = parser.parse_args(argv)

    key = new_signing_key_pem()
    signer = pem_signer(key, development_certificate(key, datetime.now(UTC)))
    # The first of each kind, before anything else rendered in this process.
    figures = [first("e-licence", licence, signer), first("e-receipt", receipt, signer)]
    steady(figures[0], licence, signer, args.renders)
    steady(figures[1], receipt, signer, args.renders)
    baseline = steady(first("bare fpdf2 page + pyHanko", bare_page, signer), bare_page, signer, args.renders)

    print(f"\nCPU ms per document ({args.renders} of each after 3 warm-up; first = the first in this process)")
    print(f"{'document':28} {'first':>8} {'render':>8} {'sign':>8} {'total':>8} {'x bare':>7} {'x target':>8} "
          f"{'bytes':>8}")
    for figure in [*figures, baseline]:
        print(f"{figure.kind:28} {figure.first_ms:8.1f} {figure.render_ms:8.2f} {figure.sign_ms:8.2f} "
              f"{figure.total_ms:8.2f} {figure.total_ms / baseline.total_ms:7.2f} "
              f"{figure.total_ms / TARGET_MS:8.2f} {figure.size_bytes:8d}")

    result: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "versions": {name: metadata.version(name) for name in ("fpdf2", "pyHanko", "fonttools", "uharfbuzz")},
        "renders": args.renders, "target_ms": TARGET_MS,
        "documents": [{**dataclasses.asdict(f), "first_ms": f.first_ms, "total_ms": f.total_ms,
                       "x_bare": f.total_ms / baseline.total_ms, "x_target": f.total_ms / TARGET_MS}
                      for f in [*figures, baseline]],
    }
    if args.profile:
        result["profile"] = profile(signer, min(args.renders, 30))
        print("\ncProfile, one licence + one receipt rendered and signed (ms per case, cumulative):")
        for row in result["profile"]:
            print(f"{row['cumulative_ms_per_case']:9.2f} {row['own_ms_per_case']:8.2f}  {row['function']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
