"""The facts the licence manuals take from the Biz Portal reference catalogue (``licences.csv``).

The manuals under ``bpmn/<code>/manual.yaml`` are the checked-in source of truth; this module reads the
reference CSVs so a test can cross-check them and hand edits never drift silently from the reference.
It maps one CSV row to the manual's vocabulary: agency codes as in ``bpmn/agencies.yaml`` (the reference
abbreviations), fees in integer satang with the manual's fee types, the validity split into a number of
years and a note, and the ``*``/"not verified" marks of the reference turned into flags.

The selection is the reference's "proposed selection of exactly 78 licences": the rows whose
``in_proposed_78`` is ``yes``, plus one licence for the 26 food & beverage health-hazard trades that the
reference marks ``grouped`` (one licence under the Public Health Act with the trades as sub-types).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

FeeType = Literal["fixed", "range", "from", "none"]

FOOD_FAMILY_CODE = "hh_food_beverage_family"
# The family has no row of its own: its names follow the reference README's table (row 12) and the
# Thai heading of that group of trades in the Public Health Act's list of health-hazard trades.
FOOD_FAMILY_NAME_TH = "ขอใบอนุญาตประกอบกิจการที่เป็นอันตรายต่อสุขภาพ: กิจการที่เกี่ยวกับอาหาร เครื่องดื่ม น้ำดื่ม"
FOOD_FAMILY_NAME_EN = "Health-hazard trade licences for food & beverage production (list of 26 trades)"

_FEE_TYPES: dict[str, FeeType] = {"Fixed": "fixed", "Range": "range", "StartAt": "from", "None": "none"}
_VARIANTS = ("renew", "amend", "cancel", "annual_fee")
_YEARS = re.compile(r"^(\d+) years?\b")
_INFO_GO_TH = re.compile(r"^https?://(?:www\.)?info\.go\.th/(?:Intro)?#!/th/search/(\d+)/")
_INFERRED_MARK = "(inferred)"


class ReferenceDataError(Exception):
    """The reference files are missing or a row cannot be mapped."""


@dataclass(frozen=True)
class ReferenceSubType:
    """One trade of a grouped licence (a row marked ``grouped``)."""

    code: str
    name_th: str
    name_en: str


@dataclass(frozen=True)
class ReferenceFee:
    """The seeded fee in satang; ``max_satang`` is None for ``from`` and ``none`` (and fixed = min)."""

    type: FeeType
    min_satang: int | None
    max_satang: int | None


@dataclass(frozen=True)
class ReferenceLicence:
    """The facts of one licence of the selection as the reference states them."""

    code: str
    name_th: str
    name_en: str
    agency: str
    legal_basis: str
    legal_basis_inferred: bool  # the reference marks it with a trailing `*`
    working_days: int | None  # None when the reference leaves it blank (or 0)
    fee: ReferenceFee
    must_file_at_counter: bool
    elicence: bool
    validity_years: int | None  # only when the validity is a number of years
    validity_note: str | None  # the validity text without the reference's marks; None when not stated
    validity_unverified: bool  # marked `*`, "unverified" or "not verified"
    variants: tuple[str, ...]
    business_types: tuple[str, ...]
    business_types_inferred: bool  # some links are marked "(inferred)" in the reference
    manual_url: str | None  # shortened to https://info.go.th/#!/th/search/<number>/
    remarks: tuple[str, ...]  # seeded remarks, status and fee notes, how the days were seeded
    sub_types: tuple[ReferenceSubType, ...] = ()


def load_reference(directory: Path) -> dict[str, ReferenceLicence]:
    """Read ``licences.csv`` and ``agencies.csv`` and map the 78 licences of the proposed selection.

    Args:
        directory: the reference folder (``shared/reference/bizportal``).

    Returns:
        The licences by code, in the CSV's order, the food & beverage family last.

    Raises:
        ReferenceDataError: a file is missing or a row does not map (unknown agency, fee type, variant...).
    """
    agencies = _agency_codes(directory / "agencies.csv")
    rows = _read_csv(directory / "licences.csv")
    selected: dict[str, ReferenceLicence] = {}
    grouped: list[dict[str, str]] = []
    for row in rows:
        selection = row["in_proposed_78"].strip()
        if selection == "yes":
            selected[row["code"]] = _licence(row, agencies)
        elif selection.startswith("grouped"):
            grouped.append(row)
    if grouped:
        selected[FOOD_FAMILY_CODE] = _family(grouped, agencies)
    return selected


def load_business_types(directory: Path) -> list[str]:
    """The codes of ``business_types.csv`` (the 25 business types), in file order.

    Raises:
        ReferenceDataError: the file is missing or has no ``code`` column.
    """
    return [row["code"] for row in _read_csv(directory / "business_types.csv")]


def short_manual_url(url: str) -> str | None:
    """``https://info.go.th/#!/th/search/<number>/`` for an info.go.th handbook link, else None."""
    match = _INFO_GO_TH.match(url.strip())
    return f"https://info.go.th/#!/th/search/{match.group(1)}/" if match else None


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise ReferenceDataError(f"{path}: cannot read the reference file: {exc}") from exc


