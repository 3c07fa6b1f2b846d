"""`bizportal serve | prod-local | worker | migrate | check | token | keys | staff add | audit verify |
bpmn generate | backup create|restore|verify`."""

from __future__ import annotations

import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import SecretStr

from bizportal.api import dev_provider
from bizportal.api.settings import Settings, settings_environment
from bizportal.api.tokens import issue_token
from bizportal.engine.assurance import DEVELOPMENT_AAL, DEVELOPMENT_IAL
from bizportal.engine.errors import StartupError
from bizportal.engine.principal import Principal, Role
from bizportal.engine.staff.register import StaffRole
from bizportal.storage.database import transaction

app = typer.Typer(help="Biz Portal engine", no_args_is_help=True)
bpmn_app = typer.Typer(help="The licence processes derived from their manuals", no_args_is_help=True)
app.add_typer(bpmn_app, name="bpmn")
staff_app = typer.Typer(help="The staff register (who signs in as staff, with which role, agency and office)",
                        no_args_is_help=True)
app.add_typer(staff_app, name="staff")
backup_app = typer.Typer(help="Back up the database and the object store into a folder, restore, verify "
                         "(docs/operations.md)", no_args_is_help=True)
app.add_typer(backup_app, name="backup")
audit_app = typer.Typer(help="The audit trail (who did what, when), a hash chain", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for `serve`: the h11 parser, which bounds the request head it buffers (httptools
    reads headers of any size), and no `server: uvicorn` banner."""
    return {"http": "h11", "h11_max_incomplete_event_size": settings.max_header_bytes, "server_header": False,
            "log_level": settings.log_level}


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="default BIZPORTAL_HOST")] = None,
          port: Annotated[int | None, typer.Option(help="default BIZPORTAL_PORT")] = None,
          processes: Annotated[int, typer.Option(min=1, max=64, help="API processes sharing the port (uvicorn's "
                                                 "workers; the database is migrated once, before they start)")] = 1,
          ) -> None:
    """Migrate, load every definition, and serve the HTTP API."""
    import uvicorn

    from bizportal.api.app import create_app
    from bizportal.api.composition import settle_process

    settings = Settings()
    if (host or port) and "public_base_url" not in settings.model_fields_set:  # listening elsewhere: links follow
        listening = f"http://{host or settings.host}:{port or settings.port}"
        settings = settings.model_copy(update={"public_base_url": listening})
    development_provider = not settings.oidc_issuer and not settings.is_production()
    development_staff = development_provider and not settings.staff_oidc_issuer
    if development_provider:  # `make run`: sign-in through a local provider with sample people
        issuer = f"http://127.0.0.1:{dev_provider.stable_port(settings.data_dir)}"
        settings = settings.model_copy(update={"oidc_issuer": issuer, "oidc_client_id": dev_provider.CLIENT_ID,
                                               "oidc_client_secret": SecretStr(dev_provider.CLIENT_SECRET)})
        if development_staff:  # staff too, as a second client of the same provider, with sample staff
            settings = settings.model_copy(update={
                "staff_oidc_issuer": issuer, "staff_oidc_client_id": dev_provider.STAFF_CLIENT_ID,
                "staff_oidc_client_secret": SecretStr(dev_provider.STAFF_CLIENT_SECRET)})
    try:
        application = create_app(settings, background_sweeper=True)
        if development_staff and settings.staff_oidc_issuer:
            engine = application.state.engine
            with transaction(engine.db) as session:
                dev_provider.seed_sample_staff(engine.ctx, session, settings.staff_oidc_issuer)
        if settings.is_production() and not settings.oidc_issuer:
            raise StartupError("production settings need a real OpenID provider: BIZPORTAL_OIDC_ISSUER is unset "
                               "(the development provider of `make run` lets anyone sign in as anyone)",
                               hint="set BIZPORTAL_OIDC_ISSUER, BIZPORTAL_OIDC_CLIENT_ID and "
                               "BIZPORTAL_OIDC_CLIENT_SECRET (README: Signing in)")
        provider = dev_provider.start(int(settings.oidc_issuer.rsplit(":", 1)[1])) \
            if development_provider and settings.oidc_issuer else None
    except StartupError as err:  # settings or a plug-in that cannot work, a bad BPMN or manual file: say which, stop
        _cannot_start(err)
    if processes > 1:  # each process builds its own app from the settings, which go to it through the environment
        application.state.engine.db.dispose()  # the parent serves nothing: its connections would only sit idle
        os.environ.update(settings_environment(settings))
    else:
        settle_process()
    if provider is not None:
        typer.echo(dev_provider.how_to_sign_in(settings.public_base_url, provider.issuer))
        # uvicorn re-raises the SIGTERM it shut down on: exit through `finally` then, so the provider stops too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        served: Any = application if processes == 1 else "bizportal.api.app:app_from_environment"
        uvicorn.run(served, host=host or settings.host, port=port or settings.port, workers=processes,
                    factory=processes > 1, **server_options(settings))
    finally:
        if provider is not None:
            provider.stop()


@app.command("prod-local")
def prod_local(
        port: Annotated[int, typer.Option(help="the one port of the API processes")] = 8000,
        database_url: Annotated[str, typer.Option(help="PostgreSQL; the database is created if missing")]
        = "postgresql://postgres@127.0.0.1:5432/bizportal_local",
        redis_url: Annotated[str, typer.Option(help="Redis, a database number of its own")]
        = "redis://127.0.0.1:6379/5",
        folder: Annotated[Path, typer.Option(help="keys, SeaweedFS's data and every process's log")]
        = Path("var/prod-local"),
) -> None:
    """The production shape on this machine: SeaweedFS, 2 API processes on one port and 2 arq workers on the
    machine's PostgreSQL and Redis, one key set, migrations once. Stops everything on Ctrl-C."""
    from bizportal.api.stack.launcher import machine_stack

    stack = machine_stack(folder.resolve(), database_url, redis_url, port)
    try:
        stack.start()
    except (RuntimeError, TimeoutError, FileNotFoundError, StartupError) as err:
        typer.echo(f"cannot start the production shape: {err}", err=True)
        raise typer.Exit(code=2) from err
    typer.echo(f"Biz Portal (production shape) at {stack.url}: 2 API processes, 2 workers, SeaweedFS at "
               f"{stack.store.url}, logs in {folder / 'logs'}. Ctrl-C stops everything.")
    if stack.provider is not None:
        typer.echo(dev_provider.how_to_sign_in(stack.url, stack.provider.issuer))
    try:  # blocked only now: the processes started above would inherit the mask
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        typer.echo("stopping ...")
        stack.stop()


@app.command()
def worker() -> None:
    """Run an arq worker (needs BIZPORTAL_REDIS_URL)."""
    from bizportal.api.worker import run_worker

    try:
        run_worker(Settings())
    except StartupError as err:
        _cannot_start(err)


def _cannot_start(err: StartupError) -> NoReturn:
    typer.echo(f"cannot start: {err.message}" + (f" ({err.hint})" if err.hint else ""), err=True)
    raise typer.Exit(code=2) from err


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from bizportal.storage.database import make_engine
    from bizportal.storage.migrate import upgrade_to_head

    settings = Settings()
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade_to_head(make_engine(settings.resolved_database_url()))
    typer.echo("database is at the newest revision")


@app.command()
def check() -> None:
    """Check the invariants of the whole system on the database (engine/reporting/consistency.py): print each
    violation and a summary; exit 1 when any. Read on a settled system: work in flight may look like a gap."""
    from collections import Counter

    from bizportal.engine.clock import SystemClock
    from bizportal.engine.reporting.consistency import check_consistency
    from bizportal.storage.database import make_engine, read_session

    engine = make_engine(Settings().resolved_database_url())
    # One snapshot for every query (SQLite's read transaction is one already), so a busy system is read as it was
    # at one moment, not half before and half after a payment.
    snapshot = engine.execution_options(isolation_level="REPEATABLE READ") \
        if engine.dialect.name == "postgresql" else engine
    try:
        with read_session(snapshot) as session:
            violations = check_consistency(session, SystemClock().now())
    finally:
        engine.dispose()
    for violation in violations:
        typer.echo(f"{violation.invariant}: {violation.subject}: {violation.detail}")
    if not violations:
        typer.echo("every invariant holds")
        return
    counts = Counter(violation.invariant for violation in violations)
    typer.echo(f"{len(violations)} violations: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items())),
               err=True)
    raise typer.Exit(code=1)


@app.command()
def token(role: Annotated[Role, typer.Option(help="applicant, counter_officer, agency_officer or admin")],
          subject: Annotated[str, typer.Option(help="the user's id (the `sub` claim); an applicant's is their 13-digit "
                                               "national ID number")],
          agency: Annotated[str | None, typer.Option(help="agency code, required for agency officers")] = None,
          office: Annotated[str | None, typer.Option(help="local office code (e.g. BKK-BANG-RAK) for local-government "
                                                     "officers, and the office of a counter officer's counter")] = None,
          hours: Annotated[int, typer.Option(help="validity in hours")] = 12,
          name: Annotated[str | None, typer.Option(help="the person's display name (e.g. on the receipts a counter "
                                                   "officer issues)")] = None,
          ial: Annotated[str, typer.Option(help="identity assurance level of the sign-in (DGA notation: 1.1, 1.2, "
                                                "1.3, 2.1, 2.2, 2.3 or 3)")] = DEVELOPMENT_IAL,
          aal: Annotated[str, typer.Option(help="authenticator assurance level of the sign-in (1, 2 or 3)")]
          = DEVELOPMENT_AAL) -> None:
    """Print a bearer token signed with the configured key.

    The token always carries `ial` and `aal`; an applicant is the person whose 13-digit ID number is the
    subject (the token also carries it as `id_number`), since applications belong to an ID number.
    """
    settings = Settings()
    if not 0 < hours * 60 <= settings.token_max_lifetime_minutes:
        raise typer.BadParameter(f"--hours must be from 1 to {settings.token_max_lifetime_minutes // 60}: the "
                                 "server refuses tokens that live longer (BIZPORTAL_TOKEN_MAX_LIFETIME_MINUTES)")
    try:
        key = settings.signing_key()
    except StartupError as err:
        _cannot_start(err)
    try:
        id_number = subject if role == Role.APPLICANT else None
        typer.echo(issue_token(key, subject, role, agency, ttl=timedelta(hours=hours), office=office, name=name,
                               id_number=id_number, ial=ial, aal=aal))
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err


@app.command()
def keys(folder: Annotated[Path, typer.Argument(help="the folder to write the key set into (created if missing)")],
         organization: Annotated[str, typer.Option(help="named in the PDF signing certificate")] = "Biz Portal",
         ) -> None:
    """Write a new set of signing keys for a deployment: every API and worker process must use the same set."""
    from bizportal.api.key_files import write_key_set

    try:
        verification, pdf_key, pdf_cert, token_key = write_key_set(folder, organization)
    except FileExistsError as err:
        typer.echo(f"cannot write the keys: {err}", err=True)
        raise typer.Exit(code=1) from err
    typer.echo(f"wrote a key set into {folder} (private keys mode 0600). Give every API and worker process:\n"
               f"  BIZPORTAL_VERIFICATION_KEY={verification}\n"
               f"  BIZPORTAL_LICENCE_SIGNING_KEY={pdf_key}\n"
               f"  BIZPORTAL_LICENCE_SIGNING_CERT={pdf_cert}\n"
               f"  BIZPORTAL_TOKEN_SIGNING_KEY=<the content of {token_key}>\n"
               "(paths as the processes see them; docker-compose.yml mounts this folder's files as secrets).\n"
               "Back the folder up: without the verification key no printed QR code can be checked again.")


# Who the audit trail names for a change made with the CLI: the operator at the server, not a signed-in person.
OPERATOR = Principal(subject="operator-cli", role=Role.ADMIN, name="bizportal staff (command line)")


@staff_app.command("add")
def staff_add(issuer: Annotated[str, typer.Option(help="the staff provider's issuer URL "
                                                 "(BIZPORTAL_STAFF_OIDC_ISSUER)")],
              subject: Annotated[str, typer.Option(help="the provider's `sub` for the person")],
              role: Annotated[StaffRole, typer.Option(help="counter_officer, agency_officer, agency_supervisor or "
                                                      "admin")],
              agency: Annotated[str | None, typer.Option(help="agency code, required for agency officers and "
                                                         "supervisors")] = None,
              office: Annotated[str | None, typer.Option(help="local office code (e.g. BKK-KHLONG-TOEI)")] = None,
              name: Annotated[str | None, typer.Option(help="display name")] = None) -> None:
    """Add a person to the staff register: bootstraps the first administrator, who then manages the register
    through /api/v1/staff. Audited as the operator."""
    from pydantic import ValidationError

    from bizportal.api.composition import engine_from
    from bizportal.engine.errors import BizPortalError
    from bizportal.engine.staff import register
    from bizportal.engine.staff.register import StaffInput

    try:
        data = StaffInput(issuer=issuer, subject=subject, role=role, agency=agency, office=office, name=name)
    except ValidationError as err:
        problems = "; ".join(f"--{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in err.errors())
        raise typer.BadParameter(problems) from err
    try:
        engine = engine_from(Settings())
    except StartupError as err:
        _cannot_start(err)
    try:
        with transaction(engine.db) as session:
            member, _ = register.add(engine.ctx, session, OPERATOR, data)
    except BizPortalError as err:
        typer.echo(f"cannot add: {err.message}" + (f" ({err.hint})" if err.hint else ""), err=True)
        raise typer.Exit(code=1) from err
    finally:
        engine.db.dispose()
    place = ", ".join(part for part in (member.agency, member.office) if part)
    typer.echo(f"added {member.subject} of {member.issuer} as {member.role.value}{' (' + place + ')' if place else ''}"
               f": entry {member.id}")


@backup_app.command("create")
def backup_create(folder: Annotated[Path, typer.Argument(help="a new (or empty) folder to write the backup into")]
                  ) -> None:
    """Copy the configured database (pg_dump, or SQLite's online backup) and every object of the configured store
    into FOLDER, with a manifest of sha256s. The signing keys are not in it: back their folder up separately."""
    from bizportal.api.composition import object_store_from
    from bizportal.engine.clock import SystemClock
    from bizportal.storage.backup import create_backup
    from bizportal.storage.backup_manifest import BackupError

    settings = Settings()
    try:
        manifest = create_backup(folder, settings.resolved_database_url(), object_store_from(settings),
                                 SystemClock().now())
    except StartupError as err:
        _cannot_start(err)
    except BackupError as err:
        _backup_failed("back up", str(err), err)
    typer.echo(f"backed up the {manifest.database.kind} database (schema revision "
               f"{manifest.database.alembic_revision}) and {len(manifest.objects)} object(s) into {folder}")


@backup_app.command("restore")
def backup_restore(folder: Annotated[Path, typer.Argument(help="a folder `bizportal backup create` wrote")],
                   verify: Annotated[bool, typer.Option(help="then check every licence, receipt and upload "
                                                        "(`bizportal backup verify`)")] = True) -> None:
    """Restore FOLDER into the configured database and object store, both empty: refused otherwise. Every file is
    checked against the manifest first, every object read back after it is stored."""
    from bizportal.api.composition import object_store_from
    from bizportal.storage.backup import restore_backup
    from bizportal.storage.backup_manifest import BackupError

    settings = Settings()
    try:
        manifest = restore_backup(folder, settings.resolved_database_url(), object_store_from(settings))
    except StartupError as err:
        _cannot_start(err)
    except BackupError as err:
        _backup_failed("restore", str(err), err)
    typer.echo(f"restored the database (schema revision {manifest.database.alembic_revision}) and "
               f"{len(manifest.objects)} object(s) from {folder}, taken {manifest.created_at.isoformat()}")
    if verify:
        backup_verify()


@backup_app.command("verify")
def backup_verify() -> None:
    """Check that every issued licence's PDF is stored, unchanged and validly signed, and that every receipt and
    kept upload is stored with the bytes recorded. Exit 1 listing what is wrong."""
    from bizportal.api.composition import engine_from
    from bizportal.engine.errors import BizPortalError
    from bizportal.engine.integrity import check_integrity
    from bizportal.storage.database import read_session
    from bizportal.storage.object_store import ObjectStoreError

    try:
        engine = engine_from(Settings())
    except StartupError as err:
        _cannot_start(err)
    try:
        with read_session(engine.db) as session:
            report = check_integrity(engine.ctx, session)
    except BizPortalError as err:
        _backup_failed("verify", f"{err.message}" + (f" ({err.hint})" if err.hint else ""), err)
    except ObjectStoreError as err:
        _backup_failed("verify", f"the object store cannot be read: {err}", err)
    finally:
        engine.db.dispose()
    checked = f"{report.licences} licence(s), {report.receipts} receipt(s), {report.documents} uploaded document(s)"
    if not report.sound:
        typer.echo(f"checked {checked}: {len(report.problems)} problem(s)", err=True)
        for problem in report.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"checked {checked}: every one stored as recorded, every licence's signature valid")


def _backup_failed(doing: str, message: str, err: Exception) -> NoReturn:
    typer.echo(f"cannot {doing}: {message}", err=True)
    raise typer.Exit(code=1) from err

@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain from its first entry to its head: exit 0 and print the count and the
    head's hash when intact; exit 1 saying where it first breaks (position, entry id, event) and how."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from bizportal.storage.audit_verification import verify_chain
    from bizportal.storage.database import make_engine

    url = Settings().resolved_database_url()
    database = make_url(url).database
    if url.startswith("sqlite") and database and database != ":memory:" and not Path(database).is_file():
        typer.echo(f"cannot verify: there is no database at {database} (BIZPORTAL_DATABASE_URL, "
                   "BIZPORTAL_DATA_DIR)", err=True)
        raise typer.Exit(code=2)
    db = make_engine(url)
    try:
        report = verify_chain(db)
    except SQLAlchemyError as err:  # unreachable, or not migrated: say so in a line, not a trace
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        typer.echo(f"cannot verify: the database could not be read ({reason}); is it reachable and migrated "
                   "(`bizportal migrate`)?", err=True)
        raise typer.Exit(code=2) from err
    finally:
        db.dispose()
    if report.broken is not None:
        broken = report.broken
        where = ", ".join(part for part in (
            f"position {broken.position}" if broken.position is not None else "",
            f"entry id {broken.entry_id}" if broken.entry_id is not None else "",
            f"event {broken.event}" if broken.event is not None else "") if part)
        typer.echo(f"audit trail BROKEN{' at ' + where if where else ''}: {broken.problem}", err=True)
        typer.echo(f"{report.entries} entries checked intact before the break", err=True)
        raise typer.Exit(code=1)
    entries = "1 entry" if report.entries == 1 else f"{report.entries} entries"
    typer.echo(f"audit trail intact: {entries}, head hash {report.head_hash}")


@bpmn_app.command("generate")
def bpmn_generate(
        check: Annotated[bool, typer.Option("--check", help="write nothing; exit 1 listing stale files")] = False,
        directory: Annotated[Path | None, typer.Option("--dir", help="default BIZPORTAL_BPMN_DIR")] = None) -> None:
    """Write process.bpmn beside every manual.yaml whose shape is not `custom`."""
    from bizportal.engine.catalogue.bpmn_generator import generate_all
    from bizportal.engine.catalogue.manual import ManualError

    root = directory or Settings().bpmn_dir
    if not root.is_dir():
        typer.echo(f"cannot generate: {root} is not a directory", err=True)
        raise typer.Exit(code=2)
    try:
        changed = generate_all(root, check=check)
    except (ManualError, ValueError) as err:
        typer.echo(f"cannot generate: {err}", err=True)
        raise typer.Exit(code=2) from err
    if check:
        if changed:
            typer.echo("out of date (run `bizportal bpmn generate`):", err=True)
            for path in changed:
                typer.echo(f"  {path}", err=True)
            raise typer.Exit(code=1)
        typer.echo(f"every process under {root} matches its manual")
        return
    for path in changed:
        typer.echo(f"wrote {path}")
    typer.echo(f"{len(changed)} process file(s) regenerated under {root}")


if __name__ == "__main__":
    app()
