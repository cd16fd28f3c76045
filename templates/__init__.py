"""The Jinja templates of the generated files, one per target of ``generator/render/targets.py``.

This folder stays at the top of the repository; ``setup.py`` maps it to the package
``generator.templates`` so that a wheel ships the templates and the compiler finds them with
importlib.resources (``generator.resources.templates_dir``), installed or editable.
"""
