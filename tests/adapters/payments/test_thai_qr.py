"""Thai QR payloads against published reference implementations, the CRC, and the QR image."""

from __future__ import annotations

import io
from typing import cast

import pytest
import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

from bizportal.adapters.payments.thai_qr import (
    ThaiQRError,
    bill_payment_payload,
    crc16_ccitt_false,
    crc_is_valid,
    format_amount,
    parse_tlv,
    promptpay_payload,
    promptpay_target,
    qr_png,
    tlv,
    with_crc,
)

# Reference payloads printed by the `promptpay-qr` npm package 0.5.0 (github.com/dtinth/promptpay-qr, MIT),
# e.g. `node -e "console.log(require('promptpay-qr')('0812345678', {amount: 4.22}))"`. The first one is
# also the example in that package's README.
PROMPTPAY_QR_VECTORS = [
    ("0812345678", None, "00020101021129370016A000000677010111011300668123456785802TH530376463045D82"),
    ("0812345678", 422, "00020101021229370016A000000677010111011300668123456785802TH530376454044.2263045D49"),
    ("0899999999", 100, "00020101021229370016A000000677010111011300668999999995802TH530376454041.0063041A88"),
    ("1101700203395", None, "00020101021129370016A000000677010111021311017002033955802TH5303764630486AB"),
    ("1101700203395", 50000,
     "00020101021229370016A000000677010111021311017002033955802TH53037645406500.0063048AA3"),
    ("004999000288505", None, "00020101021129390016A00000067701011103150049990002885055802TH530376463041521"),
    ("004999000288505", 12345,
     "00020101021229390016A00000067701011103150049990002885055802TH53037645406123.456304B569"),
]

# Reference payloads printed by `billPayment` of the `promptparse` npm package 1.6.0
# (github.com/maythiwat/promptparse, MIT), e.g.
# `billPayment({billerId: '010556012345601', ref1: 'BP2024000123', ref2: 'INV7', amount: 123.45})`.
BILL_PAYMENT_VECTORS = [
    ("010556012345601", "BP2024000123", None, 150000,
     "00020101021230550016A00000067701011201150105560123456010212BP202400012353037645802TH54071500.006304EB62"),
    ("010556012345601", "BP2024000123", "INV7", 12345,
     "00020101021230630016A00000067701011201150105560123456010212BP20240001230304INV753037645802TH5406123.45"
     "63046E2E"),
    ("099400016550100", "A1B2C3", None, 1,
     "00020101021230490016A00000067701011201150994000165501000206A1B2C353037645802TH54040.016304252A"),
]

# Also from `promptparse` 1.6.0 (`anyId`): it writes tag 53 before 58, where promptpay-qr writes 58 first.
# The fields are the same, so a reader pays the same thing; only the order and hence the CRC differ.
PROMPTPARSE_ANYID_VECTORS = [
    ("0812345678", 422, "00020101021229370016A0000006770101110113006681234567853037645802TH54044.2263041271"),
    ("1101700203395", None, "00020101021129370016A0000006770101110213110170020339553037645802TH63045917"),
]


def test_crc_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1  # the catalogued CRC-16/CCITT-FALSE check value
    assert crc16_ccitt_false(b"") == 0xFFFF


def test_tlv_writes_a_two_digit_length() -> None:
    assert tlv("58", "TH") == "5802TH"
    assert tlv("29", "x" * 37) == "2937" + "x" * 37
    with pytest.raises(ThaiQRError):
        tlv("5", "TH")
    with pytest.raises(ThaiQRError):
        tlv("62", "x" * 100)
    with pytest.raises(ThaiQRError):
        tlv("62", "")


@pytest.mark.parametrize(("target", "amount", "expected"), PROMPTPAY_QR_VECTORS)
def test_promptpay_payload_matches_promptpay_qr(target: str, amount: int | None, expected: str) -> None:
    assert promptpay_payload(target, amount) == expected
    assert crc_is_valid(expected)


@pytest.mark.parametrize(("target", "amount", "reference"), PROMPTPARSE_ANYID_VECTORS)
def test_promptpay_payload_has_the_same_fields_as_promptparse(target: str, amount: int | None,
                                                               reference: str) -> None:
    ours, theirs = parse_tlv(promptpay_payload(target, amount)), parse_tlv(reference)
    assert crc_is_valid(reference)
    assert {k: v for k, v in ours.items() if k != "63"} == {k: v for k, v in theirs.items() if k != "63"}


