"""The development OpenID provider of `make run`: `oidc-provider-mock` (PyPI) in its own process.

With no BIZPORTAL_OIDC_ISSUER, `bizportal serve` on the embedded default starts it on a free port of
127.0.0.1 with a few sample people, so a newcomer can sign in on every page. Its sign-in page lets anyone
pick any person, so production settings refuse to start without a real provider (see `cli.serve`).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO

import httpx

from bizportal.engine.errors import StartupError

STARTUP_TIMEOUT_S = 20.0
CLIENT_ID = "bizportal-dev"
CLIENT_SECRET = "bizportal-dev-secret"  # the provider accepts any: a development client, no secret to keep

# Sample people (valid Thai ID numbers: the check digit holds), in the default claims map's names.
SOMCHAI = {"sub": "somchai", "pid": "1101700203450", "name": "Somchai Jaidee", "ial": "2.3", "aal": "2"}
MALEE = {"sub": "malee", "pid": "3100600123450", "name": "Malee Rakthai", "ial": "1.1", "aal": "1"}
SAMPLE_PEOPLE = (SOMCHAI, MALEE)


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(port: int, people: tuple[dict[str, str], ...] = SAMPLE_PEOPLE) -> ProviderProcess:
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
    return (f"Development OpenID provider at {issuer} (BIZPORTAL_OIDC_ISSUER is unset).\n"
            f"Sign in at {public_base_url.rstrip('/')}/auth/login and pick one of:\n{people}\n"
            f"(any other name signs in a person without an ID number). Development tokens from "
            f"`bizportal token` work as well.")
