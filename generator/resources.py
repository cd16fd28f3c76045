"""Files the compiler reads at run time, found through the import system.

The templates live at the top of the repository (``templates/``) and are mapped by
``setup.py`` to the package ``generator.templates``, so a wheel ships them and an editable
install finds them in the repository; either way :func:`templates_dir` is where they are::

    >>> (templates_dir() / "server.py.j2").is_file()
    True

Only stdlib is imported here: the build stamp uses it before the compiler is imported.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

TEMPLATES_PACKAGE = "generator.templates"


@cache
def templates_dir() -> Path:
    """The directory of the Jinja templates (``generator.templates``)."""
    try:
        found = resources.files(TEMPLATES_PACKAGE)
    except ModuleNotFoundError as exc:
        checkout = Path(__file__).resolve().parents[1] / "templates"
        if checkout.is_dir():  # a source checkout (PYTHONPATH, an editable install made
            return checkout  # before templates/ became a package): the files are here
        raise RuntimeError(
            f"flowgen's templates ({TEMPLATES_PACKAGE}) are not installed: install flowgen "
            "(pip install flowgen, or pip install -e . in its repository)"
        ) from exc
    path = Path(str(found))
    if not path.is_dir():  # e.g. a zipped install: Jinja and the stamp need real files
        raise RuntimeError(f"flowgen's templates must be a directory, not {found}")
    return path
