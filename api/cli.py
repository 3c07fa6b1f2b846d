"""`bizportal serve | worker | migrate | token | demo`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from bizportal.api.settings import Settings
from bizportal.api.tokens import issue_token
from bizportal.engine.errors import DefinitionError
from bizportal.engine.principal import Role

app = typer.Typer(help="Biz Portal engine", no_args_is_help=True)


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="default BIZPORTAL_HOST")] = None,
          port: Annotated[int | None, typer.Option(help="default BIZPORTAL_PORT")] = None) -> None:
    """Migrate, load every definition, and serve the HTTP API."""
    import uvicorn

    from bizportal.api.app import create_app

    settings = Settings()
    try:
        application = create_app(settings, background_sweeper=True)
    except DefinitionError as err:  # a bad BPMN or manual file: say which, and stop
        typer.echo(f"cannot start: {err.message}" + (f" ({err.hint})" if err.hint else ""), err=True)
        raise typer.Exit(code=2) from err
    uvicorn.run(application, host=host or settings.host, port=port or settings.port, log_level=settings.log_level)


@app.command()
def worker() -> None:
    """Run an arq worker (needs BIZPORTAL_REDIS_URL)."""
    from bizportal.api.worker import build_worker

    build_worker(Settings()).run()


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from bizportal.storage.database import make_engine
    from bizportal.storage.migrate import upgrade_to_head

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(make_engine(settings.resolved_database_url()))
    typer.echo("database is at the newest revision")


@app.command()
def token(role: Annotated[Role, typer.Option(help="applicant, counter_officer, agency_officer or admin")],
          subject: Annotated[str, typer.Option(help="the user's id (the `sub` claim)")],
          agency: Annotated[str | None, typer.Option(help="agency code, required for agency officers")] = None,
          hours: Annotated[int, typer.Option(help="validity in hours")] = 12) -> None:
    """Print a bearer token signed with the configured key."""
    try:
        typer.echo(issue_token(Settings().signing_key(), subject, role, agency, ttl=timedelta(hours=hours)))
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err


if __name__ == "__main__":
    app()
