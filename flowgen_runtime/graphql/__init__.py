"""The HTTP and GraphQL face of a server: the Starlette app (:mod:`.app`), ``POST
/graphql`` (:mod:`.endpoint`), parsed documents (:mod:`.documents`), schema helpers
shared by generated resolvers (:mod:`.schema`), scalars and the :mod:`.registry` of an
app, the compiled executor (:mod:`.execution`) and the operator routes (:mod:`.ops`).

May import every other folder; nothing else imports it except the jobs' HTTP routes and
GraphQL helpers (:mod:`flowgen_runtime.jobs.api`, :mod:`flowgen_runtime.jobs.http`).
"""
