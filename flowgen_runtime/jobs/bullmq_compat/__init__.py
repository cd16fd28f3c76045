"""Every use of bullmq's and redis-py's internals, in one place, behind a version check.

bullmq (Python) is used through its public API everywhere else. The speed-ups here
subclass its ``Worker`` and call its Lua scripts directly (:mod:`.worker`,
:mod:`.fastjob`, :mod:`.pipeline`); they are written against one bullmq version.
:func:`check_versions` (called at start-up by workers and servers, and by a test) says
whether the installed versions are those; when they are not, the plain public-API
path is used instead and a warning is logged (or, with ``FLOWGEN_STRICT_COMPAT=1``,
start-up fails).
"""
