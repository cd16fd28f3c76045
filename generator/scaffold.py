"""Scaffold missing user handler modules once; never touch an existing user file."""

from __future__ import annotations

import re
from pathlib import Path

from .model import App, Job
from .names import pascal

_STUB = '''

async def {func}(payload: {cls}, ctx: JobContext) -> Any:
    """{doc}

    `payload`: the validated payload ({package}/queues/{queue}.py).
    `ctx`: job id, attempt, logger and `await ctx.progress(n)`; `app_context(ctx)` is a
    context for the services, e.g. `await users.get(app_context(ctx), id)` with
    `from {package}.services import users`.
    """
    ctx.logger.info("{func} received %s", payload)
    return None
'''


def module_file(root: Path, dotted: str) -> tuple[Path, str]:
    *mod, func = dotted.split(".")
    return root.joinpath(*mod).with_suffix(".py"), func


def scaffold_handlers(
    app: App, root: Path, package: str = "generated"
) -> tuple[list[str], list[str]]:
    """Create handler modules that do not exist; warn about functions missing from existing ones."""
    wanted: dict[Path, list[Job]] = {}
    for q in app.queues:
        for j in q.jobs:
            if j.handler:
                path, _ = module_file(root, j.handler)
                wanted.setdefault(path, []).append(j)
    created, warnings = [], []
    for path, jobs in sorted(wanted.items()):
        if path.exists():
            text = path.read_text(encoding="utf-8")
            for j in jobs:
                func = j.handler.rsplit(".", 1)[1] if j.handler else ""
                if not re.search(rf"^(async\s+)?def\s+{func}\b", text, re.M):
                    warnings.append(
                        f"{path}: handler `{func}` for job {j.queue}.{j.name} is missing"
                    )
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in _package_dirs(root, path):
            init = parent / "__init__.py"
            if not init.exists():
                init.write_text('"""Your code: job handlers and custom resolvers."""\n')
        body = _handler_module(jobs, package, {q.name: q.module for q in app.queues})
        path.write_text(body, encoding="utf-8")
        created.append(str(path))
    return created, warnings


def _handler_module(jobs: list[Job], package: str, modules: dict[str, str]) -> str:
    """A new handler module: one typed stub per job."""
    body = (
        '"""Job handlers (your code: flowgen created this file once and never rewrites it)."""\n\n'
    )
    body += "from typing import Any\n\n"
    body += "from flowgen_runtime import JobContext, app_context  # noqa: F401\n\n"
    payloads: dict[str, set[str]] = {}
    for j in jobs:
        payloads.setdefault(j.queue, set()).add(f"{pascal(j.name)}Payload")
    for queue, classes in sorted(payloads.items()):
        body += f"from {package}.queues.{modules[queue]} import {', '.join(sorted(classes))}\n"
    for j in jobs:
        func = (j.handler or "").rsplit(".", 1)[1]
        body += _STUB.format(
            func=func, doc=j.description or f"Handle `{j.name}` jobs.",
            cls=f"{pascal(j.name)}Payload", queue=modules[j.queue], package=package,
        )  # fmt: skip
    return body


def _package_dirs(root: Path, path: Path) -> list[Path]:
    dirs = []
    p = path.parent
    while p != root and root in p.parents:
        dirs.append(p)
        p = p.parent
    if p != root:
        return dirs
    return dirs


_EXTENSIONS_INIT = '''"""Your own code for this app (flowgen created this file once and never rewrites it).

- Write hooks: in `<this package>/<entity module>.py` (e.g. `exam.py` for Exam), define any
  of `before_create`, `after_create`, `before_update`, `after_update`, `before_delete`,
  `after_delete`, each `async def hook(event: WriteEvent) -> None`.
- Computed fields: declared under `computed:` in the entity's spec; the resolver is
  `<entity module>.<field name>` here, `def field(row, info)`.
- Custom schema: SDL files in `schema/*.graphql` here (`extend type Query { ... }`, new
  types, fields on generated types), resolved by the Ariadne bindables in `BINDABLES`.

See docs/extending.md.
"""

from typing import Any

BINDABLES: list[Any] = []
"""Ariadne bindables (QueryType, MutationType, ObjectType...) for your SDL."""
'''


def scaffold_extensions(app: App, root: Path) -> list[str]:
    """Create the app's extensions package once (``extensions:`` in app.yaml)."""
    if app.extensions is None:
        return []
    package = root / app.extensions
    if package.exists():
        return []
    (package / "schema").mkdir(parents=True)
    (package / "__init__.py").write_text(_EXTENSIONS_INIT, encoding="utf-8")
    return [str(package / "__init__.py")]
