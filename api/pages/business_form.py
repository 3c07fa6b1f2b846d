"""The business's fields (`BusinessInput` of engine/applications/input.py: name, address, province, district,
floor area), as the apply pages and the counter's filing form both ask them: read from the posted form, turned
into the engine's `business` body, and the engine's or pydantic's refusals turned back into a message beside the
field. The template is api/templates/_business_fields.html; the labels api/page_labels/business.py.

The fields are named as the API's body names them (`business.name` ...), so a pydantic location or an engine
error's `details.field` names its field as it is; each field's element id is `field_id(name)`
(`f-business-area-m2`), the error summary's link. Every limit is the engine's: a page only turns strings into the
body the API would receive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bizportal.engine.catalogue.catalogue import Catalogue
from bizportal.engine.errors import BizPortalError

FIELDS = ("business.name", "business.address", "business.province", "business.district", "business.area_m2")
AREA = "business.area_m2"
ROUTED_BY = ("business.province", "business.district")  # what sends a local-government licence to its office
MAX_TEXT = 1000  # the longest field the engine takes (the address): anything beyond is not kept


def field_id(name: str) -> str:
    """The element id of a form field (`business.area_m2` -> `f-business-area-m2`): a valid, readable anchor."""
    return "f-" + name.replace(".", "-").replace("_", "-")


def read(form: Mapping[str, Any]) -> dict[str, str]:
    """The business's fields as typed, trimmed (a file or a missing field reads as empty)."""
    return {name: value.strip()[:MAX_TEXT] if isinstance(value := form.get(name), str) else "" for name in FIELDS}


def from_view(business: Mapping[str, Any]) -> dict[str, str]:
    """A stored application's business, to fill the form."""
    area = business.get("area_m2")
    return {"business.name": business.get("name") or "", "business.address": business.get("address") or "",
            "business.province": business.get("province") or "", "business.district": business.get("district") or "",
            AREA: "" if area is None else f"{area:g}"}


def _area(text: str) -> float | str | None:
    """A number as people write it (1,250.5); anything else is passed on for the engine to refuse."""
    if not text:
        return None
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return text


def body(values: Mapping[str, str]) -> dict[str, Any]:
    """The API's `business` body from the form (an empty district is left out, as a person leaves it)."""
    return {"name": values["business.name"], "address": values["business.address"],
            "province": values["business.province"], "district": values["business.district"] or None,
            "area_m2": _area(values[AREA])}


def field_named(path: str) -> str | None:
    """The business field a pydantic location (`business.area_m2`) or an engine's `details.field` names."""
    return next((name for name in FIELDS if path == name or path.startswith(name + ".")), None)


def message(name: str, labels: Mapping[str, str]) -> str:
    """What the field needs, in the page's language (pydantic's English is not shown)."""
    return labels["business_error_" + name.removeprefix("business.")]


def licence_names(catalogue: Catalogue, lang: str) -> dict[str, str]:
    """Licence code -> its name in the page's language, for the refusals that name a licence."""
    return {code: getattr(manual, f"name_{lang}") for code, manual in catalogue.licences.items()}


def engine_error(err: BizPortalError, labels: Mapping[str, str],
                 names: Mapping[str, str]) -> tuple[str, str] | None:
    """The business field an engine refusal names (`details.field`) and the message beside it, or None when it
    names none: an area beyond a licence's fee bands names the licence; a province or district no office serves
    says so.

    Args:
        names: licence code -> its name in the page's language (`licence_names`).
    """
    details = err.details if isinstance(err.details, dict) else {}
    name = field_named(str(details.get("field", "")))
    if name is None:
        return None
    if name == AREA and details.get("licence"):  # a fee rule whose bands end below this area
        licence = str(details["licence"])
        return name, labels["business_error_area_fee"] % names.get(licence, licence)
    if name in ROUTED_BY:
        return name, labels["business_error_route"]
    return name, message(name, labels)
