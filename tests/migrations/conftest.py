"""Fixtures of the evolution tests: a fresh PostgreSQL database per run (shared with e2e)."""

from tests.e2e.conftest import pg_database

__all__ = ["pg_database"]
