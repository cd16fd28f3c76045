"""Infrastructure every other part stands on: settings from the environment, logging,
Prometheus metrics, the client-facing errors, child processes, Redis connections (and
the embedded server) and the async SQLAlchemy database.

Modules here import only the standard library, third-party packages and each other;
nothing in ``core`` knows about entities, GraphQL or jobs.
"""
