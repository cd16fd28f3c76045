"""Hypothesis budgets: ``FLOWGEN_HYPOTHESIS_PROFILE`` = ``ci`` (default under ``CI=true``:
a few minutes for the whole folder), ``dev`` (default otherwise) or ``conformance``
(``make conformance``: many more examples)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # one example builds and migrates a whole app: seconds, not ms
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                              HealthCheck.function_scoped_fixture],
    "print_blob": True,
}  # fmt: skip
settings.register_profile("ci", max_examples=4, derandomize=True, database=None, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("dev", max_examples=10, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("conformance", max_examples=200, **_COMMON)  # type: ignore[arg-type]

_default = "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
settings.load_profile(os.environ.get("FLOWGEN_HYPOTHESIS_PROFILE", _default))
