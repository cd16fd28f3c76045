"""Hypothesis budgets: ``FLOWGEN_HYPOTHESIS_PROFILE`` = ``ci`` (default under ``CI=true``:
a few minutes for the whole folder), ``dev`` (default otherwise) or ``conformance``
(``make conformance``: many more examples)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_COMMON = {
    "deadline": None,  # one example builds and migrates a whole app: seconds, not ms
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                              HealthCheck.function_scoped_fixture],
    "print_blob": True,
}  # fmt: skip
# one example takes seconds (build, ruff, mypy, two migrations): the quick profiles report
# the failing example as drawn, without minutes of shrinking; `conformance` shrinks it
_NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]
settings.register_profile(
    "ci", max_examples=4, derandomize=True, database=None, phases=_NO_SHRINK, **_COMMON
)  # type: ignore[arg-type]
settings.register_profile("dev", max_examples=10, phases=_NO_SHRINK, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("conformance", max_examples=200, **_COMMON)  # type: ignore[arg-type]

_default = "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
settings.load_profile(os.environ.get("FLOWGEN_HYPOTHESIS_PROFILE", _default))
