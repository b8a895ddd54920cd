"""jwcrypto: JWS and JWE; compact and JSON serialization.

Its JWS and JWE objects carry an allow-list (`default_allowed_algs` unless the caller sets
`allowed_algs`), which is the difference between `default` and `enabled` mode. A JWS with a
single signature always serializes as flattened JSON, so it cannot produce general JWS JSON.

Entry points: `JWS.deserialize` / `JWE.deserialize` and the JWT API,
`jwt.JWT(jwt=token, key=key, algs=...)` (https://jwcrypto.readthedocs.io/en/latest/jwt.html),
compact only, JWS and JWE alike; `expected_type` (jwcrypto 1.4+) names the family. Both take a
`JWKSet` and pick by `kid`; it has no key callable, so its `resolver` entry point is the JWT API
with a `JWKSet`, the key-resolving form its JWT docs describe (the same call as `jwt` with the
`jwks` key form, named as the form an application resolving keys writes). Its key parameters
take `JWK` and `JWKSet` objects only: key text cannot be handed over untouched, which is
declared, not guessed.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from jwcrypto import jwe, jwk, jws, jwt
from jwcrypto.common import JWException, json_encode
from jwcrypto.jwa import JWA

from harness.adapters.base import (
    AccessTokenCheck,
    Adapter,
    Allowed,
    KeyData,
    Serialization,
    is_jwks,
    require_at_jwt,
)
from harness.core.claims import ClaimsOptions
from harness.core.errors import Unsupported
from harness.core.keyforms import handed_over
from harness.core.keys import b64url
from harness.core.suites import Suite

ALL_FORMS: frozenset[Serialization] = frozenset({"compact", "flattened", "general"})
# `JWE(flattened=False)` arrived in jwcrypto 1.6; older releases write one recipient flattened.
JWE_GENERAL = "flattened" in inspect.signature(jwe.JWE).parameters
# `JWT(expected_type=...)` arrived in jwcrypto 1.4 (with its JWS/JWE type heuristics).
JWT_EXPECTED_TYPE = "expected_type" in inspect.signature(jwt.JWT).parameters


class JwcryptoAdapter(Adapter):
    name = "jwcrypto"
    distribution = "jwcrypto"
    rejection_errors = (JWException,)
    produces = {"JWS": frozenset({"compact", "flattened"}),
                "JWE": ALL_FORMS if JWE_GENERAL else frozenset({"compact", "flattened"})}
    consumes = {"JWS": ALL_FORMS, "JWE": ALL_FORMS}
    entry_points = {"jws": "jwcrypto.jws.JWS.deserialize, jwcrypto.jwe.JWE.deserialize",
                    "jwt": "jwcrypto.jwt.JWT(jwt=..., key=...) "
                           "(https://jwcrypto.readthedocs.io/en/latest/jwt.html)",
                    "resolver": "jwcrypto.jwt.JWT(jwt=..., key=JWKSet): 'a JWKSet that contains "
                                "a key indexed by the kid header' "
                                "(https://jwcrypto.readthedocs.io/en/latest/jwt.html)"}

    def supports(self, suite: Suite) -> bool:
        return all(name in JWA.algorithms_registry for name in self._names(suite))

    def allows_by_default(self, suite: Suite) -> bool:
        allowed = jws.default_allowed_algs if suite.family == "JWS" else jwe.default_allowed_algs
        return all(name in allowed for name in self._names(suite))

    @staticmethod
    def _names(suite: Suite) -> list[str]:
        return [suite.alg] + ([suite.enc] if suite.enc else [])

    def _key(self, key: KeyData, suite: Suite | None = None) -> jwk.JWK | jwk.JWKSet:
        if is_jwks(key):
            return self.imported(key, "jwks", lambda data: jwk.JWKSet.from_json(json.dumps(data)))
        if handed_over(key):
            raise Unsupported("jwcrypto's key parameters take JWK or JWKSet objects only, "
                              "not key text")
        if isinstance(key, str | bytes):
            symmetric = suite is not None and suite.key.kty == "oct"
            return self.imported(key, f"text-{symmetric}",
                                 lambda data: _import_text(data, symmetric))
        return self.imported(key, "key", lambda data: jwk.JWK(**data))

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        token = jws.JWS(payload)
        if allowed:
            token.allowed_algs = allowed
        token.add_signature(self._key(key, suite), alg=None,
                            protected=json_encode({"alg": suite.alg, **header}))
        return token.serialize(compact=serialization == "compact")

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        message = jws.JWS()
        if allowed:
            message.allowed_algs = allowed
        message.deserialize(token, key=self._key(key, suite))
        return message.payload

    def _encrypt(self, suite: Suite, plaintext: bytes, key: KeyData, header: dict[str, Any],
                 allowed: Allowed, serialization: Serialization) -> str:
        protected = {"alg": suite.alg, "enc": suite.enc, **header}
        form = {"flattened": serialization != "general"} if JWE_GENERAL else {}
        message = jwe.JWE(plaintext, protected=json_encode(protected), algs=allowed, **form)
        message.add_recipient(self._key(key, suite))
        return message.serialize(compact=serialization == "compact")

    def _decrypt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                 serialization: Serialization) -> bytes:
        message = jwe.JWE(algs=allowed)
        message.deserialize(token, key=self._key(key, suite))
        return message.payload

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        return self._jwt(suite, token, key, allowed, serialization)

    def _decrypt_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                     serialization: Serialization) -> bytes:
        return self._jwt(suite, token, key, allowed, serialization)

    def _jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
             serialization: Serialization) -> bytes:
        if serialization != "compact":
            raise Unsupported("jwcrypto's JWT takes compact tokens only")
        typed = {"expected_type": suite.family} if JWT_EXPECTED_TYPE else {}
        token_object = jwt.JWT(jwt=token, key=self._key(key, suite), algs=allowed, **typed)
        claims = token_object.claims
        return claims.encode("utf-8") if isinstance(claims, str) else bytes(claims)

    def _validate_claims(self, suite: Suite, token: str, key: KeyData, options: ClaimsOptions,
                         allowed: Allowed) -> dict[str, Any]:
        # `check_claims` maps a claim to the value it must have, or None for "present". Left
        # unset when the application sets nothing: jwcrypto then checks `exp` and `nbf` itself,
        # which it no longer does once a `check_claims` dict is given without them.
        checks: dict[str, Any] = dict.fromkeys(options.required)
        if options.audience is not None:
            checks["aud"] = options.audience
        if options.issuer is not None:
            checks["iss"] = options.issuer
        token_object = jwt.JWT(algs=allowed, check_claims=checks or None, expected_type="JWS")
        if options.leeway_s is not None:
            token_object.leeway = options.leeway_s
        token_object.deserialize(token, self._key(key, suite))
        return json.loads(token_object.claims)

    # -- several signatures and recipients, and the registry's names (added last) -------------

    def _sign_multi(self, signers: list[tuple[Suite, KeyData, dict[str, Any]]],
                    payload: bytes, allowed: Allowed) -> str:
        token = jws.JWS(payload)
        if allowed:
            token.allowed_algs = allowed
        for suite, key, header in signers:
            token.add_signature(self._key(key, suite), alg=None,
                                protected=json_encode({"alg": suite.alg, **header}))
        return token.serialize(compact=False)

    def _encrypt_multi(self, recipients: list[tuple[Suite, KeyData, dict[str, Any]]],
                       plaintext: bytes, allowed: Allowed) -> str:
        # `add_recipient(key, header=...)` once per recipient, its header unprotected.
        form = {"flattened": False} if JWE_GENERAL else {}
        message = jwe.JWE(plaintext, protected=json_encode({"enc": recipients[0][0].enc}),
                          algs=allowed, **form)
        for suite, key, header in recipients:
            message.add_recipient(self._key(key, suite),
                                  header=json_encode({"alg": suite.alg, **header}))
        return message.serialize(compact=False)

    def registered_names(self) -> dict[str, list[str]]:
        # One registry for all; each entry says where it is used (`alg`/`enc`) and for what.
        where = {("alg", "sig"): "JWS alg", ("alg", "kex"): "JWE alg", ("enc", "enc"): "JWE enc"}
        names: dict[str, list[str]] = {}
        for name, algorithm in JWA.algorithms_registry.items():
            location = where.get((getattr(algorithm, "algorithm_usage_location", None),
                                  getattr(algorithm, "algorithm_use", None)), "any")
            names.setdefault(location, []).append(name)
        return names

    keygen_api = "jwcrypto.jwk.JWK.generate(kty=..., size=/crv=...) (https://jwcrypto.readthedocs.io/en/latest/jwk.html)"
    keygen_requires = {"OKP": "curve"}

    def _generate_key(self, kty: str, crv: str | None, size: int | None) -> dict[str, Any]:
        params: dict[str, Any] = {"kty": kty}
        if crv is not None:
            params["crv"] = crv
        if size is not None:
            params["size"] = size
        return jwk.JWK.generate(**params).export(private_key=True, as_dict=True)

    def _export_jwk(self, data: dict[str, Any], private: bool) -> dict[str, Any]:
        return jwk.JWK(**data).export(private_key=private, as_dict=True)

    def _export_jwks(self, data: dict[str, Any], private: bool) -> dict[str, Any]:
        key_set = jwk.JWKSet()
        key_set.add(jwk.JWK(**data))
        return key_set.export(private_keys=private, as_dict=True)

    def _thumbprint(self, data: dict[str, Any]) -> str:
        return jwk.JWK(**data).thumbprint()

    access_token_api = ("JWE: jwt.JWT(jwt=token, key=decryption key, expected_type='JWE'), then "
                        "jwt.JWT(jwt=its claims, key=verification key, check_claims={iss, aud, "
                        "exp}), as jwcrypto's docs show for a nested token; jwcrypto has no "
                        "header typ check, so the inner token's jose_header is checked")

    def _validate_access_token(self, token: str, check: AccessTokenCheck) -> dict[str, Any]:
        if check.encryption is not None:
            typed = {"expected_type": "JWE"} if JWT_EXPECTED_TYPE else {}
            outer = jwt.JWT(jwt=token, key=self._key(check.decryption_key, check.encryption),
                            algs=check.encryption_algorithms, **typed)
            token = outer.claims
        typed = {"expected_type": "JWS"} if JWT_EXPECTED_TYPE else {}
        inner = jwt.JWT(jwt=token, key=self._key(check.verification_key, check.signing),
                        algs=check.signing_algorithms, **typed,
                        check_claims={"iss": check.issuer, "aud": check.audience, "exp": None})
        require_at_jwt(inner.token.jose_header, self.name)
        return dict(json.loads(inner.claims))

    def _verify_resolved(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                         serialization: Serialization) -> bytes:
        return self._jwt(suite, token, key, allowed, serialization)

    _decrypt_resolved = _verify_resolved


def _import_text(data: str | bytes, symmetric: bool) -> jwk.JWK:
    """A key held as text or bytes, through the jwcrypto API for that form: PEM through
    `JWK.from_pem`, JWK JSON text through `JWK.from_json`, and bytes as an oct secret only when
    the application is configured for an HMAC suite. jwcrypto has no import for OpenSSH or DER
    text: turning those into a secret would manufacture a key confusion, so they are declared
    unsupported."""
    raw = data.encode() if isinstance(data, str) else data
    if raw.lstrip().startswith(b"-----BEGIN"):
        return jwk.JWK.from_pem(raw)
    if isinstance(data, str) and data.lstrip().startswith("{"):
        return jwk.JWK.from_json(data)
    if symmetric and isinstance(data, bytes):
        return jwk.JWK(kty="oct", k=b64url(raw))
    raise Unsupported("jwcrypto imports keys as JWK, JWK JSON or PEM; it has no import for "
                      "this key text (OpenSSH or DER)")
