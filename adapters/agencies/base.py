"""The agency adapter contract: how a step in an agency's lane reaches the agency, and its answer back.

An adapter package registers a class under the entry-point group `bizportal.agencies` (the engine's
`plugins.AGENCIES`); the built-in `inbox` and `webhook` adapters register the same way. Each agency's
configuration names the adapter that serves it, and the class is built once at start-up with that agency's
settings, checked against the class's `Settings` model, and the shared HTTP client (tests hand the client a
mock transport instead of patching):

    [project.entry-points."bizportal.agencies"]
    my_system = "my_package.adapter:MySystemAdapter"   # MySystemAdapter(MySystemAdapter.Settings(...), http)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field


class AgencyAdapterError(Exception):
    """Root of every error an agency adapter raises on purpose."""


class RetriableAgencyError(AgencyAdapterError):
    """The agency's system could not take the task now (down, timed out, 5xx): try again later."""


class FinalAgencyError(AgencyAdapterError):
    """The agency's system refused the task for good (4xx, bad configuration): retrying will not help."""


class InvalidCallback(AgencyAdapterError):
    """A callback is not authentic: missing or wrong signature, or a timestamp outside the replay window."""


class MalformedCallback(AgencyAdapterError):
    """A callback is authentic but its body is not a valid `CallbackDecision`."""


class DispatchApplicant(BaseModel):
    kind: str = Field(description="individual or juristic")
    id_number: str
    name: str


class DispatchBusiness(BaseModel):
    name: str
    address: str
    province: str
    district: str | None
    area_m2: float


class FeeBounds(BaseModel):
    """Approving this step sets the licence's fee: answer with `fee_satang` within these bounds."""

    min_satang: int
    max_satang: int | None


class TaskDispatch(BaseModel):
    """A step that became ready in the agency's lane, with what the agency needs to decide it."""

    delivery_id: str = Field(description="unique per delivery; sent as the Idempotency-Key")
    task_id: str = Field(description="quote it in the callback")
    application_id: str
    tracking_number: str | None
    licence_code: str
    step: str
    title: str
    title_th: str | None
    actions: list[str] = Field(description="the decisions the step allows; the callback's `action` is one of them")
    agency: str
    office: str | None = Field(description="the local office that handles the case, where the agency has offices")
    due_at: datetime | None = Field(description="the statutory deadline of the step")
    applicant: DispatchApplicant
    business: DispatchBusiness
    form: dict[str, Any] = Field(default_factory=dict, description="the applicant's own fields for this licence, "
                                 "as the officer sees them in Biz Portal (never a fee parameter)")
    sets_fee: FeeBounds | None = None
    callback_url: str = Field(description="where the agency's system POSTs its signed `CallbackDecision`")
    sent_at: datetime = Field(description="Biz Portal's time of sending; webhook adapters sign with it")


class DispatchResult(BaseModel):
    """The agency's answer to a dispatch; `accepted=False` is a refusal, handled like `FinalAgencyError`."""

    accepted: bool
    external_reference: str | None = Field(default=None, description="the agency's own id for the task")


class CallbackDecision(BaseModel):
    """The agency's decision on one task, as its system sends it back."""

    model_config = ConfigDict(extra="forbid")

    callback_id: str = Field(min_length=1, max_length=200,
                             description="unique per decision: a callback sent again with it changes nothing")
    task_id: str = Field(min_length=1, max_length=36)
    action: str = Field(min_length=1, max_length=60, description="one of the task's `actions`")
    comment: str = Field(default="", max_length=4000)
    fee_satang: int | None = Field(default=None, ge=0)
    documents: list[str] | None = Field(default=None, max_length=50,
                                        description="with request_documents: the manual's codes of the documents "
                                        "asked for (the comment says why)")
    officer: str = Field(min_length=1, max_length=150, description="who decided, in the agency's system")


@runtime_checkable
class AgencyAdapter(Protocol):
    """How one agency receives its steps and answers them."""

    name: str
    handles_tasks: bool
    """False when the agency's officers work in Biz Portal's own inbox: nothing is dispatched."""

    def dispatch(self, task: TaskDispatch) -> DispatchResult:
        """Hand a ready step to the agency's system.

        Args:
            task: the step and the case data the agency needs; `delivery_id` is the idempotency key
                (a retried delivery carries the same one).

        Returns:
            Whether the agency's system took the task, and its own reference for it.

        Raises:
            RetriableAgencyError: the system is unreachable or failing now; delivery is retried with back-off.
            FinalAgencyError: the system refused the task; an incident is opened for an administrator.
        """
        ...

    def parse_callback(self, headers: Mapping[str, str], body: bytes, now: datetime) -> CallbackDecision:
        """Authenticate and read the agency's answer to a step.

        Args:
            headers: the HTTP request headers (any case).
            body: the raw request body, exactly as received (signatures cover these bytes).
            now: the current time, to reject stale or replayed callbacks.

        Returns:
            The decision to apply.

        Raises:
            InvalidCallback: not authentic (answered with 401, nothing is changed).
            MalformedCallback: authentic but not a valid decision (answered with 422).
        """
        ...


class AgencyAdapterFactory(Protocol):
    """What an entry point of `bizportal.agencies` names: a class (or callable) building an adapter.

    Args:
        config: the agency's settings from `BIZPORTAL_AGENCY_ADAPTERS` (without the `adapter` key), as an
            instance of the class's pydantic `Settings` model when it declares one, else as a mapping.
        http: the shared HTTP client; use it for every outbound call.

    Raises:
        Exception: any error here (a missing setting, say) stops start-up with the agency named.
    """

    def __call__(self, config: Mapping[str, Any], http: httpx.Client) -> AgencyAdapter: ...
