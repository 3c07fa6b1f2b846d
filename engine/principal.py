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
    # The person behind the sign-in, as the identity provider vouches for them (None for staff and development
    # tokens that carry no identity): the 13-digit national ID number, and the assurance levels of this
    # sign-in in DGA's Digital ID notation: IAL "1.1".."3" (how well the identity was proofed), AAL "1".."3"
    # (how strongly the person authenticated).
    id_number: str | None = None
    ial: str | None = None
    aal: str | None = None

    @property
    def label(self) -> str:
        """How the audit trail names the actor: `role[:agency[:office]]:subject` (`role::office:subject` for an
        office without an agency).

        The label also decides who claimed a task and who took a payment, so two different principals must
        never share one: `%` and `:` inside a part are percent-escaped (an officer whose subject is
        `BKK-KHLONG-TOEI:olivia` and who has no office is not olivia of Khlong Toei). Parts without them,
        which is every code and ordinary subject, read as they are.
        """
        parts = [self.role.value]
        if self.agency or self.office:
            parts.append(self.agency or "")
        if self.office:
            parts.append(self.office)
        parts.append(self.subject)
        return ":".join(_escape(part) for part in parts)


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace(":", "%3A")


SYSTEM = Principal(subject="system", role=Role.ADMIN)
