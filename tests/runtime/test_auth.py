"""Bearer tokens: what is accepted and everything that must be refused (real PyJWT, real keys)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flowgen_runtime.auth.access import Grant, Identity, resolve
from flowgen_runtime.auth.tokens import IdentityCache, authenticate, mint
from flowgen_runtime.core.errors import ForbiddenError, UnauthenticatedError
from flowgen_runtime.core.settings import Settings

SECRET = "s3cret-for-tests-only-0123456789abcdef"


def hs(**claims: object) -> str:
    body = {"sub": "7", "roles": ["teacher"], "exp": int(time.time()) + 3600, **claims}
    return jwt.encode(body, SECRET, algorithm="HS256")


def auth(settings: Settings, token: str) -> Identity | None:
    return authenticate(settings, f"Bearer {token}")


def test_valid_token_maps_claims_to_identity() -> None:
    ident = auth(Settings(jwt_secret=SECRET), hs())
    assert ident == Identity("7", frozenset({"teacher"}))


def test_claim_paths_are_configurable() -> None:
    s = Settings(jwt_secret=SECRET, jwt_user_claim="user.uid", jwt_roles_claim="realm.roles")
    token = hs(user={"uid": 42}, realm={"roles": "admin teacher"})
    assert auth(s, token) == Identity("42", frozenset({"admin", "teacher"}))


def test_no_header_is_anonymous_and_a_malformed_one_is_refused() -> None:
    s = Settings(jwt_secret=SECRET)
    assert authenticate(s, None) is None
    with pytest.raises(UnauthenticatedError, match="Bearer"):
        authenticate(s, "Token abc")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (
            jwt.encode(
                {"sub": "7", "exp": int(time.time()) + 3600},
                "wrong-secret-0123456789abcdef0123",
                algorithm="HS256",
            ),
            "Signature verification failed",
        ),
        (hs(exp=int(time.time()) - 10), "token expired"),
        (hs(nbf=int(time.time()) + 36000), "not valid yet"),
        (jwt.encode({"sub": "7"}, SECRET, algorithm="HS256"), 'missing the "exp" claim'),
        (jwt.encode({"exp": int(time.time()) + 3600}, SECRET, algorithm="HS256"), "no 'sub' claim"),
        (
            jwt.encode({"sub": "7", "exp": int(time.time()) + 3600}, None, algorithm="none"),
            "alg value is not allowed",
        ),
        ("not.a.token", "invalid token"),
    ],
)
def test_bad_tokens_are_refused(token: str, reason: str) -> None:
    with pytest.raises(UnauthenticatedError) as err:
        auth(Settings(jwt_secret=SECRET), token)
    assert reason.lower() in err.value.message.lower()
    assert err.value.extensions["code"] == "UNAUTHENTICATED"


def test_issuer_and_audience_are_checked() -> None:
    s = Settings(jwt_secret=SECRET, jwt_issuer="https://issuer.example", jwt_audience="learnhub")
    assert auth(s, hs(iss="https://issuer.example", aud="learnhub")) is not None
    for bad in (
        hs(iss="https://evil.example", aud="learnhub"),
        hs(iss="https://issuer.example", aud="other"),
        hs(),
    ):
        with pytest.raises(UnauthenticatedError):
            auth(s, bad)


@pytest.fixture(scope="module")
def rsa_pem() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_rs256_with_a_public_key_and_no_hs_confusion(
    rsa_pem: tuple[bytes, str], tmp_path: Path
) -> None:
    private, public = rsa_pem
    key_file = tmp_path / "public.pem"
    key_file.write_text(public)
    s = Settings(jwt_algorithm="RS256", jwt_public_key=str(key_file))
    good = jwt.encode({"sub": "9", "exp": int(time.time()) + 3600}, private, algorithm="RS256")
    assert auth(s, good) == Identity("9", frozenset())
    # HS/RS confusion: an HS256 token "signed" with the public key is refused
    forged = _hs_with_key(public)
    with pytest.raises(UnauthenticatedError):
        auth(s, forged)


def _hs_with_key(public: str) -> str:
    """Craft an HS256 token keyed with the RSA public key text (PyJWT refuses to, on purpose)."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": "9", "exp": int(time.time()) + 3600}).encode())
    sig = hmac.new(public.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def test_es256_through_a_jwks_file(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "ES256"}]}))
    s = Settings(jwt_algorithm="ES256", jwt_jwks_file=str(jwks))
    token = jwt.encode(
        {"sub": "5", "exp": int(time.time()) + 3600}, key, algorithm="ES256", headers={"kid": "k1"}
    )
    assert auth(s, token) == Identity("5", frozenset())
    other = jwt.encode(
        {"sub": "5", "exp": int(time.time()) + 3600},
        key,
        algorithm="ES256",
        headers={"kid": "nope"},
    )
    with pytest.raises(UnauthenticatedError, match="kid"):
        auth(s, other)


def test_mint_round_trip() -> None:
    s = Settings(jwt_secret=SECRET)
    assert auth(s, mint(s, "3", ["student"])) == Identity("3", frozenset({"student"}))


