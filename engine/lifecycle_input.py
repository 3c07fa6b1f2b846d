"""What the holder sends to renew, amend or cancel an issued licence, shared by the three requests."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bizportal.engine.thai_id import normalise_thai_id


class HolderInput(BaseModel):
    """The holder files for themselves; a counter officer files for the holder, who shows their ID card.

    `holder_id_number` is required from a counter officer (the number on the card must be the licence
    holder's); from the holder it is optional and, if given, must be theirs.
    """

    model_config = ConfigDict(extra="forbid")

    holder_id_number: str | None = Field(default=None, description="the holder's 13-digit citizen ID or juristic "
                                         "registration number (required when a counter officer files)")

    @field_validator("holder_id_number")
    @classmethod
    def _thai_id(cls, value: str | None) -> str | None:
        return None if value is None else normalise_thai_id(value)


class ReasonInput(HolderInput):
    reason: str = Field(min_length=3, max_length=2000, description="why: recorded and shown to the agency")
