"""Amending an issued licence: the printed details change, the validity does not.

What may change: the business name, the business address (within the same district: a business that
moves elsewhere needs a licence from that place's office), and for a juristic person its registered name
(an individual's name is their identity, not a detail of the licence). Approved, the amendment issues a
replacement e-licence with the new details and the same expiry; the old record shows `replaced`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, model_validator

from bizportal.engine.catalogue.offices import OfficeDirectory
from bizportal.engine.errors import Conflict, InvalidInput
from bizportal.engine.input_text import line, text
from bizportal.engine.licences.current import require_current
from bizportal.engine.licences.request_input import ReasonInput
from bizportal.storage.applications import ApplicationRow
from bizportal.storage.issued_licences import IssuedLicenceRow

AMENDABLE = ("business_name", "business_address", "holder_name")


class AmendmentInput(ReasonInput):
    business_name: Annotated[str, line(300, min_length=1)] | None = None
    business_address: Annotated[str, text(1000, min_length=1)] | None = Field(default=None,
                                                             description="the new address, in the same district")
    business_district: Annotated[str, line(100, min_length=1)] | None = Field(
        default=None, description="the district of the new address: it must be the licence's own (a move "
                                  "elsewhere needs a new licence)")
    holder_name: Annotated[str, line(300, min_length=1)] | None = Field(default=None,
                                                        description="a juristic person's new registered name")

    @model_validator(mode="after")
    def _something_changes(self) -> AmendmentInput:
        if all(getattr(self, name) is None for name in AMENDABLE):
            raise ValueError(f"give at least one of {', '.join(AMENDABLE)}")
        return self


def check_amendable(issued: IssuedLicenceRow, today: date) -> None:
    """Raises Conflict, saying why, unless `issued` may be amended `today`."""
    number = issued.number
    require_current(issued, "amend")
    if issued.valid_until is not None and issued.valid_until < today:
        raise Conflict(f"licence {number} expired on {issued.valid_until.isoformat()}",
                       hint="renew it first (POST .../renewals), then amend the renewed licence")


def _require_same_district(data: AmendmentInput, application: ApplicationRow, offices: OfficeDirectory) -> None:
    """A licence is issued for a place: a new address in another district needs that district's licence."""
    province, district = application.business_province, application.business_district or ""
    hint = (f"a licence covers a business in {district or 'its district'}; for a move to another district, "
            "apply for a new licence there and cancel this one (POST .../cancellations)")
    if data.business_district is not None and not offices.same_district(province, district, data.business_district):
        raise InvalidInput(f"`business_district` {data.business_district!r} is not the licence's district "
                           f"{district!r}", hint=hint, details={"field": "business_district"})
    if data.business_address is None or not district:
        return
    named = offices.districts_named_in(province, data.business_address)
    if named and not any(offices.same_district(province, district, name) for name in named):
        raise InvalidInput(f"the new address is in {', '.join(named)}, not in the licence's district {district}",
                           hint=hint, details={"field": "business_address", "districts_named": named})


def changes(data: AmendmentInput, issued: IssuedLicenceRow, application: ApplicationRow,
            offices: OfficeDirectory) -> dict[str, str]:
    """The details that change, each with its new value.

    Raises:
        InvalidInput: naming the field: a holder name for an individual, a value that is what the
            licence already says, or an address in another district.
    """
    _require_same_district(data, application, offices)
    if data.holder_name is not None and application.applicant_kind != "juristic":
        raise InvalidInput("only a juristic person's name can be amended on a licence",
                           hint="an individual holder's name is their identity: leave `holder_name` out",
                           details={"field": "holder_name"})
    current = {"business_name": issued.business_name, "business_address": application.business_address,
               "holder_name": issued.holder_name}
    changed: dict[str, str] = {}
    for name in AMENDABLE:
        value = getattr(data, name)
        if value is None:
            continue
        if value.strip() == current[name]:
            raise InvalidInput(f"`{name}` is already {current[name]!r} on licence {issued.number}",
                               hint="send only the details that change", details={"field": name})
        changed[name] = value.strip()
    return changed
