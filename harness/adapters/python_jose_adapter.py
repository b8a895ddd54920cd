"""python-jose (cryptography backend): JWS and JWE, compact serialization only.

What it implements is its own `ALGORITHMS.SUPPORTED` set, for which its backend has a key class
(`jose.jwk.get_key`): no RSA-PSS, EdDSA, ES256K, ECDH-ES, AES-GCM key wrap or PBES2, and no JSON
serialization. It has no allow-list of its own: `jws.verify` takes the caller's `algorithms`
(a required argument, as in PyJWT) and `jwe.decrypt` takes none at all, so `default` and
`enabled` modes call it the same way.

Entry points: `jws.verify` / `jwe.decrypt` and `jwt.decode` (the JWT API, JWS only:
https://python-jose.readthedocs.io/en/latest/jwt/api.html). `jws.verify` and `jwt.decode` take a
JWKS dict and try its keys themselves; `jwe.decrypt`'s docstring offers "individual JWK or JWK
set" but hands the key to `jwk.construct`, which takes one key, so the `jwks` form is declared
unsupported there. It has no key callable or key client (no `resolver` entry point), and its
`jwt.decode` verifies a JWS only (it calls `jws.verify`), so an encrypted JWT has no JWT API.
Key text (PEM, a secret) goes in as it is, imported or handed over alike.
"""

from __future__ import annotations

import zlib
from typing import Any

from jose import jwe, jwk, jws, jwt
from jose.constants import ALGORITHMS, ZIPS
from jose.exceptions import JOSEError
from jose.utils import base64url_decode

from harness.adapters.base import (
    AccessTokenCheck,
    Adapter,
    Allowed,
    KeyData,
    Serialization,
    claims_bytes,
    is_jwks,
    require_at_jwt,
)
from harness.core.claims import ClaimsOptions
from harness.core.errors import Rejected, Unsupported
from harness.core.suites import Suite

COMPACT: frozenset[Serialization] = frozenset({"compact"})
# `jwe.encrypt` builds the protected header itself from these keyword arguments only.
JWE_HEADER_ARGUMENTS = frozenset({"zip", "cty", "kid"})
# The claims `jwt.decode` can require, each through its own `require_<name>` option.
REQUIRABLE = frozenset({"aud", "iat", "exp", "nbf", "iss", "sub", "jti", "at_hash"})
# The key classes its backends offer; the backend has no class for the other curves.
CURVES = {"EC": frozenset({"P-256", "P-384", "P-521"})}


