"""PromptPay and Thai QR payloads: EMVCo merchant-presented QR codes as the Bank of Thailand profiles them.

A payload is a run of TLV fields (2-digit tag, 2-digit length, value) ending with the CRC field `6304XXXX`,
where XXXX is the CRC-16/CCITT-FALSE of everything before it *including* "6304", in upper-case hex.

Two templates are built here:

- PromptPay credit transfer (tag 29, AID A000000677010111) to a mobile number (sub-tag 01, written
  "0066" + the number without its leading 0, 13 characters), a national ID / tax ID (02, 13 digits) or an
  e-wallet ID (03, 15 digits). Field order follows the `promptpay-qr` npm package (dtinth/promptpay-qr):
  00, 01, 29, 58, 53, [54], 63.
- Thai QR bill payment (tag 30, AID A000000677010112) with a biller ID (01, 15 digits: the tax ID and a
  2-digit suffix), reference 1 (02) and an optional reference 2 (03). Field order follows the `promptparse`
  npm package (maythiwat/promptparse): 00, 01, 30, 53, 58, [54], 63.

Readers parse the fields by tag, so the order does not change what a banking app pays; it is kept identical
to those published implementations so our payloads (and their CRC) match theirs byte for byte.

Point of initiation (tag 01) is "11" (static, reusable) without an amount and "12" (dynamic, one payment)
with one. Amounts are integer satang here and written with two decimals ("4.22").
"""

from __future__ import annotations

import io
import re

import qrcode
from qrcode.constants import ERROR_CORRECT_M

AID_PROMPTPAY = "A000000677010111"
AID_BILL_PAYMENT = "A000000677010112"
CURRENCY_THB = "764"
COUNTRY_TH = "TH"
POI_STATIC = "11"
POI_DYNAMIC = "12"

TAG_FORMAT = "00"
TAG_POI = "01"
TAG_PROMPTPAY = "29"
TAG_BILL_PAYMENT = "30"
TAG_CURRENCY = "53"
TAG_AMOUNT = "54"
TAG_COUNTRY = "58"
TAG_CRC = "63"

SUBTAG_AID = "00"
SUBTAG_MOBILE = "01"
SUBTAG_TAX_ID = "02"
SUBTAG_EWALLET = "03"
SUBTAG_BILLER_ID = "01"
SUBTAG_REF1 = "02"
SUBTAG_REF2 = "03"

_REFERENCE = re.compile(r"^[A-Z0-9]{1,20}$")
_MAX_AMOUNT_CHARS = 13  # EMVCo: tag 54 is at most 13 characters


class ThaiQRError(ValueError):
    """An input that cannot go into a Thai QR payload (bad target, reference or amount)."""


