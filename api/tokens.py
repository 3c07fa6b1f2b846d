"""Bearer tokens: HS256 JWTs carrying `sub`, `role` and, for officers, `agency` (and `office` for
officers of a local government, whose inbox shows only their office's cases). An optional `name` (the
OpenID Connect claim) is the person's display name: a receipt names the officer who took the cash by it.

In production these come from the Digital ID (OpenID Connect) sign-in; `bizportal token`
mints them with the configured key for development, tests and counters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from bizportal.engine.errors import Unauthenticated
from bizportal.engine.principal import Principal, Role

ALGORITHM = "HS256"
ISSUER = "bizportal"
OFFICER_ROLES = {Role.AGENCY_OFFICER, Role.AGENCY_SUPERVISOR}


def issue_token(key: str, subject: str, role: Role, agency: str | None = None, ttl: timedelta = timedelta(hours=12),
                now: datetime | None = None, office: str | None = None, name: str | None = None) -> str:
    if role in OFFICER_ROLES and not agency:
        raise ValueError(f"role {role.value} needs an agency")
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


def read_token(key: str, token: str) -> Principal:
    """Verify signature, expiry and issuer, and turn the claims into a Principal.

    Raises:
        Unauthenticated: anything wrong with the token (the reason is in the message).
    """
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["sub", "role", "exp", "iss"]})
        role = Role(claims["role"])
    except jwt.ExpiredSignatureError as err:
        raise Unauthenticated("the token has expired", hint="sign in again for a new token") from err
    except (jwt.InvalidTokenError, ValueError) as err:
        raise Unauthenticated(f"the token is not valid: {err}", hint="send `Authorization: Bearer <token>`") from err
    agency = claims.get("agency")
    if role in OFFICER_ROLES and not agency:
        raise Unauthenticated("an officer token must carry an `agency` claim")
    name = claims.get("name")
    if name is not None and not isinstance(name, str):
        raise Unauthenticated("the token's `name` claim must be a string")
    display_name = " ".join(name.split())[:200] if name else ""  # one line on a receipt
    return Principal(subject=str(claims["sub"]), role=role, agency=agency, office=claims.get("office"),
                     name=display_name or None)
