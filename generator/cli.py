"""The ``gen`` command. Compiler commands live here; runtime commands hand over to the
generated package (imported by name, default ``generated``) and :mod:`flowgen_runtime`."""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__, stamp

if TYPE_CHECKING:  # the compiler proper is imported only when a build has to run
    from .migrations import MigrationPlan
    from .model import App
    from .pipeline import BuildResult


class _Group(click.Group):
    """Turns configuration errors (bad environment variables) into a one-line message."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # only commands that read settings can raise ConfigError, and they have imported
            # the module; `gen build` does not pay for importing it
            settings = sys.modules.get("flowgen_runtime.core.settings")
            if settings is not None and isinstance(exc, settings.ConfigError):
                raise click.ClickException(str(exc)) from None
            raise


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="flowgen")
def main() -> None:
    """Flowgen: YAML specs -> GraphQL + SQLAlchemy + BullMQ backend."""


def _default_out(specs: Path) -> Path:
    return specs.resolve().parent / "generated"


@main.command("build")
@click.argument("specs", type=click.Path(path_type=Path), default="specs")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Output package (default: ../generated next to SPECS).",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the output is stale.")
@click.option(
    "--allow-destructive", is_flag=True, help="Write a migration even if it drops or narrows data."
)
@click.option(
    "--check-breaking", is_flag=True, help="Exit 1 if the API or job payloads change incompatibly."
)
def build_cmd(
    specs: Path, out: Path | None, check: bool, allow_destructive: bool, check_breaking: bool
) -> None:
    """Compile SPECS into the output package."""
    # One short-lived process: everything the build allocates lives until it exits, so the
    # cyclic collector would only re-scan it (a collection after the build cost 0.4 s).
    gc.disable()
    out = out or _default_out(specs)
    inputs = stamp.inputs_digest(specs, out)
    if (done := stamp.fresh(out, inputs)) is not None:  # nothing changed since the last build
        if check:
            click.echo(f"{out}: up to date")
        else:
            _report_build(done, out)
        return
    if check_breaking:  # decide before writing: the previous SDL is what we compare with
        dry = _build_or_exit(specs, out, check=True, allow_destructive=allow_destructive)
        if breaking := _report_api(dry.migration):
            click.echo(f"{breaking} breaking change(s); nothing was written", err=True)
            sys.exit(1)
    result = _build_or_exit(specs, out, check=check, allow_destructive=allow_destructive)
    plan = result.plan
    if not check_breaking:
        _report_api(result.migration)
    if check:
        if plan.empty:
            click.echo(f"{out}: up to date")
            return
        click.echo(f"{out} is stale; run `gen build {specs}`:\n{plan.summary()}", err=True)
        sys.exit(1)
    summary = _summary(result)
    _report_build(summary, out, result)
    stamp.save(out, inputs, result.files, _handler_paths(result.app, out), summary)


def _summary(result: BuildResult) -> dict[str, Any]:
    """What every build of these specs reports (replayed when the stamp says up to date)."""
    app = result.app
    notes = []
    unprotected = [e.name for e in app.entities if e.permissions is None]
    if unprotected:
        notes.append(
            "note: no permissions block, so signed-in callers may do everything and anonymous "
            "callers nothing: " + ", ".join(unprotected)
        )
    built = f"built {app.name}: {len(app.entities)} entities, {len(app.queues)} queues"
    return {"built": built, "warnings": result.warnings, "notes": notes}


def _report_build(summary: dict[str, Any], out: Path, result: BuildResult | None = None) -> None:
    """The report of a build; ``result`` is None when the stamp showed nothing changed."""
    plan = result.plan if result is not None else None
    n_files = len(plan.added) + len(plan.changed) + len(plan.removed) if plan else 0
    click.echo(f"{summary['built']} -> {out} ({n_files} file(s) changed)")
    if result is not None:
        if n_files:
            click.echo(result.plan.summary())
        _report_migration(result.migration)
        for path in result.scaffolded:
            click.echo(f"scaffolded handler module {path} (yours to edit; never overwritten)")
    for warning in summary["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    for note in summary["notes"]:
        click.echo(note)


def _handler_paths(app: App, out: Path) -> list[Path]:
    from .scaffold import module_file

    root = out.resolve().parent
    return [module_file(root, j.handler)[0] for q in app.queues for j in q.jobs if j.handler]


def _build_or_exit(specs: Path, out: Path, *, check: bool, allow_destructive: bool) -> BuildResult:
    """Run the build; report each kind of failure the way users need it and exit."""
    from .pipeline import build
    from .refusals import build_refusal

    try:
        return build(specs, out, check=check, allow_destructive=allow_destructive)
    except Exception as exc:
        refused = build_refusal(exc)
        if refused is None:
            raise
        click.echo(refused[0], err=True)
        sys.exit(refused[1])


def _report_migration(migration: MigrationPlan) -> None:
    if migration.revision is None:
        return
    click.echo(f"new migration {migration.revision.path}:")
    for line in migration.summary:
        click.echo(f"  {line}")
    for line in migration.destructive:
        click.echo(f"  destructive (allowed): {line}")


def _report_api(migration: MigrationPlan) -> int:
    """Print the API / job payload changes of this build; return the breaking count."""
    for line in migration.api.breaking:
        click.echo(f"breaking: {line}", err=True)
    for line in migration.api.dangerous:
        click.echo(f"dangerous: {line}", err=True)
    return len(migration.api.breaking)


@main.command("schema")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="File to write (default: stdout)."
)
def schema_cmd(out: Path | None) -> None:
    """Write the JSON Schema of the spec format (for editor completion)."""
    from .spec import json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")


def _package(name: str) -> Any:
    sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(f"{name}.registry").REGISTRY
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"cannot import the generated package '{name}' ({exc}); run `gen build` first "
            "or pass --app"
        ) from exc


_APP = click.option(
    "--app", "app_pkg", default="generated", show_default=True, help="Generated package."
)


@main.command("serve")
@_APP
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes.")
def serve_cmd(app_pkg: str, host: str | None, port: int | None, workers: int) -> None:
    """Run the GraphQL server (uvicorn). Ctrl-C, SIGTERM or SIGHUP stop it gracefully, and
    the embedded Redis if this command started it and nothing else uses it."""
    from flowgen_runtime.core.processes import stop_signals
    from flowgen_runtime.core.redis import embedded_redis_session
    from flowgen_runtime.core.settings import get_settings
    from flowgen_runtime.graphql.app import serve_package

    _package(app_pkg)
    with embedded_redis_session(get_settings()), stop_signals(), contextlib.suppress(KeyboardInterrupt):  # fmt: skip
        serve_package(f"{app_pkg}.server:app", host=host, port=port, workers=workers)


@main.command("worker", context_settings={"ignore_unknown_options": True})
@_APP
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def worker_cmd(app_pkg: str, args: tuple[str, ...]) -> None:
    """Run job workers: [--queues a,b] [--concurrency N] [--processes N (0: one per core)]."""
    from flowgen_runtime.jobs.main import worker_main

    sys.exit(worker_main(_package(app_pkg), list(args)))


@main.command("monitor", context_settings={"ignore_unknown_options": True})
@_APP
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def monitor_cmd(app_pkg: str, args: tuple[str, ...]) -> None:
    """Show queue health: counts by state, recent failures; retry/clean/pause/resume."""
    from flowgen_runtime.jobs.monitor_cli import monitor_main

    sys.exit(monitor_main(_package(app_pkg), list(args)))


@main.command("migrate", context_settings={"ignore_unknown_options": True})  # downgrade -1
@_APP
@click.argument(
    "action",
    type=click.Choice(["upgrade", "downgrade", "current", "history", "check"]),
    default="upgrade",
)
@click.argument("revision", default=None, required=False)
def migrate_cmd(app_pkg: str, action: str, revision: str | None) -> None:
    """Apply Alembic migrations: upgrade [head], downgrade [-1|base], current, history, check."""
    from flowgen_runtime.migrate import run

    sys.exit(run(_package(app_pkg), action, revision))


@main.command("token")
@click.option("--sub", required=True, help="User id (the `sub` claim).")
@click.option("--role", "roles", multiple=True, help="A role; repeat for several.")
@click.option("--ttl", type=int, default=3600, show_default=True, help="Seconds until it expires.")
def token_cmd(sub: str, roles: tuple[str, ...], ttl: int) -> None:
    """Mint a development token signed with JWT_SECRET (or gen dev's development secret)."""
    from flowgen_runtime.auth.tokens import dev_secret, mint
    from flowgen_runtime.core.settings import get_settings

    settings = get_settings()
    if not settings.jwt_secret:
        secret = dev_secret(settings, create=False)
        if secret is None:
            raise click.ClickException(
                "set JWT_SECRET (or run `gen dev` once to create a development secret)"
            )
        settings = settings.model_copy(update={"jwt_secret": secret})
        click.echo("signed with the development secret of `gen dev`", err=True)
    click.echo(mint(settings, sub, list(roles), ttl))


@main.command("dev")
@click.argument("specs", type=click.Path(path_type=Path), default="specs")
@click.option("--port", type=int, default=None)
@click.option(
    "--allow-destructive", is_flag=True, help="Write migrations that drop or narrow data."
)
@click.option(
    "--reset", is_flag=True, help="Recreate the embedded dev database (its rows are lost)."
)
def dev_cmd(specs: Path, port: int | None, allow_destructive: bool, reset: bool) -> None:
    """Build SPECS, migrate, then run the server and a worker together; rebuild and restart
    on edits of the specs, handlers/ and extensions/ (Ctrl-C, SIGTERM or SIGHUP stop all)."""
    from .dev import run_dev

    sys.exit(
        run_dev(
            specs, _default_out(specs), port=port, allow_destructive=allow_destructive,
            reset=reset,
        )
    )  # fmt: skip


if __name__ == "__main__":  # pragma: no cover
    main()
