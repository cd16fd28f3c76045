"""The example app's own code: the seams a Flowgen app extends (see docs/extending.md).

- ``schema/*.graphql``: SDL merged into the API by ``gen build`` (``publishExam``);
- ``BINDABLES``: the Ariadne resolvers of that SDL (:mod:`.exam`);
- ``<entity>.py``: write hooks by name (:mod:`.submission`, :mod:`.video`) and computed
  fields (``Exam.averageScore`` in :mod:`.exam`).
"""

from typing import Any

from .exam import mutation

BINDABLES: list[Any] = [mutation]
"""Ariadne bindables for ``schema/*.graphql``, bound after the generated ones."""
