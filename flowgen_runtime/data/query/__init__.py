"""Reading and writing through SQL: filters, ordering and cursors, pages, aggregates, writes.

Every function here builds parameterized SQLAlchemy Core statements from an entity's
:class:`~flowgen_runtime.data.meta.EntityMeta` and the GraphQL arguments (already converted to
snake_case by Ariadne); nothing concatenates user input into SQL.
"""
