"""Who is calling: the identity every use case authorizes against."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    APPLICANT = "applicant"
    COUNTER_OFFICER = "counter_officer"
    AGENCY_OFFICER = "agency_officer"
    AGENCY_SUPERVISOR = "agency_supervisor"  # sees the agency's cases escalated past the manual's time (s.10)
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    agency: str | None = None
    office: str | None = None  # the local office an officer of a local government works at
    name: str | None = None  # the display name the sign-in gave (OpenID Connect `name`), printed on receipts

    @property
    def label(self) -> str:
        """How the audit trail names the actor."""
        unit = ":".join(part for part in (self.agency, self.office) if part)
        return f"{self.role.value}:{unit}:{self.subject}" if unit else f"{self.role.value}:{self.subject}"


SYSTEM = Principal(subject="system", role=Role.ADMIN)