def tlv(tag: str, value: str) -> str:
    """One EMVCo field: the 2-digit tag, the value's length in 2 digits, then the value.

    Raises:
        ThaiQRError: the tag is not 2 digits or the value is empty or longer than 99 characters.
    """
    if not re.fullmatch(r"\d{2}", tag):
        raise ThaiQRError(f"EMVCo tags are 2 digits, not {tag!r}")
    if not 0 < len(value) <= 99:
        raise ThaiQRError(f"tag {tag} must hold 1 to 99 characters, got {len(value)}")
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR.

    The check value (CRC of b"123456789") is 0x29B1.
    """
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def with_crc(fields: str) -> str:
    """`fields` followed by the CRC field, computed over `fields` + "6304"."""
    head = fields + TAG_CRC + "04"
    return f"{head}{crc16_ccitt_false(head.encode('ascii')):04X}"


def format_amount(amount_satang: int) -> str:
    """Satang as the tag-54 text: 422 -> "4.22", 50000 -> "500.00".

    Raises:
        ThaiQRError: not a positive integer, or too large for the 13 characters tag 54 allows.
    """
    if isinstance(amount_satang, bool) or not isinstance(amount_satang, int) or amount_satang <= 0:
        raise ThaiQRError(f"the amount must be a positive integer number of satang, got {amount_satang!r}")
    text = f"{amount_satang // 100}.{amount_satang % 100:02d}"
    if len(text) > _MAX_AMOUNT_CHARS:
        raise ThaiQRError(f"{text} THB does not fit the {_MAX_AMOUNT_CHARS} characters of tag 54")
    return text


def promptpay_target(target: str) -> tuple[str, str]:
    """The tag-29 sub-tag and value for a PromptPay ID; spaces, dashes and a leading "+" are ignored.

    - mobile: 10 digits starting with 0 ("0812345678") or 11 starting with 66 ("+66 81 234 5678")
      -> ("01", "0066812345678")
    - national ID / tax ID: 13 digits -> ("02", the digits)
    - e-wallet ID: 15 digits -> ("03", the digits)

    Raises:
        ThaiQRError: anything else.
    """
    digits = re.sub(r"[\s\-+]", "", target)
    if not digits.isdigit():
        raise ThaiQRError(f"a PromptPay ID holds digits only, got {target!r}")
    if len(digits) == 10 and digits.startswith("0"):
        return SUBTAG_MOBILE, "0066" + digits[1:]
    if len(digits) == 11 and digits.startswith("66"):
        return SUBTAG_MOBILE, "00" + digits
    if len(digits) == 13:
        return SUBTAG_TAX_ID, digits
    if len(digits) == 15:
        return SUBTAG_EWALLET, digits
    raise ThaiQRError(f"{target!r} is not a PromptPay mobile number (0XXXXXXXXX), "
                      "national/tax ID (13 digits) or e-wallet ID (15 digits)")


def _reference(name: str, value: str) -> str:
    if not _REFERENCE.fullmatch(value):
        raise ThaiQRError(f"{name} must be 1 to 20 upper-case letters or digits, got {value!r}")
    return value


def promptpay_payload(target: str, amount_satang: int | None = None) -> str:
    """A PromptPay credit-transfer payload (tag 29): static without an amount, dynamic with one.

    Args:
        target: mobile number, national/tax ID or e-wallet ID (see `promptpay_target`).
        amount_satang: the amount to pay, or None to let the payer type it.
    Raises:
        ThaiQRError: a bad target or amount.
    """
    subtag, value = promptpay_target(target)
    fields = [
        tlv(TAG_FORMAT, "01"),
        tlv(TAG_POI, POI_STATIC if amount_satang is None else POI_DYNAMIC),
        tlv(TAG_PROMPTPAY, tlv(SUBTAG_AID, AID_PROMPTPAY) + tlv(subtag, value)),
        tlv(TAG_COUNTRY, COUNTRY_TH),
        tlv(TAG_CURRENCY, CURRENCY_THB),
    ]
    if amount_satang is not None:
        fields.append(tlv(TAG_AMOUNT, format_amount(amount_satang)))
    return with_crc("".join(fields))


def bill_payment_payload(biller_id: str, ref1: str, ref2: str | None, amount_satang: int) -> str:
    """A Thai QR bill-payment payload (tag 30): the bank reports `ref1`/`ref2` back to the biller.

    Args:
        biller_id: 15 digits (the biller's tax ID and a 2-digit suffix), as registered with its bank.
        ref1: reference 1, 1 to 20 upper-case letters or digits (our payment reference).
        ref2: optional reference 2, same alphabet.
        amount_satang: the amount to pay.
    Raises:
        ThaiQRError: a bad biller ID, reference or amount.
    """
    if not re.fullmatch(r"\d{15}", biller_id):
        raise ThaiQRError(f"a biller ID is 15 digits, got {biller_id!r}")
    merchant = tlv(SUBTAG_AID, AID_BILL_PAYMENT) + tlv(SUBTAG_BILLER_ID, biller_id) + tlv(
        SUBTAG_REF1, _reference("ref1", ref1))
    if ref2 is not None:
        merchant += tlv(SUBTAG_REF2, _reference("ref2", ref2))
    fields = [
        tlv(TAG_FORMAT, "01"),
        tlv(TAG_POI, POI_DYNAMIC),
        tlv(TAG_BILL_PAYMENT, merchant),
        tlv(TAG_CURRENCY, CURRENCY_THB),
        tlv(TAG_COUNTRY, COUNTRY_TH),
        tlv(TAG_AMOUNT, format_amount(amount_satang)),
    ]
    return with_crc("".join(fields))


def parse_tlv(data: str) -> dict[str, str]:
    """The fields of one TLV level by tag (call again on a template's value for its sub-fields).

    Raises:
        ThaiQRError: truncated or malformed data, or a tag that appears twice.
    """
    fields: dict[str, str] = {}
    position = 0
    while position < len(data):
        header = data[position:position + 4]
        if not re.fullmatch(r"\d{4}", header):
            raise ThaiQRError(f"malformed TLV at position {position}: {header!r}")
        tag, length = header[:2], int(header[2:])
        value = data[position + 4:position + 4 + length]
        if len(value) != length:
            raise ThaiQRError(f"tag {tag} is truncated: {length} characters announced, {len(value)} present")
        if tag in fields:
            raise ThaiQRError(f"tag {tag} appears twice")
        fields[tag] = value
        position += 4 + length
    return fields


def crc_is_valid(payload: str) -> bool:
    """Whether `payload` ends with a CRC field that matches the rest."""
    if len(payload) < 8 or payload[-8:-4] != TAG_CRC + "04":
        return False
    return f"{crc16_ccitt_false(payload[:-4].encode('ascii')):04X}" == payload[-4:].upper()


def qr_png(payload: str, box_size: int = 8, border: int = 4) -> bytes:
    """The payload as a PNG QR code (error correction M, the usual choice for Thai QR)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(payload)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(out)
    return out.getvalue()