def _agency_codes(path: Path) -> dict[str, str]:
    return {row["org_code"]: row["abbreviation"] for row in _read_csv(path)}


def _licence(row: dict[str, str], agencies: dict[str, str]) -> ReferenceLicence:
    code = row["code"]
    legal_basis, legal_basis_inferred = _strip_inferred(row["legal_basis"])
    validity_years, validity_note, validity_unverified = _validity(row["validity"])
    business_types, business_types_inferred = _business_types(row["linked_business_types"])
    return ReferenceLicence(
        code=code,
        name_th=row["name_th"].strip(),
        name_en=row["name_en"].strip(),
        agency=_agency(row, agencies),
        legal_basis=legal_basis,
        legal_basis_inferred=legal_basis_inferred,
        working_days=_working_days(row),
        fee=_fee(row),
        must_file_at_counter=_flag(row, "must_file_at_counter"),
        elicence=_flag(row, "has_elicense"),
        validity_years=validity_years,
        validity_note=validity_note,
        validity_unverified=validity_unverified,
        variants=_variants(row),
        business_types=business_types,
        business_types_inferred=business_types_inferred,
        manual_url=short_manual_url(row["manual_url"]),
        remarks=_remarks(row),
    )


def _family(rows: list[dict[str, str]], agencies: dict[str, str]) -> ReferenceLicence:
    """One licence for the grouped trades; where they differ, the widest fee range and the longest days."""
    trades = [_licence(row, agencies) for row in rows]
    first = trades[0]
    for field in ("agency", "legal_basis", "must_file_at_counter", "elicence", "validity_note", "manual_url"):
        values = {getattr(trade, field) for trade in trades}
        if len(values) > 1:
            raise ReferenceDataError(f"the grouped food trades disagree on {field}: {sorted(map(str, values))}")
    fee_types = {trade.fee.type for trade in trades}
    if fee_types != {"range"}:
        raise ReferenceDataError(f"the grouped food trades have fee types {sorted(fee_types)}, expected only Range")
    minimum = min(trade.fee.min_satang or 0 for trade in trades)
    maximum = max(trade.fee.max_satang or 0 for trade in trades)
    days = [trade.working_days for trade in trades if trade.working_days is not None]
    variants = {variant for trade in trades for variant in trade.variants}
    business_types = {business for trade in trades for business in trade.business_types}
    remarks = list(dict.fromkeys(remark for trade in trades for remark in trade.remarks))
    return ReferenceLicence(
        code=FOOD_FAMILY_CODE,
        name_th=FOOD_FAMILY_NAME_TH,
        name_en=FOOD_FAMILY_NAME_EN,
        agency=first.agency,
        legal_basis=first.legal_basis,
        legal_basis_inferred=any(trade.legal_basis_inferred for trade in trades),
        working_days=max(days) if days else None,
        fee=ReferenceFee(type="range", min_satang=minimum, max_satang=maximum),
        must_file_at_counter=first.must_file_at_counter,
        elicence=first.elicence,
        validity_years=first.validity_years,
        validity_note=first.validity_note,
        validity_unverified=any(trade.validity_unverified for trade in trades),
        variants=tuple(variant for variant in _VARIANTS if variant in variants),
        business_types=tuple(sorted(business_types)),
        business_types_inferred=any(trade.business_types_inferred for trade in trades),
        manual_url=first.manual_url,
        remarks=tuple(remarks),
        sub_types=tuple(ReferenceSubType(code=t.code, name_th=t.name_th, name_en=t.name_en) for t in trades),
    )


