"""The built-in `inbox` adapter: the agency's officers work in Biz Portal's own officer inbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from bizportal.adapters.agencies.base import CallbackDecision, DispatchResult, InvalidCallback, TaskDispatch


class InboxSettings(BaseModel):
    """The inbox adapter takes no settings: any key is a mistake worth stopping for."""

    model_config = ConfigDict(extra="forbid")


class InboxAgencyAdapter:
    """Tasks stay in `GET /api/v1/tasks`; nothing is sent anywhere and no callback is accepted."""

    name = "inbox"
    handles_tasks = False
    Settings = InboxSettings

    def __init__(self, config: InboxSettings | Mapping[str, Any] | None = None,
                 http: httpx.Client | None = None) -> None:
        unknown = sorted(set(config or {})) if not isinstance(config, InboxSettings) else []
        if unknown:
            raise ValueError(f"the inbox adapter takes no settings; remove {', '.join(unknown)}")

    def dispatch(self, task: TaskDispatch) -> DispatchResult:
        return DispatchResult(accepted=True)

    def parse_callback(self, headers: Mapping[str, str], body: bytes, now: datetime) -> CallbackDecision:
        raise InvalidCallback("this agency works in the inbox: decide its tasks at /api/v1/tasks")
