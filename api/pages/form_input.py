"""What the account pages' forms send, checked by the engine's own input models, and their errors as the GOV.UK
error summary wants them: (message, link to the field) pairs, and each field's message beside it.

A form's fields are read as text (`form_fields`), given to the engine's pydantic model (`checked`), and a
`ValidationError` becomes one error per field, worded by the page's labels (`<prefix><field>`) when it has one,
else by pydantic's own message. An engine error (a Conflict, a Forbidden) is a message for the whole form: it
links to the form's first field.

A form that creates something carries `idempotency_key`, made when the form was rendered (`new_key`), so a
double click or a resent POST is the same request to the engine.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from bizportal.api.page_labels import LABELS, Lang
from bizportal.engine.errors import BizPortalError

Model = TypeVar("Model", bound=BaseModel)
MAX_FIELD = 10_000  # longer than any field of these forms: anything beyond is not kept


@dataclass
class FormErrors:
    """The errors of one form: `summary` for the box at the top, `fields` for the message beside each field.
    The form's fields have the ids `<form>-<field>`; an error of the whole form is shown at its `first` field."""

    form: str
    first: str
    summary: list[tuple[str, str]] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def add(self, field_name: str | None, message: str) -> None:
        name = field_name or self.first
        self.summary.append((message, f"#{self.form}-{name}"))
        self.fields.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.summary)


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (a repeated name keeps its first value; files are ignored)."""
    form = await request.form()
    return {key: value[:MAX_FIELD] for key, value in form.items() if isinstance(value, str)}


def new_key() -> str:
    """A fresh idempotency key for a form being rendered."""
    return secrets.token_urlsafe(24)


def checked(model: type[Model], data: dict[str, Any], lang: Lang, errors: FormErrors) -> Model | None:
    """`data` as `model`, or None with one error per field added to `errors`, worded by the label
    `<form>_<field>_error` (`<form>_form_error` for the whole form) when there is one, else by pydantic."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        labels = LABELS[lang]
        for error in err.errors():
            name = str(error["loc"][0]) if error["loc"] else None  # None: the whole form (nothing to change)
            message = labels.get(f"{errors.form}_{name or 'form'}_error") \
                or str(error["msg"]).removeprefix("Value error, ")
            errors.add(name, message)
        return None


def engine_refused(err: BizPortalError, errors: FormErrors) -> None:
    """The engine's reason, at the field it names (`details.field`) or at the form's first field."""
    named = err.details.get("field") if isinstance(err.details, dict) else None
    errors.add(named if isinstance(named, str) else None, err.message)
