"""Who the caller is and what it may do.

* :mod:`.access` - :class:`~.access.Identity`, spec grants and the :class:`~.access.Access`
  they resolve to for one operation (rows, hidden, readonly, preset);
* :mod:`.tokens` - bearer JWTs verified into an identity, and ``gen token`` minting.

Imports only :mod:`flowgen_runtime.core`.
"""
