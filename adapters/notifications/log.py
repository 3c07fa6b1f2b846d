"""The embedded default channel: no mail server, so notifications are written to the log only.

The notification log of each application still shows every message; configure SMTP
(BIZPORTAL_SMTP_HOST and friends) to have them e-mailed.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict

from bizportal.adapters.notifications.base import DeliveryReceipt, Notification

log = logging.getLogger("bizportal.notifications")


class LogSettings(BaseModel):
    """The `log` plug-in takes no settings."""

    model_config = ConfigDict(extra="forbid")


class LogNotificationChannel:
    name = "log"
    Settings = LogSettings

    @classmethod
    def from_settings(cls, settings: LogSettings, http: Any = None) -> LogNotificationChannel:
        return cls()

    def send(self, notification: Notification) -> DeliveryReceipt:
        log.info("notification %s to %s: %s", notification.id, ", ".join(notification.to), notification.subject)
        return DeliveryReceipt(channel=self.name, message_id=f"log:{notification.id}", accepted=list(notification.to))
