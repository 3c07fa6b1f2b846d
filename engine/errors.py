"""The one exception root of the engine. The API maps each kind to an HTTP status once."""

from __future__ import annotations

from typing import Any


class BizPortalError(Exception):
    """Base of every error a use case raises on purpose.

    Args:
        message: what was wrong, in words an API client can act on.
        hint: how to fix it.
        details: machine-readable extras (field names, allowed values).
    """

    def __init__(self, message: str, *, hint: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details


class NotFound(BizPortalError):
    """The object does not exist, or the caller may not know it exists."""


class Forbidden(BizPortalError):
    """The caller is known but their role may not do this."""


class Unauthenticated(BizPortalError):
    """No valid credentials."""


class Conflict(BizPortalError):
    """The object is not in a state that allows this (finished task, paid invoice, lost race)."""


class InvalidInput(BizPortalError):
    """The request is well-formed but breaks a rule (unknown licence in a body, bad action)."""


class DefinitionError(BizPortalError):
    """A BPMN or manual file cannot be used; raised at start-up with the file and element named."""


class Unavailable(BizPortalError):
    """A dependency (object store, provider) cannot be reached right now."""


class ProviderRefused(BizPortalError):
    """An outside service (a payment provider) answered and refused the request; its reason is in the message."""


class Expired(BizPortalError):
    """Something time-limited (a signed download link) is past its time; ask for a new one."""
