"""The Python interpreters flowgen is tested on, found on this machine.

Used by ``tests/packaging`` and by ``make test-pythons``. An interpreter is taken from
``python3.X`` on PATH, else from pyenv (``~/.pyenv/versions/3.X.*``), and kept only if it
runs and says it is 3.X. From the command line it prints ``3.X <path>`` per interpreter
found; with ``--require-under-ci`` a missing one is an error when ``CI=true``::

    $ python tests/packaging/pythons.py --require-under-ci 3.12 3.13
    3.12 /root/.pyenv/versions/3.12.1/bin/python
    3.13 /root/.pyenv/versions/3.13.0/bin/python
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SUPPORTED = ("3.11", "3.12", "3.13")


def find(version: str) -> str | None:
    """The path of a working Python ``version`` (``"3.12"``), or None."""
    candidates = [shutil.which(f"python{version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    releases = sorted(
        pyenv.glob(f"{version}.*/bin/python"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parts[-3])],
        reverse=True,
    )
    candidates += [str(p) for p in releases]
    for candidate in filter(None, candidates):
        if _reports(candidate) == version:
            return candidate
    return None


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _reports(python: str) -> str | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def main(argv: list[str]) -> int:
    require = "--require-under-ci" in argv
    missing = False
    for version in (a for a in argv if not a.startswith("--")):
        python = find(version)
        if python is None:
            missing = True
            print(f"Python {version}: not found on PATH nor in pyenv", file=sys.stderr)
        else:
            print(version, python)
    if missing and require and under_ci():
        print("CI=true: every Python flowgen supports must be tested", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
