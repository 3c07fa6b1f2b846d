"""The HTTP journey under load: virtual users carry food-licence applications from create to issued.

Each virtual user is an entrepreneur in a Bangkok district of their own, with that district office's officer and
a counter officer. One round of a user, all over the service's HTTP API with bearer tokens the driver mints:

    create the draft -> upload the floor plan -> submit -> (the first task opens) -> the officer approves the
    document check -> and the consideration -> (the invoice opens) -> cash at the counter -> (issued)

Between commands the user reads the application's status (`GET /api/v1/applications/{id}/status`) until what
it waits for has happened, as a tracking page would; those reads are the status figures. Users run concurrently
(asyncio, one HTTP/1.1 connection pool), for `--seconds` at each count of `--users` (e.g. 1 then 8), and the
summary compares each count with the first: applications completed per second, commands per second, each
command's p50, the status read's p50 and p99.

    .venv/bin/python benchmarks/load_driver.py --serve                       # the embedded default (`make load`)
    .venv/bin/python benchmarks/load_driver.py --serve --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/load_driver.py --base-url http://127.0.0.1:8000 --signing-key "$KEY"

`--serve` starts `bizportal serve` on a free port with a temporary data folder and its own token key (and the
given database and Redis: with `--redis-url`, jobs go to arq, and the driver writes one key set and starts
`--workers` `bizportal worker` processes beside the server, README: Benchmarks). Against a running server, give its
BIZPORTAL_TOKEN_SIGNING_KEY. `--pgbench` measures PostgreSQL's own speed at a comparable step first, the yardstick
the commands per second are read against. Progress goes to stderr every few seconds; the summary (with the CPU each
kind of process spent per application) is printed and written to benchmarks/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import sqlalchemy
import yaml
from fpdf import FPDF

from bizportal.adapters.payments.promptpay_provider import sign_bank_notification
from bizportal.api.key_files import write_key_set
from bizportal.api.stack.ports import free_port
from bizportal.api.tokens import issue_token
from bizportal.engine.applications.thai_id import check_digit
from bizportal.engine.catalogue.catalogue import load_catalogue
from bizportal.engine.principal import Role
from bizportal.storage.scratch_schema import scratch_schema

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "load.json"
LICENCE = "food_premises_notice_small"
WAIT = 30.0  # seconds a user waits for a job (a task to open, the licence to be issued) before it is an error
UNAVAILABLE = frozenset({502, 503, 504})  # a part of the service down for a moment: the read is tried again
POLL = 0.05  # between status reads while waiting: a client polling 20 times a second (the tracking page's stream reads
# every 2 s); --poll changes it, and the summary says how many reads each application took


@dataclass(frozen=True)
class District:
    office: str
    name_th: str


def bangkok_districts() -> list[District]:
    """The Bangkok district offices of bpmn/offices.yaml: each routes the food licence of its district."""
    offices = yaml.safe_load((ROOT / "bpmn" / "offices.yaml").read_text(encoding="utf-8"))["offices"]
    return [District(office["code"], office["districts"][0]["name_th"]) for office in offices
            if office["kind"] == "bma_district" and "LAO" in office["agencies"]]


def thai_id(number: int) -> str:
    """A valid Thai citizen ID number for virtual user `number` (first digit 1, the check digit computed)."""
    first12 = f"1{number:011d}"
    return first12 + str(check_digit(first12))


def floor_plan() -> bytes:
    """A one-page PDF: the document the applicant provides for the food licence."""
    document = FPDF()
    document.add_page()
    return bytes(document.output())


@dataclass
class Figures:
    """What one run at one number of users measured."""

    users: int
    seconds: float = 0.0
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    commands: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # name -> ms
    status_reads: list[float] = field(default_factory=list)  # ms
    waits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # what -> ms until it happened
    issued: list[tuple[float, str, int]] = field(default_factory=list)  # (time.monotonic(), application id, user)
    failed_reads: int = 0  # status reads answered 502/503/504 or not at all (a server restarting): tried again

    def summary(self) -> dict[str, Any]:
        count = sum(len(times) for times in self.commands.values())
        return {
            "users": self.users, "seconds": round(self.seconds, 2), "applications_completed": self.completed,
            "applications_per_second": round(self.completed / self.seconds, 3) if self.seconds else 0,
            "commands": count, "commands_per_second": round(count / self.seconds, 2) if self.seconds else 0,
            "command_p50_ms": {name: _percentile(times, 50) for name, times in sorted(self.commands.items())},
            "status_reads": len(self.status_reads),
            "status_reads_per_application": round(len(self.status_reads) / self.completed, 1) if self.completed
            else None,
            "status_p50_ms": _percentile(self.status_reads, 50),
            "status_p99_ms": _percentile(self.status_reads, 99),
            "wait_p50_ms": {what: _percentile(times, 50) for what, times in self.waits.items()},
            "failed_status_reads": self.failed_reads,
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
        }


def _percentile(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[percent - 1], 2)


def applicant_headers(key: str, number: int) -> dict[str, str]:
    """The bearer header of virtual user `number`, the entrepreneur."""
    return _bearer(issue_token(key, f"load-user-{number}", Role.APPLICANT, id_number=thai_id(number),
                               name=f"ผู้ทดสอบ {number}"))


class VirtualUser:
    """One entrepreneur, their district office's officer and a counter officer, carrying applications through."""

    def __init__(self, number: int, district: District, key: str, client: aiohttp.ClientSession, figures: Figures,
                 form: dict[str, Any], document: str, pdf: bytes, poll: float = POLL, wait: float = WAIT,
                 bank_secret: str | None = None) -> None:
        self.client, self.figures, self.form, self.document, self.pdf = client, figures, form, document, pdf
        self.poll, self.wait = poll, wait
        self.bank_secret = bank_secret  # set: the fee is paid by PromptPay, and the bank notifies with this secret
        self.district, self.number = district, number
        self.id_number = thai_id(number)
        self.applicant = applicant_headers(key, number)
        self.officer = _bearer(issue_token(key, f"load-officer-{number}", Role.AGENCY_OFFICER, "LAO",
                                           office=district.office))
        self.counter = _bearer(issue_token(key, f"load-counter-{number}", Role.COUNTER_OFFICER,
                                           office=district.office))

    async def run_until(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                application = await self.one_application()
                self.figures.completed += 1
                self.figures.issued.append((time.monotonic(), application, self.number))
            except JourneyError as err:
                self.figures.errors.append(str(err))
                await asyncio.sleep(self.poll)  # as a person would, not at once
            except (TimeoutError, aiohttp.ClientError) as err:  # the server unreachable or too slow
                self.figures.errors.append(f"{type(err).__name__}: {err}")
                await asyncio.sleep(self.poll)

    async def one_application(self) -> str:
        created = await self._command("create", "POST", "/api/v1/applications", json=self._body(), expect=201)
        application = created["id"]
        upload = aiohttp.FormData()
        upload.add_field("document", self.document)
        upload.add_field("file", self.pdf, filename=f"{self.document}.pdf", content_type="application/pdf")
        await self._command("upload", "POST", f"/api/v1/applications/{application}/documents", expect=201,
                            data=upload)
        await self._command("submit", "POST", f"/api/v1/applications/{application}/submit")
        for step in ("document_check", "consideration"):
            task = await self._wait(application, _at_step(step), f"the {step} task to open",
                                    partial(self._open_task, application, step))
            await self._command("decide", "POST", f"/api/v1/tasks/{task}/complete", json={"action": "approve"},
                                headers=self.officer)
        invoice = await self._wait(application, lambda status: status["status"] == "awaiting_payment",
                                   "the invoice to open", lambda: self._open_invoice(application))
        if self.bank_secret is None:
            await self._command("pay", "POST", f"/api/v1/invoices/{invoice['id']}/counter-payment",
                                json={"amount_satang": invoice["amount_satang"]}, headers=self.counter)
        else:  # PromptPay: the bank notifies twice at once, as a bank retrying an unanswered notification does
            payment = await self._command("pay", "POST", f"/api/v1/invoices/{invoice['id']}/payments",
                                          json={"provider": "promptpay"}, expect=201)
            await asyncio.gather(*(self._bank_notifies(payment) for _ in range(2)))
        await self._wait(application, lambda status: status["finished"], "the licence to be issued",
                         _nothing)
        if self.bank_secret is not None:
            await self._bank_notifies(payment)  # and once more, late: after the licence was issued
        return application

    async def _bank_notifies(self, payment: dict[str, Any]) -> None:
        """The bank's signed payment notification for `payment` (adapters/payments/promptpay_provider.py)."""
        assert self.bank_secret is not None
        body = json.dumps({"event_id": f"bank-{payment['reference']}", "transaction_id": payment["reference"],
                           "ref1": payment["reference"], "amount": f"{payment['amount_satang'] / 100:.2f}",
                           "currency": "764", "paid_at": datetime.now(UTC).isoformat()}).encode()
        timestamp = str(int(time.time()))
        headers = {"X-Bank-Timestamp": timestamp, "Content-Type": "application/json",
                   "X-Bank-Signature": sign_bank_notification(self.bank_secret, timestamp, body)}
        await self._command("bank notification", "POST", "/api/v1/payments/webhooks/promptpay", data=body,
                            headers=headers)

    def _body(self) -> dict[str, Any]:
        return {"licences": [LICENCE],
                "applicant": {"kind": "individual", "id_number": self.id_number, "name": "ผู้ทดสอบ",
                              "email": "load@example.test"},
                "business": {"name": "ร้านทดสอบ", "address": f"1 ถนนทดสอบ เขต{self.district.name_th} กรุงเทพมหานคร",
                             "province": "กรุงเทพมหานคร", "district": self.district.name_th, "area_m2": 80},
                "form": {LICENCE: self.form}}

    async def _command(self, name: str, method: str, path: str, expect: int = 200,
                       headers: dict[str, str] | None = None, **request: Any) -> Any:
        start = time.perf_counter()
        async with self.client.request(method, path, headers=headers or self.applicant, **request) as response:
            body = await response.read()
        self.figures.commands[name].append((time.perf_counter() - start) * 1000)
        if response.status != expect:
            raise JourneyError(f"{name}: {response.status} {body[:300].decode(errors='replace')}")
        return json.loads(body)

    async def _wait(self, application: str, ready: Callable[[dict[str, Any]], bool], what: str,
                    then: Callable[[], Awaitable[Any]]) -> Any:
        """Read the status until `ready`, then return what `then` finds (None while it finds nothing)."""
        began = time.monotonic()
        deadline = began + self.wait
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                async with self.client.get(f"/api/v1/applications/{application}/status",
                                           headers=self.applicant) as response:
                    body = await response.read()
            except aiohttp.ClientError:  # unreachable for a moment (a restart): a tracking page tries again
                self.figures.failed_reads += 1
                await asyncio.sleep(self.poll)
                continue
            self.figures.status_reads.append((time.perf_counter() - start) * 1000)
            if response.status in UNAVAILABLE:
                self.figures.failed_reads += 1
            elif response.status != 200:
                raise JourneyError(f"status: {response.status} {body[:300].decode(errors='replace')}")
            elif ready(json.loads(body)) and (found := await then()) is not None:
                self.figures.waits[what].append((time.monotonic() - began) * 1000)
                return found
            await asyncio.sleep(self.poll)
        raise JourneyError(f"waited {self.wait:.0f} s for {what} of {application}")

    async def _open_task(self, application: str, step: str) -> str | None:
        async with self.client.get("/api/v1/tasks", headers=self.officer) as response:
            if response.status in UNAVAILABLE:
                return None
            listed = await response.json()
        tasks = [task["id"] for task in listed if task["application_id"] == application and task["step"] == step]
        return tasks[0] if tasks else None

    async def _open_invoice(self, application: str) -> dict[str, Any] | None:
        async with self.client.get(f"/api/v1/applications/{application}", headers=self.applicant) as response:
            if response.status in UNAVAILABLE:
                return None
            view = await response.json()
        return next((invoice for invoice in view["invoices"] if invoice["status"] == "open"), None)


class JourneyError(Exception):
    """An answer the journey did not expect: counted as an error, and the user starts a new application."""


async def _nothing() -> bool:
    return True


def _at_step(step: str) -> Callable[[dict[str, Any]], bool]:
    """The status says the licence waits at `step`."""
    return lambda status: next((licence["current_step"] for licence in status["licences"]), None) == step


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def run_once(base_url: str, key: str, users: int, seconds: float, first_user: int,
                   poll: float = POLL, wait: float = WAIT, bank_secret: str | None = None) -> Figures:
    catalogue = load_catalogue(ROOT / "bpmn")
    manual = catalogue.licences[LICENCE]
    form = {f.name: f.example() for f in manual.form.fields if f.required}
    document = next(d.id for d in manual.documents if d.required and not d.obtained_by_exchange)
    districts = bangkok_districts()
    figures = Figures(users)
    pdf = floor_plan()
    # aiohttp: about a fifth of httpx's CPU per request, and the driver shares the machine's cores with the service.
    connector = aiohttp.TCPConnector(limit=users * 2)
    async with aiohttp.ClientSession(base_url, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=wait)) as client:
        people = [VirtualUser(first_user + n, districts[(first_user + n) % len(districts)], key, client, figures,
                              form, document, pdf, poll, wait, bank_secret) for n in range(users)]
        start = time.monotonic()
        deadline = start + seconds
        progress = asyncio.create_task(_report_progress(figures, start))
        await asyncio.gather(*(person.run_until(deadline) for person in people))
        progress.cancel()
        figures.seconds = time.monotonic() - start
    return figures