def _agency(row: dict[str, str], agencies: dict[str, str]) -> str:
    org_code = row["agency_org_code"].strip()
    if org_code not in agencies:
        raise ReferenceDataError(f"{row['code']}: agency org code {org_code!r} is not in agencies.csv")
    code = agencies[org_code]
    if row["agency_abbr"].strip() != code:
        raise ReferenceDataError(f"{row['code']}: agency_abbr {row['agency_abbr']!r} but org code {org_code} is {code}")
    return code


def _strip_inferred(text: str) -> tuple[str, bool]:
    value = text.strip()
    if value.endswith("*"):
        return value.rstrip("*").rstrip(), True
    return value, False


def _working_days(row: dict[str, str]) -> int | None:
    text = row["working_days"].strip()
    if not text:
        return None
    try:
        days = int(text)
    except ValueError as exc:
        raise ReferenceDataError(f"{row['code']}: working_days {text!r} is not a whole number") from exc
    return days or None


def _satang(row: dict[str, str], column: str) -> int | None:
    text = row[column].strip()
    if not text:
        return None
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation as exc:
        raise ReferenceDataError(f"{row['code']}: {column} {text!r} is not an amount") from exc


def _fee(row: dict[str, str]) -> ReferenceFee:
    seeded = row["fee_type"].strip()
    if seeded not in _FEE_TYPES:
        raise ReferenceDataError(f"{row['code']}: unknown fee_type {seeded!r}")
    fee_type = _FEE_TYPES[seeded]
    minimum, maximum = _satang(row, "fee_min_thb"), _satang(row, "fee_max_thb")
    if fee_type == "none":
        return ReferenceFee(type="none", min_satang=None, max_satang=None)
    if minimum is None:
        raise ReferenceDataError(f"{row['code']}: a {seeded} fee without fee_min_thb")
    if fee_type == "fixed":
        return ReferenceFee(type="fixed", min_satang=minimum, max_satang=minimum)
    if fee_type == "from":
        return ReferenceFee(type="from", min_satang=minimum, max_satang=None)
    if maximum is None:
        raise ReferenceDataError(f"{row['code']}: a Range fee without fee_max_thb")
    return ReferenceFee(type="range", min_satang=minimum, max_satang=maximum)


def _flag(row: dict[str, str], column: str) -> bool:
    text = row[column].strip()
    if text not in ("True", "False"):
        raise ReferenceDataError(f"{row['code']}: {column} is {text!r}, expected True or False")
    return text == "True"


def _validity(text: str) -> tuple[int | None, str | None, bool]:
    raw = text.strip()
    unverified = "*" in raw or "verified" in raw  # "not verified", "(unverified)"
    if not raw or raw == "not verified":
        return None, None, True
    note = raw.replace("(unverified)", "").replace("*", "")
    note = re.sub(r"\s+", " ", note).replace(" ;", ";").strip()
    match = _YEARS.match(note)
    return (int(match.group(1)) if match else None), note, unverified


def _variants(row: dict[str, str]) -> tuple[str, ...]:
    variants = tuple(part.strip() for part in row["variants"].split(";") if part.strip())
    unknown = [variant for variant in variants if variant not in _VARIANTS]
    if unknown:
        raise ReferenceDataError(f"{row['code']}: unknown variants {unknown}")
    return variants


def _business_types(text: str) -> tuple[tuple[str, ...], bool]:
    codes: list[str] = []
    inferred = False
    for part in text.split(";"):
        code = part.strip()
        if not code:
            continue
        if code.endswith(_INFERRED_MARK):
            inferred = True
            code = code.removesuffix(_INFERRED_MARK).strip()
        codes.append(code)
    return tuple(codes), inferred


def _remarks(row: dict[str, str]) -> tuple[str, ...]:
    remarks = [row["area_or_remark_note"].strip()]
    status = row["status_note"].strip()
    if status:
        remarks.append(f"status in the reference: {status}")
    if row["fee_note"].strip():
        remarks.append(row["fee_note"].strip())
    days_type, days_max = row["working_days_type"].strip(), row["working_days_max"].strip()
    if days_type == "Range" and days_max:
        remarks.append(f"working days seeded as a range of {row['working_days'].strip()}-{days_max}")
    elif days_type == "StartAt":
        remarks.append(f"working days seeded as 'from {row['working_days'].strip()}'")
    return tuple(remark for remark in remarks if remark)