@pytest.mark.parametrize(("biller", "ref1", "ref2", "amount", "expected"), BILL_PAYMENT_VECTORS)
def test_bill_payment_payload_matches_promptparse(biller: str, ref1: str, ref2: str | None, amount: int,
                                                  expected: str) -> None:
    assert bill_payment_payload(biller, ref1, ref2, amount) == expected


def test_bill_payment_structure() -> None:
    payload = bill_payment_payload("010556012345601", "PAY42", "APP7", 50000)
    fields = parse_tlv(payload)
    assert list(fields) == ["00", "01", "30", "53", "58", "54", "63"]
    assert fields["00"] == "01" and fields["01"] == "12"
    assert fields["53"] == "764" and fields["58"] == "TH" and fields["54"] == "500.00"
    assert parse_tlv(fields["30"]) == {"00": "A000000677010112", "01": "010556012345601", "02": "PAY42",
                                       "03": "APP7"}
    assert crc_is_valid(payload)
    assert payload.endswith(f"6304{crc16_ccitt_false(payload[:-4].encode()):04X}")


def test_static_and_dynamic_point_of_initiation() -> None:
    static, dynamic = parse_tlv(promptpay_payload("0812345678")), parse_tlv(promptpay_payload("0812345678", 1))
    assert static["01"] == "11" and "54" not in static
    assert dynamic["01"] == "12" and dynamic["54"] == "0.01"


@pytest.mark.parametrize(("target", "expected"), [
    ("081-234-5678", ("01", "0066812345678")),
    ("+66 81 234 5678", ("01", "0066812345678")),
    ("1 1017 00203 39 5", ("02", "1101700203395")),
    ("004999000288505", ("03", "004999000288505")),
])
def test_promptpay_targets(target: str, expected: tuple[str, str]) -> None:
    assert promptpay_target(target) == expected


@pytest.mark.parametrize("target", ["812345678", "12345", "08123456789", "0812abc678", "", "11017002033951"])
def test_bad_promptpay_targets(target: str) -> None:
    with pytest.raises(ThaiQRError):
        promptpay_payload(target)


@pytest.mark.parametrize(("biller", "ref1", "ref2", "amount"), [
    ("01055601234560", "PAY1", None, 100),  # 14 digits
    ("010556012345601", "pay1", None, 100),  # lower case
    ("010556012345601", "A" * 21, None, 100),  # too long
    ("010556012345601", "PAY1", "BAD-REF", 100),
    ("010556012345601", "PAY1", None, 0),
])
def test_bad_bill_payment_inputs(biller: str, ref1: str, ref2: str | None, amount: int) -> None:
    with pytest.raises(ThaiQRError):
        bill_payment_payload(biller, ref1, ref2, amount)


def test_amount_formatting() -> None:
    assert [format_amount(s) for s in (1, 10, 422, 50000, 123456789)] == ["0.01", "0.10", "4.22", "500.00",
                                                                          "1234567.89"]
    for bad in (0, -1, True):
        with pytest.raises(ThaiQRError):
            format_amount(bad)
    with pytest.raises(ThaiQRError):
        format_amount(10**13)  # "100000000000.00" is 15 characters


def test_crc_validation_and_parsing_errors() -> None:
    good = with_crc("000201")
    assert crc_is_valid(good)
    assert not crc_is_valid(good[:-1] + ("0" if good[-1] != "0" else "1"))
    assert not crc_is_valid("0002")
    with pytest.raises(ThaiQRError):
        parse_tlv("0005ab")
    with pytest.raises(ThaiQRError):
        parse_tlv("00020100")
    with pytest.raises(ThaiQRError):
        parse_tlv("000201000201")


def test_qr_png_draws_the_payload() -> None:
    """No QR decoder is installed (pyzbar needs libzbar), so read the PNG's modules back and compare them
    with the matrix qrcode computes for the payload: the image is that exact code."""
    payload = PROMPTPAY_QR_VECTORS[1][2]
    png = qr_png(payload, box_size=4, border=4)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=4, border=4)
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.get_matrix()  # includes the quiet-zone border
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size == (len(matrix) * 4, len(matrix) * 4)
    drawn = [[cast(int, image.getpixel((x * 4 + 2, y * 4 + 2))) < 128 for x in range(len(matrix))]  # "L": one int
             for y in range(len(matrix))]
    assert drawn == matrix
