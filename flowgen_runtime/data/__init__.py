"""Data access: what the runtime knows of an entity (:mod:`.meta`), generated input models
(:mod:`.inputs`), SQL the models need (:mod:`.ddl`), the Redis read cache (:mod:`.cache`),
SQL building (:mod:`.query`), the service layer every resolver and job goes through
(:mod:`.service`), the per-request :mod:`.context` and the process resources
(:mod:`.state`).

May import :mod:`flowgen_runtime.core`, :mod:`flowgen_runtime.auth` and, for enqueue
after commit and the outbox relay, :mod:`flowgen_runtime.jobs` (its engine and
:mod:`~flowgen_runtime.jobs.outbox` only); never :mod:`flowgen_runtime.graphql`.
"""
