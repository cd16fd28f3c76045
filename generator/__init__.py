"""Flowgen compiler: YAML specs -> typed model -> rendered files -> disk.

The package layout is the pipeline:

* :mod:`generator.spec`       - read YAML with positions, validate with pydantic
* :mod:`generator.model`      - resolve references into a frozen, typed model
* :mod:`generator.render`     - per-target view-models and Jinja templates -> ``{path: text}``
* :mod:`generator.migrations` - schema snapshots and write-once Alembic revisions
* :mod:`generator.write`      - the only module that writes generated files to disk
* :mod:`generator.cli`        - the ``gen`` command
"""

__version__ = "0.1.0"
