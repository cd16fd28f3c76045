"""Flowgen runtime: the small library that Flowgen-generated backends import.

It holds what every generated project needs and nothing project-specific:
settings from the environment, the async SQLAlchemy database, the Redis
connection (with an embedded server for local development) and logging.
"""

__version__ = "0.1.0"
