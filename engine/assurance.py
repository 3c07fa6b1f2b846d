"""Assurance levels of a sign-in, in the notation of DGA's Digital ID standard (DGS 1-2 : 2564).

- **IAL** (identity assurance: how well the person was proofed): "1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "3".
- **AAL** (authenticator assurance: how strongly they signed in): "1", "2", "3".

A level is *at least* another when its number is not smaller, sub-level by sub-level: IAL "2.3" satisfies a
licence that asks for IAL 2 (any 2.x) and one that asks for "2.2", but not one that asks for 3. A requirement
may be a whole level (2, "2") or a sub-level ("2.2"). A signed-in identity's IAL is normally a sub-level; a bare
"2" from a provider is below "2.1" and satisfies only a whole-level requirement.

Each licence's manual states the levels it needs (`ial`, `aal`); `require` is the one check the use cases call
before an applicant submits, pays online or downloads an e-licence. Staff (counter and agency officers,
supervisors, admins) are not checked against a licence's levels: their sign-in is their organisation's.

A principal without levels (`Principal.ial`/`aal` None: a development token minted without them) is taken at the
development default, IAL "2.3" and AAL "2", the same levels `bizportal token` writes unless told otherwise. A
sign-in through the OpenID provider always has levels: one the provider does not state is the lowest
(api/oidc.py), never the development default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bizportal.engine.errors import Forbidden
from bizportal.engine.principal import Principal, Role

IAL_LEVELS = ("1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "3")
AAL_LEVELS = ("1", "2", "3")
# What a principal without levels counts as (see the module docstring), and what `bizportal token` writes.
DEVELOPMENT_IAL = "2.3"
DEVELOPMENT_AAL = "2"

_IAL = re.compile(r"^([123])(?:\.([123]))?$")


class LevelError(ValueError):
    """A level that is not in DGA's notation; the message names the allowed values."""


@dataclass(frozen=True, order=True)
class Ial:
    """An identity assurance level: `major` 1..3 and `minor` 0 (a whole level) or 1..3."""

    major: int
    minor: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}" if self.minor else str(self.major)

    def satisfies(self, needed: Ial) -> bool:
        return self >= needed


LOWEST_IAL = Ial(1, 1)
LOWEST_AAL = 1


def parse_ial(value: str | int) -> Ial:
    """Read an IAL: "1.1".."2.3", "3", or a whole level 1, 2, 3 (int or text).

    Raises:
        LevelError: anything else (IAL 3 has no sub-levels).
    """
    if isinstance(value, bool):
        raise LevelError(_ial_message(value))
    match = _IAL.match(str(value).strip())
    if not match or (match.group(1) == "3" and match.group(2)):
        raise LevelError(_ial_message(value))
    return Ial(int(match.group(1)), int(match.group(2) or 0))


def parse_aal(value: str | int) -> int:
    """Read an AAL: 1, 2 or 3 (int or text).

    Raises:
        LevelError: anything else.
    """
    if isinstance(value, bool) or str(value).strip() not in AAL_LEVELS:
        raise LevelError(f"{value!r} is not an AAL: use one of {', '.join(AAL_LEVELS)}")
    return int(str(value).strip())


def _ial_message(value: object) -> str:
    return f"{value!r} is not an IAL: use one of {', '.join(IAL_LEVELS)} (or a whole level 1, 2)"


def ial_satisfies(have: str | int, needed: str | int) -> bool:
    """True when IAL `have` is at least `needed` ("2.3" satisfies 2 and "2.2"; "1.3" does not satisfy 2)."""
    return parse_ial(have).satisfies(parse_ial(needed))


def aal_satisfies(have: str | int, needed: str | int) -> bool:
    return parse_aal(have) >= parse_aal(needed)


@dataclass(frozen=True)
class Requirement:
    """The levels something needs, and what needs them (a licence code, for the message)."""

    ial: Ial
    aal: int
    what: str


def strongest(requirements: list[Requirement]) -> tuple[Ial, int] | None:
    """The highest IAL and the highest AAL among the requirements (None for none)."""
    if not requirements:
        return None
    return max(r.ial for r in requirements), max(r.aal for r in requirements)


def levels_of(principal: Principal) -> tuple[Ial, int]:
    """The principal's levels, the development default standing in for a missing one.

    A level that is not in DGA's notation (a provider's claim mapped wrongly) counts as the lowest, IAL 1.1 or
    AAL 1: it is refused wherever a licence asks for more, never an error.
    """
    try:
        ial = parse_ial(principal.ial or DEVELOPMENT_IAL)
    except LevelError:
        ial = LOWEST_IAL
    try:
        aal = parse_aal(principal.aal or DEVELOPMENT_AAL)
    except LevelError:
        aal = LOWEST_AAL
    return ial, aal


def step_up_acr_values(ial: Ial, aal: int) -> str:
    """The `acr_values` to ask the identity provider for, to sign in again at these levels."""
    return f"ial{ial} aal{aal}"


def require(principal: Principal, requirements: list[Requirement], action: str) -> None:
    """Refuse an applicant whose sign-in is below any requirement's levels (staff are not checked).

    Args:
        principal: who is calling.
        requirements: the levels of each licence the action touches.
        action: what the caller is doing, for the message ("submit this application").

    Raises:
        Forbidden: the sign-in's IAL or AAL is too low; the hint names the levels and the step-up.
    """
    if principal.role != Role.APPLICANT:
        return
    have_ial, have_aal = levels_of(principal)
    short = [r for r in requirements if not have_ial.satisfies(r.ial) or have_aal < r.aal]
    if not short:
        return
    needed = strongest(short)
    assert needed is not None
    need_ial, need_aal = max(needed[0], have_ial), max(needed[1], have_aal)
    acr = step_up_acr_values(need_ial, need_aal)
    licences = ", ".join(sorted({r.what for r in short}))
    raise Forbidden(
        f"to {action} you must be signed in at IAL {need_ial} and AAL {need_aal} or higher ({licences} "
        f"requires it); you are signed in at IAL {have_ial}, AAL {have_aal}",
        hint=f"sign in again with a stronger method (step-up): start the sign-in with acr_values={acr}, "
             f"proving your identity at IAL {need_ial} and authenticating at AAL {need_aal}",
        details={"ial_required": str(need_ial), "aal_required": str(need_aal), "ial": str(have_ial),
                 "aal": str(have_aal), "acr_values": acr, "licences": sorted({r.what for r in short})})
