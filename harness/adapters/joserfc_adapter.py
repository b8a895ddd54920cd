"""joserfc: JWS and JWE, compact and JSON (flattened and general) serialization.

Its registries allow only the algorithms it marks "recommended" unless the caller passes an
`algorithms` list, which is exactly the difference between `default` and `enabled` mode.

Entry points: `jws.deserialize_*` / `jwe.decrypt_*` and `jwt.decode` (the JWT API, compact only,
https://jose.authlib.org/en/guide/jwt/; a JWE needs `registry=JWERegistry()`). Both take a
`KeySet` and pick by `kid`; its key callable (`KeyFlexible`: a function of the token object,
whose `headers()` it reads) is the `resolver` entry point. Key text handed
over untouched goes through `jwk.import_key(text)` without a key type, the documented call that
guesses the type; releases before 1.0 have no `jwk.import_key` (it is `JWKRegistry.import_key`)
and their key parameter (`KeyFlexible`) takes `str` and `bytes` itself, so there the text goes
to `decode` as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any, TypeVar

import joserfc
from joserfc import jwe, jwk, jws, jwt
from joserfc.errors import JoseError

from harness.adapters.base import (
    AccessTokenCheck,
    Adapter,
    Allowed,
    KeyData,
    Serialization,
    claims_bytes,
    error_text,
    is_jwks,
    raised_inside,
    require_at_jwt,
)
from harness.core.claims import ClaimsOptions
from harness.core.errors import Rejected, Unsupported
from harness.core.keyforms import handed_over
from harness.core.suites import Suite

T = TypeVar("T")
JSON_FORMS: frozenset[Serialization] = frozenset({"compact", "flattened", "general"})
# `jwk.import_key` arrived in joserfc 1.0; before it, `JWKRegistry.import_key` did the same.
IMPORT_KEY = getattr(jwk, "import_key", None) or jwk.JWKRegistry.import_key
# Before 1.0 the key parameter of every call took key text itself (KeyFlexible had str, bytes).
TAKES_KEY_TEXT = not hasattr(jwk, "import_key")
# joserfc 0.9 and 1.0 refuse many malformed tokens with a plain ValueError (a bad base64url
# segment, a header that is not an object, an unknown kid, ...), where later releases raise
# their own JoseError types: there a ValueError raised inside joserfc is its refusal.
REFUSES_WITH_VALUE_ERROR = tuple(
    int(part) for part in metadata.version("joserfc").split(".")[:2]) <= (1, 0)


class JoserfcAdapter(Adapter):
    name = "joserfc"
    distribution = "joserfc"
    rejection_errors = (JoseError,)
    produces = {"JWS": JSON_FORMS, "JWE": JSON_FORMS}
    consumes = {"JWS": JSON_FORMS, "JWE": JSON_FORMS}
    entry_points = {"jws": "joserfc.jws.deserialize_compact/json, joserfc.jwe.decrypt_*",
                    "jwt": "joserfc.jwt.decode (https://jose.authlib.org/en/guide/jwt/)",
                    "resolver": "joserfc.jwt.decode(value, resolve_key), resolve_key(obj) -> "
                                "key_set.get_by_kid(obj.headers()['kid']) (KeyFlexible's key "
                                "callable, https://jose.authlib.org/en/guide/jwk/)"}

    def supports(self, suite: Suite) -> bool:
        if suite.family == "JWS":
            return suite.alg in jws.JWSRegistry.algorithms
        names = jwe.JWERegistry.algorithms
        return suite.alg in names["alg"] and suite.enc in names["enc"]

    def allows_by_default(self, suite: Suite) -> bool:
        if suite.family == "JWS":
            return self.supports(suite) and jws.JWSRegistry.algorithms[suite.alg].recommended
        recommended = jwe.JWERegistry.recommended
        return suite.alg in recommended and suite.enc in recommended

    def _key(self, key: KeyData, suite: Suite) -> Any:
        try:
            return self._import(key, suite)
        except ValueError as error:
            # joserfc refuses unusable key material (an empty oct key, ...) at import with a
            # ValueError: the library refusing the configuration, not an undocumented failure.
            raise Rejected(f"joserfc refused the key: {error_text(error)}") from error

    def _import(self, key: KeyData, suite: Suite) -> Any:
        if is_jwks(key):
            return self.imported(key, "jwks", jwk.KeySet.import_key_set)
        if handed_over(key):
            return self.imported(key, "raw", _import_untouched)
        if isinstance(key, str | bytes):
            # joserfc's docs: for text and bytes "developers SHOULD pass the key_type"; without
            # it, import_key guesses and makes anything that is not PEM/DER/SSH an OctKey.
            kty = suite.key.kty
            return self.imported(key, f"text-{kty}", lambda data: _import_text(data, kty))
        return self.imported(key, "key", IMPORT_KEY)

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        protected = {"alg": suite.alg, **header}
        if serialization == "compact":
            return jws.serialize_compact(protected, payload, self._key(key, suite),
                                        algorithms=allowed)
        members: Any = {"protected": protected}
        if serialization == "general":
            members = [members]
        return json.dumps(jws.serialize_json(members, payload, self._key(key, suite),
                                             algorithms=allowed))

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        if serialization == "compact":
            result = jws.deserialize_compact(token, self._key(key, suite), algorithms=allowed)
        else:
            message = json.loads(token)
            with _every_member(message, "signatures", "verifies every signature, each with "
                               "an allowed alg and a key that fits it"):
                result = jws.deserialize_json(message, self._key(key, suite),
                                              algorithms=allowed)
        return result.payload

    def _encrypt(self, suite: Suite, plaintext: bytes, key: KeyData, header: dict[str, Any],
                 allowed: Allowed, serialization: Serialization) -> str:
        protected = {"alg": suite.alg, "enc": suite.enc, **header}
        if serialization == "compact":
            return jwe.encrypt_compact(protected, plaintext, self._key(key, suite),
                                       algorithms=allowed)
        form = jwe.GeneralJSONEncryption if serialization == "general" else \
            jwe.FlattenedJSONEncryption
        message = form(protected, plaintext)
        message.add_recipient(None, self._key(key, suite))
        return json.dumps(jwe.encrypt_json(message, None, algorithms=allowed))

    def _decrypt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                 serialization: Serialization) -> bytes:
        if serialization == "compact":
            result = jwe.decrypt_compact(token, self._key(key, suite), algorithms=allowed)
        else:
            message = json.loads(token)
            with _every_member(message, "recipients", "processes every recipient, each with "
                               "an allowed alg and a key: JWERegistry(verify_all_recipients="
                               "True) by default"):
                result = jwe.decrypt_json(message, self._key(key, suite), algorithms=allowed)
        return result.plaintext or b""

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        if serialization != "compact":
            raise Unsupported("joserfc's jwt.decode takes compact tokens only")
        return claims_bytes(jwt.decode(token, self._key(key, suite), algorithms=allowed).claims)

    def _decrypt_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                     serialization: Serialization) -> bytes:
        if serialization != "compact":
            raise Unsupported("joserfc's jwt.decode takes compact tokens only")
        return claims_bytes(jwt.decode(token, self._key(key, suite), algorithms=allowed,
                                       registry=jwe.JWERegistry()).claims)

    def _validate_claims(self, suite: Suite, token: str, key: KeyData, options: ClaimsOptions,
                         allowed: Allowed) -> dict[str, Any]:
        # joserfc's `jwt.decode` checks only the signature and that the payload is a JSON
        # object; its documented next step validates the claims with a `JWTClaimsRegistry`.
        claims = jwt.decode(token, self._key(key, suite), algorithms=allowed).claims
        requests: dict[str, Any] = {name: {"essential": True} for name in options.required}
        for name, value in (("aud", options.audience), ("iss", options.issuer)):
            if value is not None:
                requests[name] = {**requests.get(name, {}), "value": value}
        leeway = {} if options.leeway_s is None else {"leeway": int(options.leeway_s)}
        jwt.JWTClaimsRegistry(**leeway, **requests).validate(claims)
        return claims

    # -- several signatures and recipients, and the registry's names (added last) -------------

    def _sign_multi(self, signers: list[tuple[Suite, KeyData, dict[str, Any]]],
                    payload: bytes, allowed: Allowed) -> str:
        # Its docs: a list of members signs general JSON; the key is found per member by kid
        # in a KeySet.
        members: Any = [{"protected": {"alg": suite.alg, **header}}
                        for suite, _, header in signers]
        keys = jwk.KeySet([self._key(key, suite) for suite, key, _ in signers])
        return json.dumps(jws.serialize_json(members, payload, keys, algorithms=allowed))

    def _encrypt_multi(self, recipients: list[tuple[Suite, KeyData, dict[str, Any]]],
                       plaintext: bytes, allowed: Allowed) -> str:
        # `encrypt_json`'s documented example: `enc` protected, each recipient's `alg` and
        # `kid` in its own header with its own key.
        message = jwe.GeneralJSONEncryption({"enc": recipients[0][0].enc}, plaintext)
        for suite, key, header in recipients:
            message.add_recipient({"alg": suite.alg, **header}, self._key(key, suite))
        return json.dumps(jwe.encrypt_json(message, None, algorithms=allowed))

    def registered_names(self) -> dict[str, list[str]]:
        names = jwe.JWERegistry.algorithms
        return {"JWS alg": list(jws.JWSRegistry.algorithms), "JWE alg": list(names["alg"]),
                "JWE enc": list(names["enc"]), "JWE zip": list(names.get("zip", ()))}


    keygen_api = "joserfc.jwk.generate_key(key_type, crv_or_size) (https://jose.authlib.org/en/guide/jwk/)"

    def _generate_key(self, kty: str, crv: str | None, size: int | None) -> dict[str, Any]:
        # One call for every key type: a curve for EC and OKP, a size in bits for RSA and oct.
        made = jwk.generate_key(kty, crv if kty in ("EC", "OKP") else size)  # type: ignore[call-overload]
        return made.as_dict(private=True)

    def _export_jwk(self, data: dict[str, Any], private: bool) -> dict[str, Any]:
        return IMPORT_KEY(data).as_dict(private=private)

    def _export_jwks(self, data: dict[str, Any], private: bool) -> dict[str, Any]:
        return dict(jwk.KeySet([IMPORT_KEY(data)]).as_dict(private=private))

    def _thumbprint(self, data: dict[str, Any]) -> str:
        return IMPORT_KEY(data).thumbprint()

    access_token_api = ("JWE: jwe.decrypt_compact, then jwt.decode of its plaintext (joserfc's "
                        "jwt.decode reads a JWE's plaintext as the claims, not as a nested JWT: "
                        "composed); jwt.JWTClaimsRegistry(iss, aud, exp essential).validate; "
                        "joserfc has no typ check, so the header jwt.decode returns is checked")

    def _validate_access_token(self, token: str, check: AccessTokenCheck) -> dict[str, Any]:
        signed: str | bytes = token
        if check.encryption is not None:
            signed = jwe.decrypt_compact(token, self._key(check.decryption_key, check.encryption),
                                         algorithms=check.encryption_algorithms).plaintext or b""
        decoded = jwt.decode(signed, self._key(check.verification_key, check.signing),
                             algorithms=check.signing_algorithms)
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": check.issuer},
                              aud={"essential": True, "value": check.audience},
                              exp={"essential": True}).validate(decoded.claims)
        require_at_jwt(decoded.header, self.name)
        return dict(decoded.claims)
    def _resolver(self, key: KeyData) -> Any:
        key_set = self._key(key, None)  # type: ignore[arg-type]

        def resolve_key(obj: Any) -> Any:
            # The application's callback, as joserfc's docs write it: the key the kid names.
            return key_set.get_by_kid(obj.headers().get("kid"))
        return resolve_key

    def _verify_resolved(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                         serialization: Serialization) -> bytes:
        if serialization != "compact":
            raise Unsupported("joserfc's jwt.decode takes compact tokens only")
        return claims_bytes(jwt.decode(token, self._resolver(key), algorithms=allowed).claims)

    def _decrypt_resolved(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                          serialization: Serialization) -> bytes:
        if serialization != "compact":
            raise Unsupported("joserfc's jwt.decode takes compact tokens only")
        return claims_bytes(jwt.decode(token, self._resolver(key), algorithms=allowed,
                                       registry=jwe.JWERegistry()).claims)


    def _call(self, operation: Callable[..., T], *args: Any) -> T:
        try:
            return super()._call(operation, *args)
        except ValueError as error:
            # Only where the release refuses that way, and only what joserfc itself raised: a
            # ValueError from the harness's own code stays an `error` row.
            if REFUSES_WITH_VALUE_ERROR and raised_inside(error, joserfc):
                raise Rejected(f"joserfc {metadata.version('joserfc')}: "
                               f"{error_text(error)}") from error
            raise


def _import_untouched(data: str | bytes) -> Any:
    """The text as an application hands it to joserfc: `import_key` with no key type, or, for
    a release whose calls take key text, the text itself."""
    if TAKES_KEY_TEXT:
        return str(data) if isinstance(data, str) else bytes(data)
    try:
        return IMPORT_KEY(data)  # type: ignore[call-overload]
    except TypeError as error:
        raise Unsupported(f"this joserfc release's import_key requires a key type: "
                          f"{error}") from error


def _import_text(data: str | bytes, kty: Any) -> Any:
    """JWK JSON text is a JWK: parsed and imported as the dict joserfc documents; PEM, DER,
    OpenSSH text or a raw secret with the key type the application is configured for."""
    if isinstance(data, str) and data.lstrip().startswith("{"):
        return IMPORT_KEY(json.loads(data))
    return IMPORT_KEY(data, kty)


@contextmanager
def _every_member(message: Any, members: str, why: str) -> Iterator[None]:
    """A refusal of a token with several signatures or recipients says what joserfc does with
    them (its own text often names only the key it could not use)."""
    try:
        yield
    except JoseError as error:
        listed = message.get(members) if isinstance(message, dict) else None
        if isinstance(listed, list) and len(listed) > 1:
            raise Rejected(f"{error_text(error)} (joserfc {why})") from error
        raise
