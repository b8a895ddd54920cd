"""PyJWT: JWS only, compact serialization only (it implements neither JWE nor JSON serialization).

PyJWT's `decode` refuses to run without an `algorithms` list, so its documented default usage
already names the algorithm: `default` and `enabled` modes call it the same way.

Entry points: `PyJWS.decode` (the JWS call) and `jwt.decode` (the JWT API,
https://pyjwt.readthedocs.io/en/stable/api.html#jwt.decode), which also checks `exp`, `nbf`,
`iat`, `aud` and `iss` when present. A JWKS goes through PyJWT's own key-set API, `PyJWKSet`,
looked up by the kid of the token's unverified header (`PyJWKSet[kid]`, PyJWT 2.4+; older releases
declare the form unsupported). Key text (PEM, OpenSSH, a secret) goes to `key` as it is, imported
or handed over alike.

Its key-resolving form, the `resolver` entry point, is `PyJWKClient` (PyJWT 2.0+): it fetches the
JWKS over HTTP, here from the harness's JWKS server on 127.0.0.1 (`harness.core.jwks_server`),
one client per key set as an application keeps one per issuer, and finds the signing key by the
token's kid; `jwt.decode` then verifies with it, as the usage docs show.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from jwt.api_jws import PyJWS
from jwt.api_jwt import decode_complete
from jwt.exceptions import PyJWTError

from harness.adapters.base import (
    AccessTokenCheck,
    Adapter,
    Allowed,
    KeyData,
    Serialization,
    claims_bytes,
    error_text,
    is_jwks,
    require_at_jwt,
)
from harness.core import jwks_server
from harness.core.claims import ClaimsOptions
from harness.core.errors import Rejected, Unsupported
from harness.core.suites import Suite


class PyJWTAdapter(Adapter):
    name = "pyjwt"
    distribution = "PyJWT"
    rejection_errors = (PyJWTError,)
    produces = {"JWS": frozenset({"compact"})}
    consumes = {"JWS": frozenset({"compact"})}
    requires_allow_list = True
    entry_points = {"jws": "jwt.api_jws.PyJWS.decode",
                    "jwt": "jwt.decode (https://pyjwt.readthedocs.io/en/stable/api.html)",
                    "resolver": "jwt.PyJWKClient(url).get_signing_key_from_jwt + jwt.decode "
                                "(https://pyjwt.readthedocs.io/en/stable/usage.html, "
                                "\"Retrieve RSA signing keys from a JWKS endpoint\")"}

    def __init__(self) -> None:
        super().__init__()
        self._jws = PyJWS()
        self._algorithms = set(jwt.algorithms.get_default_algorithms())
        # PyJWK arrived in PyJWT 2.0; 1.x imports a JWK with its algorithm's `from_jwk`.
        self._has_pyjwk = hasattr(jwt, "PyJWK")
        self._takes_pyjwk = self._has_pyjwk and _decode_takes_pyjwk()

    def supports(self, suite: Suite) -> bool:
        return suite.family == "JWS" and suite.alg in self._algorithms

    def allows_by_default(self, suite: Suite) -> bool:
        return self.supports(suite)

    def _key(self, key: KeyData, suite: Suite) -> jwt.PyJWK | str | bytes:
        if isinstance(key, str | bytes):
            return key  # PyJWT takes PEM text or an HMAC secret as it is
        if not self._has_pyjwk:
            return self.imported(key, suite.alg, lambda data: _from_jwk(data, suite.alg))
        # A JWK that names its algorithm keeps it, as PyJWK(jwk) reads it; otherwise the suite's.
        imported = self.imported(key, suite.alg, lambda data: jwt.PyJWK(
            data, algorithm=None if "alg" in data else suite.alg))
        # Releases before PyJWK was accepted by decode take the key object it holds.
        return imported if self._takes_pyjwk else imported.key

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        token = self._jws.encode(payload, self._key(key, suite), algorithm=suite.alg,
                                 headers=header or None)
        # PyJWT 1.x returns bytes, 2.x text.
        return token.decode("ascii") if isinstance(token, bytes) else token

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        chosen = self._from_key_set(key, token) if is_jwks(key) else self._key(key, suite)
        # PyJWT has no default allow-list: its documented call always names the algorithms.
        return self._jws.decode(token, chosen, algorithms=allowed or [suite.alg])

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        chosen = self._from_key_set(key, token) if is_jwks(key) else self._key(key, suite)
        return claims_bytes(jwt.decode(token, chosen, algorithms=allowed or [suite.alg]))

    def _from_key_set(self, key: KeyData, token: str) -> Any:
        """The key a `PyJWKSet` holds for the token's kid, as PyJWT looks it up: the set skips
        keys it cannot use and guesses each key's algorithm from `kty`/`crv` when the JWK has no
        `alg`, so the library, not the harness, decides what a key-set row verifies with."""
        key_set_class = getattr(jwt, "PyJWKSet", None)
        if key_set_class is None or not hasattr(key_set_class, "__getitem__"):
            raise Unsupported("this PyJWT release has no PyJWKSet lookup by kid "
                              "(PyJWKSet.__getitem__ arrived in 2.4)")
        key_set = self.imported(key, "jwks", key_set_class.from_dict)
        kid = jwt.get_unverified_header(token).get("kid")
        try:
            found = key_set[kid]
        except KeyError as error:
            raise Rejected(f"PyJWKSet: {error_text(error)}") from error
        return found if self._takes_pyjwk else found.key

    def _validate_claims(self, suite: Suite, token: str, key: KeyData, options: ClaimsOptions,
                         allowed: Allowed) -> dict[str, Any]:
        # Only what the application set is passed, so unset fields keep PyJWT's defaults.
        settings: dict[str, Any] = {}
        if options.leeway_s is not None:
            settings["leeway"] = options.leeway_s
        if options.audience is not None:
            settings["audience"] = options.audience
        if options.issuer is not None:
            settings["issuer"] = options.issuer
        if options.required:
            settings["options"] = {"require": list(options.required)}
        return jwt.decode(token, self._key(key, suite), algorithms=allowed or [suite.alg],
                          **settings)

    # -- the registry's names (added last) ------------------------------------------------------

    def registered_names(self) -> dict[str, list[str]]:
        # `get_algorithms()` of a PyJWS: the names its `encode`/`decode` accept.
        return {"JWS alg": list(PyJWS().get_algorithms())}

    # Declared: PyJWT has no key-generation call (`PyJWK` and `Algorithm.from_jwk`/`to_jwk`
    # import and export keys it is given) and no RFC 7638 thumbprint.

    keygen_api = None

    access_token_api = ("jwt.api_jwt.decode_complete with audience, issuer and options.require "
                        "exp/iss/aud; PyJWT has no typ option, so the header decode_complete "
                        "returns is checked for at+jwt; no JWE, so no encrypted access token")

    def _validate_access_token(self, token: str, check: AccessTokenCheck) -> dict[str, Any]:
        if check.encryption is not None:
            raise Unsupported("PyJWT implements no JWE: it cannot take an encrypted access token")
        decoded = decode_complete(token, self._key(check.verification_key, check.signing),
                                  algorithms=check.signing_algorithms, audience=check.audience,
                                  issuer=check.issuer,
                                  options={"require": ["exp", "iss", "aud"]})
        require_at_jwt(decoded["header"], self.name)
        return dict(decoded["payload"])
    def _verify_resolved(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                         serialization: Serialization) -> bytes:
        if not hasattr(jwt, "PyJWKClient"):
            raise Unsupported("this PyJWT release has no PyJWKClient (it arrived in 2.0)")
        client = self.imported(key, "client",
                                 lambda data: jwt.PyJWKClient(jwks_server.serve(data)))
        signing_key = client.get_signing_key_from_jwt(token)
        chosen = signing_key if self._takes_pyjwk else signing_key.key
        return claims_bytes(jwt.decode(token, chosen, algorithms=allowed or [suite.alg]))


def _from_jwk(data: dict[str, Any], alg: str) -> Any:
    """PyJWT 1.x: the key object of the JWK's algorithm class (`RSAAlgorithm.from_jwk`, ...)."""
    algorithm = jwt.algorithms.get_default_algorithms()[data.get("alg", alg)]
    try:
        return algorithm.from_jwk(json.dumps(data))
    except NotImplementedError as error:  # 1.x implements it for RSA and HMAC only
        raise Unsupported(f"this PyJWT release cannot import a {data.get('kty')} JWK "
                          f"({type(algorithm).__name__}.from_jwk)") from error


def _decode_takes_pyjwk() -> bool:
    """Whether this PyJWT release's decode accepts a PyJWK (older ones want the key object)."""
    key = jwt.PyJWK({"kty": "oct", "k": "cHJvYmUtcHJvYmUtcHJvYmUtcHJvYmUtcHJvYmUtcHJvYmU"},
                    algorithm="HS256")
    token = PyJWS().encode(b"probe", key.key, algorithm="HS256")
    try:
        PyJWS().decode(token, key, algorithms=["HS256"])
    except (TypeError, PyJWTError):
        return False
    return True
