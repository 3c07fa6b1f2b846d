"""Bearer tokens: HS256 JWTs carrying `sub`, `role` and, for officers, `agency` (and `office` for
officers of a local government, whose inbox shows only their office's cases; for a counter officer, the office
of their counter). An optional `name` (the OpenID Connect claim) is the person's display name: a receipt
names the officer who took the cash by it.
Optional `id_number` (the person's 13-digit national ID number), `ial` and `aal` (the sign-in's assurance
levels in DGA notation, engine/assurance.py) say who the person is and how well that is known; a token
without levels counts as the development default (IAL 2.3, AAL 2), which `bizportal token` writes anyway.

In production these come from the Digital ID (OpenID Connect) sign-in; `bizportal token`
mints them with the configured key for development, tests and counters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from bizportal.engine.applications.thai_id import is_valid_thai_id
from bizportal.engine.assurance import LevelError, parse_aal, parse_ial
from bizportal.engine.errors import Unauthenticated
from bizportal.engine.principal import Principal, Role

ALGORITHM = "HS256"
ISSUER = "bizportal"
OFFICER_ROLES = {Role.AGENCY_OFFICER, Role.AGENCY_SUPERVISOR}
# A stolen token is useful until it expires: whoever signed it, none is accepted for longer than this.
DEFAULT_MAX_LIFETIME = timedelta(hours=24)
_HINT = "send `Authorization: Bearer <token>`"


def issue_token(key: str, subject: str, role: Role, agency: str | None = None, ttl: timedelta = timedelta(hours=12),
                now: datetime | None = None, office: str | None = None, name: str | None = None,
                id_number: str | None = None, ial: str | None = None, aal: str | None = None) -> str:
    """Sign a token. `id_number`, `ial` and `aal` are checked as `read_token` checks them.

    Raises:
        ValueError: a claim the server would refuse (officer without agency, empty subject, bad level or ID).
    """
    if role in OFFICER_ROLES and not agency:
        raise ValueError(f"role {role.value} needs an agency")
    if not subject:
        raise ValueError("a token needs a subject")
    if id_number is not None and not is_valid_thai_id(id_number):
        raise ValueError(f"{id_number!r} is not a 13-digit Thai ID number with a valid check digit")
    levels = {"ial": str(parse_ial(ial)) if ial is not None else None,
              "aal": str(parse_aal(aal)) if aal is not None else None}  # LevelError is a ValueError
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {"sub": subject, "role": role.value, "iss": ISSUER, "iat": issued,
                                 "exp": issued + ttl}
    if agency:
        claims["agency"] = agency
    if office:
        claims["office"] = office
    if name and name.strip():
        claims["name"] = name.strip()
    if id_number is not None:
        claims["id_number"] = id_number
    claims.update({claim: value for claim, value in levels.items() if value is not None})
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_token(key: str, token: str, max_lifetime: timedelta = DEFAULT_MAX_LIFETIME) -> Principal:
    """Verify signature, expiry, issuer and lifetime, and turn the claims into a Principal.

    Only officers carry `agency` and `office` (a counter officer: the office of their counter, whose filings
    they act on): on any other role's token they are ignored, so they never reach the audit trail's actor label.

    Raises:
        Unauthenticated: anything wrong with the token (the reason is in the message).
    """
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["sub", "role", "exp", "iss"]})
        role = Role(claims["role"])
    except jwt.ExpiredSignatureError as err:
        raise Unauthenticated("the token has expired", hint="sign in again for a new token") from err
    except (jwt.InvalidTokenError, ValueError, TypeError) as err:
        raise Unauthenticated(f"the token is not valid: {err}", hint=_HINT) from err
    _check_lifetime(claims, max_lifetime)
    subject = _text_claim(claims, "sub")
    if not subject:
        raise Unauthenticated("the token is not valid: `sub` is empty", hint=_HINT)
    name = _text_claim(claims, "name")
    display_name = " ".join(name.split())[:200] if name else None  # one line on a receipt
    person = _person_claims(claims)
    agency, office = _text_claim(claims, "agency"), _text_claim(claims, "office")
    if role == Role.COUNTER_OFFICER:
        return Principal(subject=subject, role=role, agency=agency or None, office=office or None, name=display_name,
                         **person)
    if role not in OFFICER_ROLES:
        return Principal(subject=subject, role=role, name=display_name, **person)
    if not agency:
        raise Unauthenticated("an officer token must carry an `agency` claim")
    return Principal(subject=subject, role=role, agency=agency, office=office or None, name=display_name, **person)


def _person_claims(claims: dict[str, Any]) -> dict[str, str | None]:
    """`id_number`, `ial` and `aal`, each checked (None when absent); levels in their canonical spelling."""
    id_number = _text_claim(claims, "id_number")
    if id_number is not None and not is_valid_thai_id(id_number):
        raise Unauthenticated("the token is not valid: `id_number` is not a 13-digit Thai ID number with a valid "
                              "check digit", hint=_HINT)
    levels: dict[str, str | None] = {}
    for claim, parse in (("ial", parse_ial), ("aal", parse_aal)):
        value = _text_claim(claims, claim)
        try:
            levels[claim] = str(parse(value)) if value is not None else None
        except LevelError as err:
            raise Unauthenticated(f"the token is not valid: `{claim}`: {err}", hint=_HINT) from err
    return {"id_number": id_number, **levels}


def _text_claim(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is not None and not isinstance(value, str):
        raise Unauthenticated(f"the token is not valid: `{name}` must be a string", hint=_HINT)
    return value


def _check_lifetime(claims: dict[str, Any], max_lifetime: timedelta) -> None:
    """PyJWT has checked that `exp` (and `iat` when present) are integers and `exp` is in the future."""
    exp = int(claims["exp"])  # integers throughout: `exp` may be 10**400, which no float holds
    limit = int(max_lifetime.total_seconds())
    # Measured from `iat` when the token has one, and always from now: a backdated `iat` gains nothing.
    starts = [int(datetime.now(UTC).timestamp())] + ([int(claims["iat"])] if "iat" in claims else [])
    if any(exp - start > limit for start in starts):
        hours = limit / 3600
        raise Unauthenticated(f"the token is valid for longer than the {hours:g} hours this server accepts",
                              hint="ask for a token with a shorter lifetime")
