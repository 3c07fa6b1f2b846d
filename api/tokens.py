"""Bearer tokens: HS256 JWTs carrying `sub`, `role` and, for officers, `agency` (and `office` for
officers of a local government, whose inbox shows only their office's cases). An optional `name` (the
OpenID Connect claim) is the person's display name: a receipt names the officer who took the cash by it.

In production these come from the Digital ID (OpenID Connect) sign-in; `bizportal token`
mints them with the configured key for development, tests and counters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from bizportal.engine.errors import Unauthenticated
from bizportal.engine.principal import Principal, Role

ALGORITHM = "HS256"
ISSUER = "bizportal"
OFFICER_ROLES = {Role.AGENCY_OFFICER, Role.AGENCY_SUPERVISOR}
# A stolen token is useful until it expires: whoever signed it, none is accepted for longer than this.
DEFAULT_MAX_LIFETIME = timedelta(hours=24)
_HINT = "send `Authorization: Bearer <token>`"


def issue_token(key: str, subject: str, role: Role, agency: str | None = None, ttl: timedelta = timedelta(hours=12),
                now: datetime | None = None, office: str | None = None, name: str | None = None) -> str:
    if role in OFFICER_ROLES and not agency:
        raise ValueError(f"role {role.value} needs an agency")
    if not subject:
        raise ValueError("a token needs a subject")
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {"sub": subject, "role": role.value, "iss": ISSUER, "iat": issued,
                                 "exp": issued + ttl}
    if agency:
        claims["agency"] = agency
    if office:
        claims["office"] = office
    if name and name.strip():
        claims["name"] = name.strip()
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_token(key: str, token: str, max_lifetime: timedelta = DEFAULT_MAX_LIFETIME) -> Principal:
    """Verify signature, expiry, issuer and lifetime, and turn the claims into a Principal.

    Only officers carry `agency` and `office`: on any other role's token they are ignored, so they never
    reach the audit trail's actor label.

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
    if role not in OFFICER_ROLES:
        return Principal(subject=subject, role=role, name=display_name)
    agency, office = _text_claim(claims, "agency"), _text_claim(claims, "office")
    if not agency:
        raise Unauthenticated("an officer token must carry an `agency` claim")
    return Principal(subject=subject, role=role, agency=agency, office=office or None, name=display_name)


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
