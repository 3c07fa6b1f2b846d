"""An application's forms, one per licence, checked against each licence's declared fields.

A draft's forms are checked when it is created or changed (each value valid, no unknown field; required fields
may still be missing), and again at submit, when every required field must have a value. The generic bounds of
`engine/applications/input.py` (size, scalar values) apply first, on the request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bizportal.engine.catalogue.catalogue import Catalogue
from bizportal.engine.catalogue.forms import checked_values, missing_values
from bizportal.engine.errors import InvalidInput


def check_forms(catalogue: Catalogue, licences: list[str], form: Mapping[str, Mapping[str, Any]], *,
                complete: bool) -> dict[str, dict[str, Any]]:
    """The forms validated against their licences' fields, nulls dropped.

    Args:
        licences: the licences applied for (known codes); `form` may be keyed only by these.
        form: per licence code, the values sent.
        complete: True at submit: every required field of every licence must have a value.

    Returns:
        Per licence code given in `form`, its validated values.

    Raises:
        InvalidInput: a form for a licence not applied for (`details.field` "form"); an unknown or invalid field
            (`form.<licence>.<field>` with what it allows); at submit, the required fields still missing (all of
            them in `details.missing`).
    """
    stray = sorted(set(form) - set(licences))
    if stray:
        raise InvalidInput(f"form given for licence(s) not applied for: {', '.join(stray)}",
                           hint="key `form` by the codes listed in `licences`", details={"field": "form"})
    checked = {code: checked_values(code, catalogue.licence(code).form, values) for code, values in form.items()}
    if complete:
        missing = [path for code in licences
                   for path in missing_values(code, catalogue.licence(code).form, checked.get(code, {}))]
        if missing:
            raise InvalidInput(f"required form fields are missing: {', '.join(missing)}",
                               hint="fill them in with PATCH /api/v1/applications/{id} (`form`), then submit again; "
                                    "GET /api/v1/licences/{code} lists each form's fields",
                               details={"field": missing[0], "missing": missing})
    return checked
