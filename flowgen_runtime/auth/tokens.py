"""Bearer JWTs: verification (PyJWT), the :class:`~.access.Identity` they carry, minting.

The algorithm is fixed by configuration (never read from the token, so ``alg: none`` and
HS/RS confusion fail), and issuer, audience and expiry are checked. Claims map to a user
id and roles through configurable dotted paths.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from flowgen_runtime.auth.access import Identity, dig
from flowgen_runtime.core.errors import UnauthenticatedError
from flowgen_runtime.core.settings import Settings


def authenticate(settings: Settings, header: str | None) -> Identity | None:
    """The caller of a request with this ``Authorization`` header (``None``: anonymous)."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("the Authorization header must be 'Bearer <token>'")
    claims = decode(settings, token.strip())
    user = dig(claims, settings.jwt_user_claim)
    if user is None:
        raise UnauthenticatedError(f"invalid token: no '{settings.jwt_user_claim}' claim")
    if isinstance(user, dict | list | bool) or (isinstance(user, str) and not user):
        raise UnauthenticatedError(f"invalid token: '{settings.jwt_user_claim}' is not an id")
    roles = dig(claims, settings.jwt_roles_claim)
    if roles is None:
        roles = []
    elif isinstance(roles, str):
        roles = roles.split()
    elif not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        # an object ({"admin": false}) would iterate as its keys, a number not at all
        raise UnauthenticatedError(
            f"invalid token: '{settings.jwt_roles_claim}' must be a list of strings "
            "or a space-separated string"
        )
    return Identity(str(user), frozenset(roles), claims)


class IdentityCache:
    """:func:`authenticate` with verified tokens remembered by their text (bounded LRU).

    Verifying a signature on every request costs more than answering a cached read. A
    token is only stored after it verified, together with the seconds between which
    PyJWT would accept it (``nbf``/``iat`` and ``exp``, widened by the configured
    leeway), and each hit checks the clock against them: an expired token is refused at
    the same second as without the cache, by verifying it again (which raises). Refused
    tokens are never stored. One cache per app: it belongs to one set of settings.
    """

    def __init__(self, settings: Settings, size: int = 1024) -> None:
        self.settings = settings
        self.size = size
        self._known: OrderedDict[str, tuple[Identity, float, float]] = OrderedDict()

    def authenticate(self, header: str | None) -> Identity | None:
        if not header:
            return None
        known = self._known.get(header)
        if known is not None:
            identity, valid_from, valid_until = known
            if valid_from <= time.time() < valid_until:
                self._known.move_to_end(header)
                return identity
            del self._known[header]
        verified = authenticate(self.settings, header)  # raises for a refused token
        assert verified is not None
        self._known[header] = (verified, *_validity(verified.claims, self.settings.jwt_leeway_s))
        if len(self._known) > self.size:
            self._known.popitem(last=False)
        return verified

    def __len__(self) -> int:
        return len(self._known)


def _validity(claims: Mapping[str, Any], leeway: float) -> tuple[float, float]:
    """``(from, until)``: PyJWT accepts the token while ``from <= now < until``; like it,
    claims are truncated to whole seconds (it refuses ``int(exp) <= now - leeway``,
    ``int(nbf) > now + leeway`` and ``int(iat) > now + leeway``)."""
    starts = [int(claims[c]) for c in ("nbf", "iat") if c in claims]
    return max(starts, default=float("-inf")) - leeway, int(claims["exp"]) + leeway


def decode(settings: Settings, token: str) -> dict[str, Any]:
    alg = settings.jwt_algorithm
    try:
        key = _key(settings, token)
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[alg], audience=settings.jwt_audience, issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_s, options={"require": ["exp"], "verify_aud": settings.jwt_audience is not None},
        )  # fmt: skip
    except jwt.ExpiredSignatureError:
        raise UnauthenticatedError("token expired") from None
    except jwt.ImmatureSignatureError:
        raise UnauthenticatedError("token not valid yet") from None
    except jwt.PyJWTError as exc:
        raise UnauthenticatedError(f"invalid token: {exc}") from None
    return claims


def _key(settings: Settings, token: str) -> Any:
    alg = settings.jwt_algorithm
    if alg.startswith("HS"):
        if not settings.jwt_secret:
            raise UnauthenticatedError("authentication is not configured (JWT_SECRET)")
        return settings.jwt_secret
    if settings.jwt_jwks_file:
        jwks = _jwks(settings.jwt_jwks_file)
        kid = jwt.get_unverified_header(token).get("kid")
        for k in jwks.keys:
            if kid is None or k.key_id == kid:
                return k.key
        raise UnauthenticatedError("invalid token: no key matches its 'kid'")
    if not settings.jwt_public_key:
        raise UnauthenticatedError("authentication is not configured (JWT_PUBLIC_KEY)")
    text = settings.jwt_public_key
    return Path(text).read_text() if "-----BEGIN" not in text and Path(text).is_file() else text


@lru_cache(maxsize=4)
def _jwks(path: str) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_json(Path(path).read_text())


def mint(settings: Settings, sub: str, roles: list[str], ttl_s: int = 3600, **claims: Any) -> str:
    """A token signed with the configured HS secret (``gen token``; development only)."""
    import time

    if not settings.jwt_algorithm.startswith("HS") or not settings.jwt_secret:
        raise UnauthenticatedError("gen token needs JWT_SECRET and an HS algorithm")
    now = int(time.time())
    body: dict[str, Any] = {
        "sub": sub,
        "iat": now,
        "exp": now + ttl_s,
        settings.jwt_roles_claim: roles,
        **claims,
    }
    if settings.jwt_issuer:
        body["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        body["aud"] = settings.jwt_audience
    return jwt.encode(body, settings.jwt_secret, algorithm=settings.jwt_algorithm)


def dev_secret(settings: Settings, *, create: bool) -> str | None:
    """The development signing secret under the data dir (``gen dev`` / ``gen token`` only;
    production sets ``JWT_SECRET``)."""
    import secrets

    path = Path(settings.data_path) / "dev-jwt-secret"
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_urlsafe(32))
    path.chmod(0o600)
    return path.read_text().strip()
