"""The one exception root of the engine, and a map of every other error root. The API maps each kind to an
HTTP status once (api/errors.py `STATUS`, plus two handlers for the object store).

Use cases raise `BizPortalError` kinds on purpose; the other roots belong to an adapter contract, the storage
layer or a loader, and the engine turns them into a kind before they reach a caller (the arrow says which):

    BizPortalError                         (any other kind: 400)
    ├── NotFound ......................... 404
    ├── Forbidden ........................ 403
    ├── Unauthenticated .................. 401 (with WWW-Authenticate: Bearer)
    ├── Conflict ......................... 409
    ├── InvalidInput ..................... 422
    ├── Unavailable ...................... 503
    ├── ProviderRefused .................. 502
    ├── Expired .......................... 410
    ├── PreconditionFailed ............... 412 (an `If-Match` that no longer matches)
    ├── PayloadTooLarge .................. 413
    ├── UnsupportedMediaType ............. 415
    └── StartupError ..................... 500 (raised before serving: the CLI prints it and exits 2)
        └── DefinitionError .............. 500 (a BPMN or manual file that cannot be used)

    adapters/agencies/base.py
    AgencyAdapterError
    ├── RetriableAgencyError ............. the delivery is retried with back-off
    ├── FinalAgencyError ................. the delivery fails and an incident is opened
    ├── InvalidCallback .................. -> Unauthenticated (401)
    └── MalformedCallback ................ -> InvalidInput (422), as any other AgencyAdapterError of a callback

    adapters/payments/base.py
    PaymentError ......................... -> ProviderRefused (502); a refund becomes "owed"
    ├── ProviderUnavailable .............. -> Unavailable (503); a refund job is retried
    └── InvalidWebhook ................... -> Unauthenticated (401)

    adapters/payments/thai_qr.py
    ThaiQRError (a ValueError) ........... a bad PromptPay setting stops start-up; in a payment -> PaymentError

    adapters/notifications/base.py
    NotificationError
    ├── RetriableNotificationError ....... the outbox job is retried with back-off
    └── FinalNotificationError ........... the notification is marked failed (no retry)

    adapters/scanners/base.py
    ScannerError ......................... -> Unavailable (503): a document is never accepted unscanned

    adapters/registries/base.py
    RegistryError ........................ -> Unavailable (503)
    ├── NotRegistered .................... -> InvalidInput (422)
    └── RegistryUnavailable .............. -> Unavailable (503)

    storage/object_store.py
    ObjectStoreError
    ├── ObjectNotFound ................... 404 (its own handler)
    └── ObjectStoreUnavailable ........... 503 (its own handler)

    storage/backup_manifest.py
    BackupError .......................... `bizportal backup` prints it and exits 1 (never served)

    engine/catalogue/manual.py             ManualError -> DefinitionError (start-up)
    engine/catalogue/forms.py              FormDefinitionError -> ManualError / DefinitionError (start-up)
    engine/catalogue/reference.py          ReferenceDataError: the reference tables' tools only, never served
    engine/workflow/expressions.py         ExpressionRejected (a ValueError) -> DefinitionError (start-up)

Anything else a request raises is a bug: answered 500 `InternalError`, with nothing internal in the body.
"""

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


class PreconditionFailed(BizPortalError):
    """The caller's `If-Match` names a version the object has since left: read it again, then retry."""


class PayloadTooLarge(BizPortalError):
    """An uploaded file, or an application's uploads together, are larger than the limit."""


class UnsupportedMediaType(BizPortalError):
    """An uploaded file is of a type that is not accepted (recognised by its content)."""


class StartupError(BizPortalError):
    """The engine cannot start: a setting that cannot work, a plug-in that does not load or rejects its settings,
    key files that are missing or do not fit. Raised before anything is served, naming the setting or plug-in."""


class DefinitionError(StartupError):
    """A BPMN or manual file cannot be used; raised at start-up with the file and element named."""


class Unavailable(BizPortalError):
    """A dependency (object store, provider) cannot be reached right now."""


class ProviderRefused(BizPortalError):
    """An outside service (a payment provider) answered and refused the request; its reason is in the message."""


class Expired(BizPortalError):
    """Something time-limited (a signed download link) is past its time; ask for a new one."""