async def _report_progress(figures: Figures, start: float) -> None:
    while True:
        await asyncio.sleep(5)
        elapsed = time.monotonic() - start
        print(f"  {figures.users} users, {elapsed:5.1f} s: {figures.completed} applications issued, "
              f"{sum(map(len, figures.commands.values()))} commands, {len(figures.errors)} errors",
              file=sys.stderr, flush=True)


PGBENCH_CLIENTS = 16
PGBENCH_ROWS = 10_000
PGBENCH_SCRIPT = """\\set id random(1, {rows})
BEGIN;
UPDATE instance SET document = jsonb_set(document, '{{step}}', to_jsonb(:id)), version = version + 1 WHERE id = :id;
INSERT INTO event (instance_id, body) VALUES (:id, '{{"kind": "step"}}');
COMMIT;
"""


def pgbench_composite(database_url: str, seconds: float) -> dict[str, Any]:
    """The database's own speed at a step like a command's: update a 5 KB JSON row by key and insert an event.

    Runs `pgbench` with PGBENCH_CLIENTS clients for `seconds` on tables in a schema of its own (dropped after), in
    the same run as the journey, so the service's commands per second can be read as a share of it.
    """
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with scratch_schema(url, "pgbench_yardstick_") as scratch:  # pgbench takes the URL (and its search_path) too
        engine = sqlalchemy.create_engine(scratch.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(
                "CREATE TABLE instance (id int PRIMARY KEY, version int NOT NULL, document jsonb NOT NULL)"))
            connection.execute(sqlalchemy.text(
                "CREATE TABLE event (id bigserial PRIMARY KEY, instance_id int NOT NULL, body jsonb NOT NULL, "
                "at timestamptz NOT NULL DEFAULT now())"))
            # 5 KB of hex digits: random enough that TOAST's compression does not shrink the row to nothing.
            connection.execute(sqlalchemy.text(
                "INSERT INTO instance SELECT n, 0, jsonb_build_object('step', 0, 'padding', "
                "(SELECT string_agg(md5(random()::text || n || g), '') FROM generate_series(1, 156) g)) "
                f"FROM generate_series(1, {PGBENCH_ROWS}) n"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sqlalchemy.text("VACUUM ANALYZE instance"))
        engine.dispose()
        with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
            script.write(PGBENCH_SCRIPT.format(rows=PGBENCH_ROWS))
            script.flush()
            done = subprocess.run(["pgbench", "-n", "-c", str(PGBENCH_CLIENTS), "-j", "2", "-T",
                                   str(max(1, round(seconds))), "-f", script.name, scratch],
                                  capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"pgbench failed: {done.stderr.strip()}")
    tps = next(float(line.split("=")[1].split()[0]) for line in done.stdout.splitlines()
               if line.startswith("tps ="))
    return {"step": "UPDATE a 5 KB jsonb row by key + INSERT an event, one transaction", "clients": PGBENCH_CLIENTS,
            "seconds": round(seconds), "tps": tps}


def cpu_seconds(pids: dict[str, list[int]], servers: tuple[str, ...] = ()) -> dict[str, float]:
    """CPU seconds (user + system) spent so far by each kind of process of the run, read from /proc (Linux).

    The kinds: the API and the workers (their process ids), this driver, and the servers named in `servers`
    ("postgres", "redis-server": every process of that name, so on a shared machine other clients' work too).
    """
    tick = os.sysconf("SC_CLK_TCK")

    def used(pid: int | str) -> tuple[str, float]:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # gone meanwhile
            return "", 0.0
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        # utime, stime, and cutime, cstime: the children it reaped (PostgreSQL's backends of closed connections
        # are reaped by the postmaster; without them the servers' CPU would drop when a connection closes)
        return name, sum(int(value) for value in fields[11:15]) / tick

    spent = {kind: sum(used(pid)[1] for pid in ids) for kind, ids in pids.items() if ids}
    spent["driver"] = time.process_time()
    totals = dict.fromkeys(servers, 0.0)
    for entry in Path("/proc").iterdir() if servers else ():
        if entry.name.isdigit():
            name, seconds = used(entry.name)
            if name in totals:
                totals[name] += seconds
    return spent | totals



@contextmanager
def served(database_url: str | None, redis_url: str | None,
           workers: int = 0) -> Iterator[tuple[str, str, dict[str, list[int]]]]:
    """`bizportal serve` on a free port with a temporary data folder: (its base URL, its token key, the process ids of
    the API and the workers).

    With `workers`, that many `bizportal worker` processes run beside it on the same settings (the same data folder,
    so the same signing keys and object store): the production shape of one API process and arq workers.
    """
    key = secrets.token_urlsafe(48)
    port = free_port()
    command = str(Path(sys.executable).parent / "bizportal")
    with tempfile.TemporaryDirectory(prefix="bizportal-load-") as folder:
        env = {**os.environ, "BIZPORTAL_DATA_DIR": folder, "BIZPORTAL_TOKEN_SIGNING_KEY": key,
               "BIZPORTAL_PORT": str(port)}
        for name, value in (("BIZPORTAL_DATABASE_URL", database_url), ("BIZPORTAL_REDIS_URL", redis_url)):
            if value:
                env[name] = value
        if redis_url:  # jobs on workers: one key set for every process, as `bizportal keys` makes for a deployment
            verification, pdf_key, pdf_cert, token_key = write_key_set(Path(folder) / "keys")
            key = token_key.read_text(encoding="utf-8").strip()
            env |= {"BIZPORTAL_VERIFICATION_KEY": str(verification), "BIZPORTAL_LICENCE_SIGNING_KEY": str(pdf_key),
                    "BIZPORTAL_LICENCE_SIGNING_CERT": str(pdf_cert), "BIZPORTAL_TOKEN_SIGNING_KEY": key}
            # Production settings refuse the development sign-in; the journey uses only the tokens minted here, so
            # a provider address that is never asked (nothing listens on the discard port) satisfies the check.
            env.setdefault("BIZPORTAL_OIDC_ISSUER", "http://127.0.0.1:9")
            env.setdefault("BIZPORTAL_OIDC_CLIENT_ID", "load-driver")
            env.setdefault("BIZPORTAL_OIDC_CLIENT_SECRET", secrets.token_urlsafe(16))
        server = subprocess.Popen([command, "serve", "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        processes = [server]
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(base, server)  # the server migrates the database before the workers use it
            processes += [subprocess.Popen([command, "worker"], env=env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL) for _ in range(workers)]
            yield base, key, {"api": [server.pid], "workers": [process.pid for process in processes[1:]]}
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)


def _wait_until_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped: {(server.stderr.read() if server.stderr else b'').decode()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server on {base} was not ready after 90 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help="start `bizportal serve` for the run")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="a running server (without --serve)")
    parser.add_argument("--signing-key", default=os.environ.get("BIZPORTAL_TOKEN_SIGNING_KEY"),
                        help="that server's BIZPORTAL_TOKEN_SIGNING_KEY")
    parser.add_argument("--database-url", help="with --serve: BIZPORTAL_DATABASE_URL (default: SQLite)")
    parser.add_argument("--redis-url", help="with --serve: BIZPORTAL_REDIS_URL (jobs on arq workers)")
    parser.add_argument("--workers", default="1",
                        help="with --serve and --redis-url: numbers of `bizportal worker` processes, a server started "
                             "afresh for each (e.g. 1,2,4 for the curve; default 1)")
    parser.add_argument("--pgbench", action="store_true",
                        help="first measure pgbench's composite step on --database-url (PostgreSQL) as the yardstick")
    parser.add_argument("--users", default="1,8", help="numbers of virtual users, one run each (default 1,8)")
    parser.add_argument("--seconds", type=float, default=20, help="length of each run")
    parser.add_argument("--warmup", type=float, default=3,
                        help="seconds of the journey, not counted, before the runs of each server (the first licence "
                             "in a process loads its fonts; pools fill)")
    parser.add_argument("--poll", type=float, default=POLL, help="seconds between status reads while waiting")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    counts = [int(count) for count in args.users.split(",")]
    worker_counts = [int(count) for count in args.workers.split(",")] if args.serve and args.redis_url else [0]
    if not args.serve and not args.signing_key:
        raise SystemExit("give --signing-key (the server's BIZPORTAL_TOKEN_SIGNING_KEY), or use --serve")

    yardstick = None
    if args.pgbench:
        if not (args.database_url or "").startswith("postgres"):
            raise SystemExit("--pgbench needs --database-url postgresql://...")
        print(f"pgbench composite step, {PGBENCH_CLIENTS} clients, {args.seconds:.0f} s ...", file=sys.stderr,
              flush=True)
        yardstick = pgbench_composite(args.database_url, args.seconds)

    @contextmanager
    def server(workers: int) -> Iterator[tuple[str, str, dict[str, list[int]]]]:
        if args.serve:
            with served(args.database_url, args.redis_url, workers) as running:
                yield running
        else:
            yield args.base_url, args.signing_key, {}

    servers = (("postgres",) if (args.database_url or "").startswith("postgres") else ()) + \
        (("redis-server",) if args.redis_url else ()) if args.serve else ()
    runs: list[dict[str, Any]] = []
    first_user = 0
    for workers in worker_counts:
        with server(workers) as (base, key, pids):
            if args.warmup:
                print(f"warming up for {args.warmup:.0f} s ...", file=sys.stderr, flush=True)
                asyncio.run(run_once(base, key, max(counts), args.warmup, first_user, args.poll))
                first_user += max(counts)
            for users in counts:
                print(f"{users} virtual users, {workers or 'no'} arq workers, for {args.seconds:.0f} s against "
                      f"{base} ...", file=sys.stderr, flush=True)
                before = cpu_seconds(pids, servers)
                figures = asyncio.run(run_once(base, key, users, args.seconds, first_user, args.poll))
                spent = {kind: seconds - before[kind] for kind, seconds in cpu_seconds(pids, servers).items()}
                first_user += users  # new people each run: no application of an earlier run in their lists
                runs.append({"workers": workers, **figures.summary(),
                             "cpu_ms_per_application": {kind: round(1000 * seconds / figures.completed, 1)
                                                        for kind, seconds in spent.items()} if figures.completed
                             else None,
                             "cpu_busy_share": round(sum(spent.values()) / figures.seconds / (os.cpu_count() or 1),
                                                     3)})
    if yardstick:
        for run in runs:
            run["commands_share_of_pgbench"] = round(run["commands_per_second"] / yardstick["tps"], 4)
    _print(runs, yardstick)
    database = ("PostgreSQL" if (args.database_url or "").startswith("postgres") else "SQLite") if args.serve \
        else "the server's"
    jobs = ("arq workers" if args.redis_url else "in-process") if args.serve else "the server's"
    result = {"journey": f"{LICENCE}: create, upload, submit, 2 decisions, counter payment, issued",
              "status_poll_seconds": args.poll, "warmup_seconds": args.warmup,
              "server": "started by the driver" if args.serve else args.base_url, "database": database, "jobs": jobs,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_average": os.getloadavg()},
              "pgbench": yardstick, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out}")


def _print(runs: list[dict[str, Any]], yardstick: dict[str, Any] | None) -> None:
    if yardstick:
        print(f"\npgbench composite step ({yardstick['step']}): {yardstick['tps']:.0f} per second, "
              f"{yardstick['clients']} clients")
    firsts: dict[int, dict[str, Any]] = {}  # the first run of each number of workers: the p99 each run is compared with
    for run in runs:
        firsts.setdefault(run["workers"], run)
    print(f"\n{'workers':>7} {'users':>5} {'apps/s':>7} {'cmds/s':>7} {'of pgbench':>10} {'status p50':>10} {'p99':>7} "
          f"{'p99 vs 1st':>10} {'errors':>6}  command p50 ms")
    for run in runs:
        base = firsts[run["workers"]]
        ratio = (run["status_p99_ms"] / base["status_p99_ms"]) if run["status_p99_ms"] and base["status_p99_ms"] \
            else None
        share = run.get("commands_share_of_pgbench")
        p50s = " ".join(f"{name} {value}" for name, value in run["command_p50_ms"].items())
        print(f"{run['workers'] or '-':>7} {run['users']:>5} {run['applications_per_second']:>7} "
              f"{run['commands_per_second']:>7} {f'{share:.2%}' if share is not None else '-':>10} "
              f"{run['status_p50_ms'] or '-':>10} {run['status_p99_ms'] or '-':>7} "
              f"{f'{ratio:.2f}x' if ratio else '-':>10} {run['errors']:>6}  {p50s}")
        if run["wait_p50_ms"]:
            waits = ", ".join(f"{what} {ms}" for what, ms in run["wait_p50_ms"].items())
            print(f"{'':>14} waits p50 ms: {waits}")
        if run.get("cpu_ms_per_application"):
            budget = ", ".join(f"{kind} {ms}" for kind, ms in run["cpu_ms_per_application"].items())
            print(f"{'':>14} CPU ms per application: {budget} (all cores {run['cpu_busy_share']:.0%} busy)")


if __name__ == "__main__":
    main()
