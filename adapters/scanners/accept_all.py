"""The built-in document scanner, `accept_all`: it accepts every document and scans nothing.

The default (BIZPORTAL_DOCUMENT_SCANNER=accept_all), so an embedded set-up needs no scanner; the portal's own
checks still run. A deployment that must scan for malware installs and selects a real scanner plug-in.
"""

from __future__ import annotations

from typing import IO, Any

from pydantic import BaseModel, ConfigDict

from bizportal.adapters.scanners.base import ScannedDocument, ScanVerdict


class AcceptAllSettings(BaseModel):
    """`accept_all` takes no settings."""

    model_config = ConfigDict(extra="forbid")


class AcceptAllScanner:
    name = "accept_all"
    Settings = AcceptAllSettings

    @classmethod
    def from_settings(cls, settings: AcceptAllSettings, http: Any = None) -> AcceptAllScanner:
        return cls()

    def scan(self, document: ScannedDocument, content: IO[bytes]) -> ScanVerdict:
        return ScanVerdict(accepted=True)
