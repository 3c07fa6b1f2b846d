"""What an applicant (or a counter officer for them) sends to open an application."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bizportal.engine.thai_id import normalise_thai_id


class ApplicantInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["individual", "juristic"]
    id_number: str = Field(description="13-digit citizen ID or juristic-person registration number")
    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                              description="where notifications go (documents travel as links, never attachments)")
    language: Literal["th", "en"] = "th"

    @field_validator("id_number")
    @classmethod
    def _thai_id(cls, value: str) -> str:
        return normalise_thai_id(value)


class BusinessInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300)
    address: str = Field(min_length=1, max_length=1000)
    province: str = Field(min_length=1, max_length=100)
    district: str | None = Field(default=None, max_length=100,
                                 description="district (เขต/อำเภอ): routes local-government licences to their office")
    area_m2: float = Field(gt=0, le=1_000_000, description="usable floor area in square metres")


class ApplicationInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    licences: list[str] = Field(min_length=1, max_length=80, description="licence codes from the catalogue")
    applicant: ApplicantInput
    business: BusinessInput
    form: dict[str, dict[str, Any]] = Field(default_factory=dict,
                                            description="per licence code, that licence's own form fields")

    @field_validator("licences")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each licence may be listed once")
        return value
