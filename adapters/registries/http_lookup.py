"""Registry look-ups over HTTP, against a data-exchange gateway (GDX / DOPA linkage centre facade).

The gateway answers ``GET /persons/{id}`` and ``GET /juristic-persons/{id}`` with the fields of
:class:`PersonRecord` / :class:`JuristicRecord` as JSON, authenticates with a bearer key, and logs the
``X-Purpose`` of every call (PDPA). Header values must be ASCII, so the purpose travels percent-encoded
(UTF-8); printable ASCII other than ``%`` is left as it is, so English purposes stay readable.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from .base import (
    JuristicRecord,
    LookupRequest,
    NotRegistered,
    PersonRecord,
    RegistryError,
    RegistryUnavailable,
    mask_thai_id,
)

__all__ = ["HttpRegistryLookup", "HttpRegistrySettings", "encode_purpose"]

# Printable ASCII except "%": kept readable; "%", control characters (no header injection) and
# non-ASCII (Thai) are percent-encoded, so decoding always gives back the original text.
_PURPOSE_SAFE = "".join(chr(code) for code in range(0x20, 0x7F) if chr(code) != "%" and not chr(code).isalnum())

_PATHS = {"individual": "persons", "juristic": "juristic-persons"}


def encode_purpose(purpose: str) -> str:
    """The ``X-Purpose`` header value for ``purpose``; ``urllib.parse.unquote`` reverses it."""
    return quote(purpose, safe=_PURPOSE_SAFE)


class HttpRegistrySettings(BaseModel):
    """The `http` plug-in's settings (BIZPORTAL_REGISTRY_URL, BIZPORTAL_REGISTRY_API_KEY)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(pattern=r"^https?://", description="the gateway root")
    api_key: SecretStr = Field(description="the bearer key")
    timeout: float = Field(default=5.0, gt=0)


class HttpRegistryLookup:
    """:class:`~bizportal.adapters.registries.base.RegistryLookup` over a registry gateway's HTTP API.

    Args:
        base_url: the gateway root, e.g. ``https://gdx.example.go.th/registry/v1``.
        api_key: the bearer key; never appears in errors or ``repr``.
        client: the HTTP client to use (tests pass ``httpx.Client(transport=...)``); a new one is made
            and owned (closed by :meth:`close`) when left out.
        timeout: seconds for connecting and for each read; a slow registry is treated as unavailable.
    """

    Settings = HttpRegistrySettings

    @classmethod
    def from_settings(cls, settings: HttpRegistrySettings, http: httpx.Client | None = None) -> HttpRegistryLookup:
        """The `http` plug-in. It keeps a client of its own rather than the shared one: that one's proxy
        settings (trust_env) are meant for other traffic, and identity data goes to the registry directly."""
        return cls(settings.base_url, settings.api_key.get_secret_value(), timeout=settings.timeout)

    def __init__(self, base_url: str, api_key: str, client: httpx.Client | None = None,
                 timeout: float = 5.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"registry base URL must start with http:// or https://, got {base_url!r}")
        if not api_key:
            raise ValueError("registry API key is empty")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._owns_client = client is None
        # trust_env=False: the registry is reached directly; an HTTP(S)_PROXY meant for other traffic
        # must not see identity data.
        self._client = client if client is not None else httpx.Client(trust_env=False)
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"HttpRegistryLookup(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP client if this object made it (an injected client belongs to the caller)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HttpRegistryLookup:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def lookup(self, request: LookupRequest) -> PersonRecord | JuristicRecord:
        """Fetch one record from the gateway.

        Args:
            request: the number, which registry and why; the purpose goes in ``X-Purpose``.

        Returns:
            The validated record, whose number is the requested one.

        Raises:
            NotRegistered: HTTP 404.
            RegistryUnavailable: a timeout, a connection error, HTTP 5xx or 429; retry later.
            RegistryError: HTTP 401/403 (credentials rejected), any other unexpected status, or an
                answer that does not fit the record model.
        """
        request_id = str(uuid.uuid4())
        url = f"{self.base_url}/{_PATHS[request.kind]}/{request.id_number}"
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            "X-Purpose": encode_purpose(request.purpose),
            # A look-up changes nothing, but every outbound call carries a key (DESIGN.md), and the
            # same id lets the gateway's PDPA log and ours be matched.
            "X-Request-ID": request_id,
            "Idempotency-Key": request_id,
        }
        try:
            response = self._client.get(url, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException as exc:
            raise RegistryUnavailable(f"registry at {self.base_url} did not answer within {self.timeout:g} s "
                                      f"({type(exc).__name__})", request_id=request_id) from exc
        except httpx.TransportError as exc:
            raise RegistryUnavailable(f"registry at {self.base_url} cannot be reached: "
                                      f"{self._scrub(str(exc)) or type(exc).__name__}",
                                      request_id=request_id) from exc
        return self._record(request, response, request_id)

    def _record(self, request: LookupRequest, response: httpx.Response,
                request_id: str) -> PersonRecord | JuristicRecord:
        status = response.status_code
        who = f"{'citizen' if request.kind == 'individual' else 'juristic person'} {mask_thai_id(request.id_number)}"
        if status == 404:
            raise NotRegistered(f"the registry has no {who}", request_id=request_id)
        if status in (401, 403):
            raise RegistryError(f"credentials rejected by the registry at {self.base_url} (HTTP {status}): "
                                "check the registry API key", request_id=request_id)
        if status >= 500 or status == 429:
            raise RegistryUnavailable(f"registry at {self.base_url} failed with HTTP {status}",
                                      request_id=request_id)
        if status != 200:
            raise RegistryError(f"registry at {self.base_url} answered HTTP {status} for {who}",
                                request_id=request_id)
        model = PersonRecord if request.kind == "individual" else JuristicRecord
        try:
            payload: Any = response.json()
            record = model.model_validate(payload)
        except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
            raise RegistryError(f"registry at {self.base_url} sent a {model.__name__} that does not fit: "
                                f"{_first_error(exc)}", request_id=request_id) from exc
        number = record.id_number if isinstance(record, PersonRecord) else record.registration_number
        if number != request.id_number:
            raise RegistryError(f"registry at {self.base_url} answered for a different number than {who}",
                                request_id=request_id)
        return record

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***")


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        # Only the field and the rule, never the value: it may be personal data.
        return f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
    return "not JSON"
