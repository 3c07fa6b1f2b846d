"""The development OpenID provider of `make run`: `oidc-provider-mock` (PyPI) in its own process.

With no BIZPORTAL_OIDC_ISSUER, `bizportal serve` on the embedded default starts it on a port of 127.0.0.1 (the
same one each run when it is free, kept in <data_dir>/dev-provider-port, so the issuer the staff register names
stays the same) with a few sample people, so a newcomer can sign in on every page. Its sign-in page lets anyone
pick any person, so production settings refuse to start without a real provider (see `cli.serve`).

It serves staff too, as a second client (`STAFF_CLIENT_ID`) of the same provider: the audience tells a staff
token from a citizen's (api/oidc.py `for_staff`). The sample staff are put into the staff register the first
time the service starts with this issuer (`seed_sample_staff`), never with production settings.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from sqlmodel import Session

from bizportal.api.stack.ports import free_port
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import StartupError
from bizportal.engine.principal import SYSTEM
from bizportal.engine.staff import register
from bizportal.engine.staff.register import StaffInput, StaffRole

STARTUP_TIMEOUT_S = 20.0
CLIENT_ID = "bizportal-dev"
CLIENT_SECRET = "bizportal-dev-secret"  # the provider accepts any: a development client, no secret to keep

# Sample people (valid Thai ID numbers: the check digit holds), in the default claims map's names.
SOMCHAI = {"sub": "somchai", "pid": "1101700203450", "name": "Somchai Jaidee", "ial": "2.3", "aal": "2"}
MALEE = {"sub": "malee", "pid": "3100600123450", "name": "Malee Rakthai", "ial": "1.1", "aal": "1"}
SAMPLE_PEOPLE = (SOMCHAI, MALEE)

STAFF_CLIENT_ID = "bizportal-staff-dev"
STAFF_CLIENT_SECRET = "bizportal-staff-dev-secret"
PORT_FILE = "dev-provider-port"


@dataclass(frozen=True)
class SampleStaff:
    """A sample staff member: what the provider says (`sub`, `name`) and what the register says."""

    sub: str
    name: str
    role: StaffRole
    agency: str | None = None
    office: str | None = None

    def claims(self) -> dict[str, str]:
        return {"sub": self.sub, "name": self.name}


OLIVIA = SampleStaff("olivia", "Olivia Srisuk", StaffRole.AGENCY_OFFICER, "LAO", "BKK-KHLONG-TOEI")
CARL = SampleStaff("carl", "Carl Boonmee", StaffRole.COUNTER_OFFICER, office="BKK-KHLONG-TOEI")
ADA = SampleStaff("ada", "Ada Wongsa", StaffRole.ADMIN)
SAMPLE_STAFF = (OLIVIA, CARL, ADA)
ALL_PEOPLE = (*SAMPLE_PEOPLE, *(person.claims() for person in SAMPLE_STAFF))  # the provider's sign-in page


@dataclass
class ProviderProcess:
    issuer: str
    process: subprocess.Popen[bytes]
    log: IO[bytes] = field(repr=False)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()



def stable_port(data_dir: Path) -> int:
    """The port of the last run (from <data_dir>/dev-provider-port) if it is free, else a free one, remembered."""
    path = data_dir / PORT_FILE
    try:
        port = int(path.read_text(encoding="utf-8").strip())
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))
        return port
    except (OSError, ValueError):
        port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{port}\n", encoding="utf-8")
        return port


def seed_sample_staff(ctx: EngineContext, session: Session, issuer: str) -> bool:
    """Put the sample staff into the register, the first time only: when it names nobody of `issuer` yet (so an
    administrator's later changes stay). True when they were added."""
    if register.names_anyone_of(session, issuer):
        return False
    for person in SAMPLE_STAFF:
        register.add(ctx, session, SYSTEM, StaffInput(issuer=issuer, subject=person.sub, role=person.role,
                                                      agency=person.agency, office=person.office, name=person.name))
    return True


def start(port: int, people: tuple[dict[str, str], ...] = ALL_PEOPLE) -> ProviderProcess:
    """Start the provider on 127.0.0.1:`port` and wait until its discovery document answers.

    Raises:
        StartupError: it did not start (its output is in the message).
    """
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    for person in people:
        command += ["--user-claims", json.dumps(person)]
    log = tempfile.TemporaryFile()  # not a pipe: a full pipe would stop the provider
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                return ProviderProcess(issuer, process, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    process.wait()
    log.seek(0)
    output = log.read().decode(errors="replace")[-2000:]
    log.close()
    raise StartupError(f"the development OpenID provider did not start on {issuer}: {output}",
                       hint="set BIZPORTAL_OIDC_ISSUER to a provider of your own")


def how_to_sign_in(public_base_url: str, issuer: str) -> str:
    people = "\n".join(f"    {person['sub']:<10} {person['name']} (IAL {person['ial']}, AAL {person['aal']})"
                       for person in SAMPLE_PEOPLE)
    base = public_base_url.rstrip("/")
    staff = "\n".join(f"    {person.sub:<10} {person.name} ({person.role.value}"
                      f"{''.join(', ' + part for part in (person.agency, person.office) if part)})"
                      for person in SAMPLE_STAFF)
    return (f"Development OpenID provider at {issuer} (BIZPORTAL_OIDC_ISSUER is unset).\n"
            f"Sign in at {base}/auth/login and pick one of:\n{people}\n"
            f"(any other name signs in a person without an ID number).\n"
            f"Staff sign in at {base}/auth/staff/login and pick one of (their role, agency and office come from the "
            f"staff register; `ada` manages it at /api/v1/staff):\n{staff}\n"
            f"(any other name is not in the register: 403). Development tokens from `bizportal token` work as well.")
