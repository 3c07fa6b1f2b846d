"""Fee rules applied to a business: what a licence's rule charges, from fields the officer sees."""

from __future__ import annotations

from bizportal.engine.catalogue.manual import FeeRule
from bizportal.engine.errors import InvalidInput


def fee_by_rule(licence: str, fee: FeeRule, business_area_m2: float) -> int:
    """The fee a licence's rule sets from the business's validated fields (before any discount).

    Only business fields validated at input and shown to the officer are fee parameters; never the
    licence's `form`, the applicant's free input, through which a fee would be set unseen (security
    review H1). A manual's `fee.parameter` names one of them (checked when the manual is loaded).

    Raises:
        InvalidInput: the business's fields are outside the rule (an area above its last band), naming the field.
    """
    try:
        return fee.amount_for({"area_m2": business_area_m2})
    except ValueError as err:
        raise InvalidInput(f"the fee of {licence} cannot be set for this business: {err}",
                           hint=f"check business.area_m2; GET /api/v1/licences/{licence} shows the areas the "
                                "licence covers (a larger business may need another licence)",
                           details={"field": "business.area_m2", "licence": licence}) from err