def test_resolve_grants_rows_hidden_and_presets() -> None:
    perms = {
        "read": (
            Grant(roles=frozenset({"admin"})),
            Grant(
                roles=frozenset({"student"}),
                row={"student_id": {"eq": {"$user": "id"}}},
                hidden=frozenset({"score"}),
            ),
            Grant(anonymous=True, row={"status": {"eq": "public"}}),
        ),
        "create": (Grant(roles=frozenset({"student"}), preset={"student_id": "$user.id"}),),
    }
    student = Identity("7", frozenset({"student"}))
    access = resolve(perms, "read", student)
    assert access.rows == {"or": [{"student_id": {"eq": "7"}}]} and access.hidden == {"score"}
    assert resolve(perms, "read", Identity("1", frozenset({"admin", "student"}))).rows is None
    assert resolve(perms, "read", None).rows == {"or": [{"status": {"eq": "public"}}]}
    assert resolve(perms, "create", student).preset == {"student_id": "7"}
    with pytest.raises(ForbiddenError):
        resolve(perms, "create", Identity("1", frozenset({"admin"})))
    with pytest.raises(UnauthenticatedError):
        resolve(perms, "create", None)
    with pytest.raises(UnauthenticatedError):  # no permissions block: signed-in callers only
        resolve(None, "read", None)


# -- verified tokens remembered (IdentityCache) --------------------------------------------


def test_a_cached_token_is_refused_from_the_second_it_expires() -> None:
    cache = IdentityCache(Settings(jwt_secret=SECRET))
    while time.time() % 1 > 0.5:  # start early in a second: the token lives 1-1.5 s
        time.sleep(0.05)
    exp = int(time.time()) + 1
    header = f"Bearer {hs(exp=exp)}"
    first = cache.authenticate(header)
    assert first is not None and len(cache) == 1
    assert cache.authenticate(header) is first  # answered from the cache, not re-verified
    time.sleep(max(exp - time.time(), 0) + 0.01)
    with pytest.raises(UnauthenticatedError, match="token expired"):
        cache.authenticate(header)
    assert len(cache) == 0
    with pytest.raises(UnauthenticatedError, match="token expired"):
        cache.authenticate(header)


def test_refused_tokens_are_never_cached() -> None:
    cache = IdentityCache(Settings(jwt_secret=SECRET))
    forged = jwt.encode(
        {"sub": "7", "exp": int(time.time()) + 3600}, "wrong-secret-0123456789abcdef0123"
    )
    for header in (
        f"Bearer {forged}",
        f"Bearer {hs(nbf=int(time.time()) + 3600)}",
        f"Bearer {hs(exp=int(time.time()) - 1)}",
        f"Bearer {hs(sub=None)}",
        "Token abc",
    ):
        for _ in range(2):  # refused again: nothing was stored the first time
            with pytest.raises(UnauthenticatedError):
                cache.authenticate(header)
    assert len(cache) == 0
    assert cache.authenticate(None) is None and len(cache) == 0


def test_a_token_not_valid_yet_is_accepted_once_it_is_and_then_cached() -> None:
    settings = Settings(jwt_secret=SECRET, jwt_leeway_s=5)
    cache = IdentityCache(settings)
    header = f"Bearer {hs(nbf=int(time.time()) + 3)}"  # inside the leeway: valid now
    assert cache.authenticate(header) == Identity("7", frozenset({"teacher"}))
    assert len(cache) == 1


def test_the_cache_is_bounded_and_belongs_to_its_settings() -> None:
    cache = IdentityCache(Settings(jwt_secret=SECRET), size=2)
    headers = [f"Bearer {hs(sub=str(n))}" for n in range(3)]
    for header in headers:
        cache.authenticate(header)
    assert len(cache) == 2
    assert [i.id for i, *_ in cache._known.values()] == ["1", "2"]  # the oldest went
    other = IdentityCache(Settings(jwt_secret="another-secret-0123456789abcdef0123"))
    with pytest.raises(UnauthenticatedError, match="Signature"):
        other.authenticate(headers[2])


@pytest.mark.parametrize("roles", [{"admin": False}, 7, ["admin", 1], True, [["admin"]]])
def test_a_roles_claim_of_another_shape_is_refused(roles: object) -> None:
    with pytest.raises(UnauthenticatedError, match="list of strings"):
        auth(Settings(jwt_secret=SECRET), hs(roles=roles))


def test_roles_as_a_list_a_string_or_absent() -> None:
    settings = Settings(jwt_secret=SECRET)
    for roles, expected in ((["a", "b"], {"a", "b"}), ("a b", {"a", "b"}), (None, set())):
        found = auth(settings, hs(roles=roles))
        assert found is not None and found.roles == expected


def test_a_job_records_its_caller_and_the_worker_rebuilds_it() -> None:
    from flowgen_runtime.auth.access import rule_claims
    from flowgen_runtime.data.context import job_caller

    grants = {
        "read": (Grant(roles=frozenset({"t"}), row={"org_id": {"eq": {"$user": "org.id"}}}),),
        "create": (Grant(roles=frozenset({"t"}), preset={"owner_id": "$user.id"}),),
    }
    paths = rule_claims([grants, None])
    assert paths == {"org.id"}
    me = Identity("7", frozenset({"t"}), {"org": {"id": 3}, "email": "secret@x.io", "exp": 1})
    record = me.record(paths)
    assert record == {"id": "7", "roles": ["t"], "claims": {"org": {"id": 3}}}  # nothing else
    again, system = job_caller(record)
    assert not system and again == me and again is not None and again.claim("org.id") == 3
    assert resolve(grants, "read", again).rows == {"or": [{"org_id": {"eq": 3}}]}
    assert job_caller(None) == (None, False)  # a scheduled job: anonymous
    assert job_caller({"system": True}) == (None, True)
    for bad in ({"id": "7", "roles": "admin"}, {"roles": []}, "admin"):
        with pytest.raises(ForbiddenError):
            job_caller(bad)


def test_cache_scopes_include_the_claims_rules_read() -> None:
    a = Identity("7", frozenset({"t"}), {"org": 1})
    b = Identity("7", frozenset({"t"}), {"org": 2})
    assert a.scope == b.scope  # id and roles alone: the old key
    assert a.scope_with({"org"}) != b.scope_with({"org"})
    assert a.scope_with(()) == a.scope