class PythonJoseAdapter(Adapter):
    name = "python-jose"
    distribution = "python-jose"
    # JOSEError is its base class; its `jwe.decrypt` lets zlib.error escape when the `zip: DEF`
    # content is not the zlib stream it expects (jose/jwe.py `_decompress`).
    rejection_errors = (JOSEError, zlib.error)
    produces = {"JWS": COMPACT, "JWE": COMPACT}
    consumes = {"JWS": COMPACT, "JWE": COMPACT}
    entry_points = {"jws": "jose.jws.verify, jose.jwe.decrypt",
                    "jwt": "jose.jwt.decode (https://python-jose.readthedocs.io/)"}

    def supports(self, suite: Suite) -> bool:
        names = [suite.alg] + ([suite.enc] if suite.enc else [])
        if not all(name in ALGORITHMS.SUPPORTED for name in names):
            return False
        if jwk.get_key(suite.alg) is None:
            return False
        curves = CURVES.get(suite.key.kty)
        return curves is None or suite.key.param in curves

    def allows_by_default(self, suite: Suite) -> bool:
        return self.supports(suite)

    def _key(self, key: KeyData, suite: Suite) -> Any:
        if isinstance(key, str | bytes):
            return key  # its documented calls take PEM text or a secret as they are
        return self.imported(key, suite.alg, lambda data: jwk.construct(data, suite.alg))

    def _jwe_key(self, jwk_dict: KeyData, suite: Suite) -> Any:
        # `jwe.encrypt`/`decrypt` hand the key to `jwk.construct` with the token's `alg`. Its
        # AES and `dir` key classes take only raw bytes, not the JWK dict its docstring offers.
        # Given an RSA JWK dict, it imports the private key again on every call (cryptography's
        # key check, about 35 ms here): the key goes in as the cryptography key python-jose's
        # own `jwk.construct` makes of that JWK, once per process, as every adapter imports a
        # key once and as the load test keeps key import out of the timed region (a token
        # naming another `alg`: `_decrypted`).
        if isinstance(jwk_dict, str | bytes):
            return jwk_dict
        if jwk_dict["kty"] == "oct":
            return self.imported(jwk_dict, "raw",
                                 lambda data: base64url_decode(data["k"].encode("ascii")))
        if jwk_dict["kty"] == "RSA" and suite.alg in ALGORITHMS.RSA_KW:
            return self.imported(jwk_dict, "prepared-RSA",
                                 lambda data: jwk.construct(data, suite.alg).prepared_key)
        return jwk_dict

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        return jws.sign(payload, self._key(key, suite), headers=header or None,
                        algorithm=suite.alg)

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        # A JWKS goes in as the dict: `jws.verify` documents it and tries each key in turn.
        chosen = key if is_jwks(key) else self._key(key, suite)
        # python-jose has no default allow-list: its documented call names the algorithms.
        return jws.verify(token, chosen, algorithms=allowed or [suite.alg])

    def _encrypt(self, suite: Suite, plaintext: bytes, key: KeyData, header: dict[str, Any],
                 allowed: Allowed, serialization: Serialization) -> str:
        extra = set(header) - JWE_HEADER_ARGUMENTS
        if extra:
            raise Unsupported(f"python-jose's jwe.encrypt cannot set header {sorted(extra)}")
        token = jwe.encrypt(plaintext, self._jwe_key(key, suite), encryption=suite.enc,
                            algorithm=suite.alg, **header)
        return token.decode("ascii")

    def _decrypt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                 serialization: Serialization) -> bytes:
        if is_jwks(key):
            raise Unsupported("python-jose's jwe.decrypt passes its key to jwk.construct, which "
                              "takes a single key, not the JWK set its docstring offers")
        plaintext = self._decrypted(token, key, suite)
        if plaintext is None:
            # It returns None, not an error, when the content key did not unwrap.
            raise Rejected("python-jose: jwe.decrypt returned None (content key not unwrapped)")
        return plaintext

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        chosen = key if is_jwks(key) else self._key(key, suite)
        return claims_bytes(jwt.decode(token, chosen, algorithms=allowed or [suite.alg]))

    def _validate_claims(self, suite: Suite, token: str, key: KeyData, options: ClaimsOptions,
                         allowed: Allowed) -> dict[str, Any]:
        unknown = set(options.required) - REQUIRABLE
        if unknown:
            raise Unsupported(f"python-jose's jwt.decode cannot require {sorted(unknown)}")
        settings: dict[str, Any] = {f"require_{name}": True for name in options.required}
        if options.leeway_s is not None:
            settings["leeway"] = options.leeway_s
        chosen = key if is_jwks(key) else self._key(key, suite)
        return jwt.decode(token, chosen, algorithms=allowed or [suite.alg],
                          options=settings or None, audience=options.audience,
                          issuer=options.issuer)

    # -- the registry's names (added last) ------------------------------------------------------

    def registered_names(self) -> dict[str, list[str]]:
        # `ALGORITHMS.ALL` is every name python-jose knows, grouped by the sets it keeps.
        signing = ALGORITHMS.HMAC | ALGORITHMS.RSA_DS | ALGORITHMS.EC_DS | {ALGORITHMS.NONE}
        encryption = ALGORITHMS.AES_JWE_ENC
        return {"JWS alg": sorted(signing & ALGORITHMS.ALL),
                "JWE alg": sorted(ALGORITHMS.ALL - signing - encryption),
                "JWE enc": sorted(encryption & ALGORITHMS.ALL),
                "JWE zip": [z for z in ZIPS.SUPPORTED if z]}
    # Declared: python-jose has no key-generation call (`jwk.construct` imports key material it
    # is given; its key classes' `to_dict` export) and no RFC 7638 thumbprint.

    keygen_api = None

    access_token_api = ("JWE: jwe.decrypt (it takes no allow-list), then jwt.decode of the "
                        "plaintext (its jwt.decode takes JWS only: composed); jwt.decode with "
                        "audience, issuer and require_exp/iss/aud; python-jose has no typ check, "
                        "so jwt.get_unverified_header of the verified token is checked. The "
                        "RSA decryption key goes to jwe.decrypt as the cryptography key its "
                        "backend accepts, made once, as in every JWE call: given the JWK dict "
                        "its docstring names, it imports the private key again on every call "
                        "(hundreds of ms for RSA on a busy 2-core host)")

    def _decrypted(self, token: str, key: KeyData, suite: Suite) -> bytes | None:
        """`jwe.decrypt` with the key `_jwe_key` made once. A token whose own `alg` is not RSA
        key management (an A128KW token offered to the RSA key) fails on the key object with a
        TypeError where its key-wrap class refuses the JWK dict (JWKError): it gets the dict,
        as python-jose's documented call has it, rather than an `error` row."""
        prepared = self._jwe_key(key, suite)
        try:
            return jwe.decrypt(token, prepared)
        except TypeError:
            if prepared is key or key["kty"] != "RSA":  # type: ignore[index]
                raise
            return jwe.decrypt(token, key)

    def _validate_access_token(self, token: str, check: AccessTokenCheck) -> dict[str, Any]:
        if check.encryption is not None:
            assert check.decryption_key is not None
            plaintext = self._decrypted(token, check.decryption_key, check.encryption)
            if plaintext is None:
                raise Rejected("python-jose: jwe.decrypt returned None (content key not "
                               "unwrapped)")
            try:
                token = plaintext.decode("ascii")
            except UnicodeDecodeError as error:
                raise Rejected("python-jose: the JWE's plaintext is not a compact JWS") \
                    from error
        options = {"require_exp": True, "require_iss": True, "require_aud": True}
        claims = jwt.decode(token, self._key(check.verification_key, check.signing),
                            algorithms=check.signing_algorithms, audience=check.audience,
                            issuer=check.issuer, options=options)
        require_at_jwt(jwt.get_unverified_header(token), self.name)
        return dict(claims)
    def _decrypt_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                     serialization: Serialization) -> bytes:
        raise Unsupported("python-jose's jwt.decode verifies a JWS only (it calls jws.verify; "
                          "https://python-jose.readthedocs.io/en/latest/jwt/api.html documents "
                          "no encrypted JWT)")
