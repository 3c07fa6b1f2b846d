"""Fee rules applied to a business: what a licence's rule charges, from validated fields the officer sees."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bizportal.engine.catalogue.forms import checked_values
from bizportal.engine.catalogue.manual import LicenceManual
from bizportal.engine.errors import InvalidInput

BUSINESS_AREA = "area_m2"  # the one fee parameter that is no form field: `business.area_m2`


def fee_parameter_field(manual: LicenceManual) -> str | None:
    """Where the licence's fee parameter is sent (`business.area_m2` or `form.<licence>.<field>`), if it has one."""
    parameter = manual.fee.parameter
    if parameter is None:
        return None
    return f"business.{BUSINESS_AREA}" if parameter == BUSINESS_AREA else f"form.{manual.code}.{parameter}"


def fee_by_rule(manual: LicenceManual, business_area_m2: float, form: Mapping[str, Any]) -> int:
    """The fee a licence's rule sets from validated fields (before any discount).

    Only fields validated at input and shown to the officer are fee parameters: `business.area_m2`, or the number
    field of the licence's form that the manual marks `feeds_fee` (checked when the manual is loaded). The form's
    values are validated again here, so a stored value that no longer fits its field never sets a fee, and no
    other value the applicant sent is read (security review H1).

    Args:
        business_area_m2: the business's validated floor area.
        form: the licence's own form values (`form[<licence>]`).

    Raises:
        InvalidInput: the parameter is missing, invalid or outside the rule (an area above its last band), naming
            the field.
    """
    parameter = manual.fee.parameter
    field = fee_parameter_field(manual)
    if parameter is None or parameter == BUSINESS_AREA:
        parameters: dict[str, float] = {BUSINESS_AREA: business_area_m2}
    else:
        values = checked_values(manual.code, manual.form, form)
        parameters = {parameter: values[parameter]} if parameter in values else {}
    try:
        return manual.fee.amount_for(parameters)
    except ValueError as err:
        raise InvalidInput(f"the fee of {manual.code} cannot be set for this business: {err}",
                           hint=f"check {field}; GET /api/v1/licences/{manual.code} shows the values the fee rule "
                                "covers (a larger business may need another licence)",
                           details={"field": field, "licence": manual.code}) from err
