"""What the holder sends to renew, amend or cancel an issued licence, shared by the three requests."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from bizportal.engine.applications.consents import ConsentInput
from bizportal.engine.applications.thai_id import ThaiIdNumber
from bizportal.engine.input_text import text


class HolderInput(BaseModel):
    """The holder files for themselves; a counter officer files for the holder with their consent.

    `holder_id_number` and `consent` are required from a counter officer (the number on the card must be the
    licence holder's); from the holder the number is optional and, if given, must be theirs.
    """

    model_config = ConfigDict(extra="forbid")

    holder_id_number: ThaiIdNumber | None = Field(default=None, description="the holder's 13-digit citizen ID or "
                                                  "juristic registration number (required when a counter officer "
                                                  "files)")
    consent: ConsentInput | None = Field(default=None, description="required when a counter officer files (and "
                                         "only then): the holder's consent, as for a new application")


class ReasonInput(HolderInput):
    reason: Annotated[str, text(2000, min_length=3)] = Field(description="why: recorded and shown to the agency")
