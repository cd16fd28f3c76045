"""Only what pyproject.toml cannot say: ``templates/`` ships as the package ``generator.templates``.

A folder mapped to another package name is not found by ``[tool.setuptools.packages.find]``,
and a fixed ``packages`` list would silently drop every new subpackage; so the packages are
found here and the templates' folders are added to them as ``generator.templates.*``
(``package-dir`` and ``package-data`` are in pyproject.toml).
"""

from setuptools import find_namespace_packages, find_packages, setup

TEMPLATES = [
    "generator.templates",
    *(f"generator.templates.{p}" for p in find_namespace_packages("templates")),
]

setup(packages=[*find_packages(include=["generator*", "flowgen_runtime*"]), *TEMPLATES])
