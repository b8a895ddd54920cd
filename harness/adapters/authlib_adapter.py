"""Authlib's `authlib.jose`: JWS and JWE; compact and JSON serialization, within limits.

`JsonWebSignature` and `JsonWebEncryption` take an `algorithms` allow-list; without one they
accept every registered algorithm not marked `deprecated` (`none` for JWS, `RSA1_5` for JWE),
which is the difference between `default` and `enabled` mode. Its JWE JSON serializer always
writes the general syntax and its parser reads only the general syntax (it indexes
`recipients`). It registers no PBES2 algorithm.

Importing `authlib.jose` warns that the module is deprecated in favour of joserfc (Authlib's
author's successor library); the warning is silenced at import so that it does not repeat in
every worker, and the report says so.

Entry points: `JsonWebSignature.deserialize_*` / `JsonWebEncryption.deserialize_*` and the JWT
API, `jwt.decode(s, key)` then `claims.validate()` (https://docs.authlib.org/en/latest/jose/jwt.html),
compact JWS and JWE alike; with no allow-list it is Authlib's module-level `jwt`, which names
every algorithm it registers. A JWKS goes to the JWT API as Authlib's own `KeySet`
(`JsonWebKey.import_key_set`), which `jwt.decode` looks up by the header's kid; the JWS/JWE calls
take one key or a key callable, no key set, so the `jwks` form is declared unsupported there. The
key callable `key(header, payload)` is the `resolver` entry point. Key text handed over untouched
goes to `key` as it is, so Authlib's own per-algorithm `prepare_key` reads it, instead of the
adapter's `JsonWebKey.import_key`.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from authlib.deprecate import AuthlibDeprecationWarning
from cryptography.exceptions import InvalidTag

# authlib.deprecate installs an "always" filter for its warning when imported, so the filter
# that silences the import-time notice must be added after it, not before.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.jose import (
        JoseError,
        JsonWebEncryption,
        JsonWebKey,
        JsonWebSignature,
        JsonWebToken,
        KeySet,
        jwt,
    )
    from authlib.jose.errors import MissingAlgorithmError

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
from harness.core.claims import ClaimsOptions
from harness.core.errors import Rejected, Unsupported
from harness.core.keyforms import handed_over
from harness.core.suites import Suite

# Authlib's RFC 9068 claims class (authlib.oauth2.rfc9068, 1.3+), which checks the header
# `typ`; in 1.6+ it validates through joserfc, whose errors are then its refusals too.
try:
    from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims as ACCESS_TOKEN_CLAIMS
except ImportError:  # pragma: no cover - an Authlib release without it
    ACCESS_TOKEN_CLAIMS = None
try:
    from joserfc.errors import JoseError as JoserfcError
    CLAIMS_ERRORS: tuple[type[BaseException], ...] = (JoserfcError,)
except ImportError:  # pragma: no cover
    CLAIMS_ERRORS = ()


class AuthlibAdapter(Adapter):
    name = "authlib"
    distribution = "Authlib"
    # JoseError is its base class; it also raises ValueError where its docstrings say so
    # (`KeySet.find_by_kid`, too-long or too-many-recipient input) and cryptography's
    # InvalidTag itself when a JWE authentication tag does not match (rfc7518/jwe_encs.py).
    rejection_errors = (JoseError, ValueError, InvalidTag)
    produces = {"JWS": frozenset({"compact", "flattened", "general"}),
                "JWE": frozenset({"compact", "general"})}
    consumes = {"JWS": frozenset({"compact", "flattened", "general"}),
                "JWE": frozenset({"compact", "general"})}
    entry_points = {"jws": "authlib.jose.JsonWebSignature / JsonWebEncryption deserialize",
                    "jwt": "authlib.jose.jwt.decode + claims.validate() "
                           "(https://docs.authlib.org/en/latest/jose/jwt.html)",
                    "resolver": "authlib.jose.jwt.decode(s, load_key), load_key(header, payload) "
                                "-> key_set.find_by_kid(header['kid']) "
                                "(https://docs.authlib.org/en/latest/jose/jwt.html)"}

    def supports(self, suite: Suite) -> bool:
        if suite.family == "JWS":
            return suite.alg in JsonWebSignature.ALGORITHMS_REGISTRY
        return (suite.alg in JsonWebEncryption.ALG_REGISTRY
                and suite.enc in JsonWebEncryption.ENC_REGISTRY)

    def allows_by_default(self, suite: Suite) -> bool:
        if not self.supports(suite):
            return False
        # Releases before the `deprecated` mark (1.3.x-1.5.x) filter nothing by default: with
        # no allow-list they accept every algorithm they register.
        if suite.family == "JWS":
            return not getattr(JsonWebSignature.ALGORITHMS_REGISTRY[suite.alg], "deprecated",
                               False)
        return not getattr(JsonWebEncryption.ALG_REGISTRY[suite.alg], "deprecated", False)

    def _key(self, key: KeyData) -> Any:
        if is_jwks(key):
            raise Unsupported("Authlib's JsonWebSignature/JsonWebEncryption take one key or a "
                              "key callable, not a key set (its KeySet goes to jwt.decode)")
        if handed_over(key):
            return str(key) if isinstance(key, str) else bytes(key)  # type: ignore[arg-type]
        # import_key takes a JWK dict, PEM text or raw secret bytes alike.
        return self.imported(key, "key", JsonWebKey.import_key)

    def _jwt_key(self, key: KeyData) -> Any:
        """The JWT API's key: a JWKS as Authlib's own KeySet, which `jwt.decode` looks up by kid
        (`KeySet.find_by_kid`); any other form as the JWS/JWE calls take it."""
        if is_jwks(key):
            return self.imported(key, "jwks", JsonWebKey.import_key_set)
        return self._key(key)

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        signer = JsonWebSignature(algorithms=allowed)
        protected = {"alg": suite.alg, **header}
        if serialization == "compact":
            return signer.serialize_compact(protected, payload, self._key(key)).decode("ascii")
        members: Any = {"protected": protected}
        if serialization == "general":
            members = [members]
        return json.dumps(signer.serialize_json(members, payload, self._key(key)))

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        verifier = JsonWebSignature(algorithms=allowed)
        if serialization == "compact":
            return verifier.deserialize_compact(token, self._key(key)).payload
        return verifier.deserialize_json(token, self._key(key)).payload

    def _encrypt(self, suite: Suite, plaintext: bytes, key: KeyData, header: dict[str, Any],
                 allowed: Allowed, serialization: Serialization) -> str:
        encrypter = JsonWebEncryption(algorithms=allowed)
        protected = {"alg": suite.alg, "enc": suite.enc, **header}
        if serialization == "compact":
            return encrypter.serialize_compact(protected, plaintext,
                                               self._key(key)).decode("ascii")
        return json.dumps(encrypter.serialize_json({"protected": protected}, plaintext,
                                                   [self._key(key)]))

    def _decrypt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                 serialization: Serialization) -> bytes:
        decrypter = JsonWebEncryption(algorithms=allowed)
        if serialization == "compact":
            return decrypter.deserialize_compact(token, self._key(key))["payload"]
        try:
            return decrypter.deserialize_json(token, self._key(key))["payload"]
        except MissingAlgorithmError as error:
            # Its text is empty; say where it looked (RFC 7516 §7.2.1 lets `alg` be per recipient).
            raise Rejected(f"{error_text(error)} (Authlib's deserialize_json reads alg from the "
                           "protected and shared headers only, not a recipient's header)"
                           ) from error
        except KeyError as error:
            # Its JSON parser indexes members without checking them: a member it expects but
            # RFC 7516 §7.2.1 lets be absent (`encrypted_key` with `dir`) surfaces as KeyError.
            raise Rejected(f"authlib: KeyError {error} from deserialize_json (a member it "
                           f"requires is absent)") from error

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        if serialization != "compact":
            raise Unsupported("Authlib's jwt.decode takes compact tokens only")
        decoder = JsonWebToken(allowed) if allowed else jwt
        claims = decoder.decode(token, self._jwt_key(key))
        claims.validate()
        return claims_bytes(claims)

    _decrypt_jwt = _verify_jwt

    def _validate_claims(self, suite: Suite, token: str, key: KeyData, options: ClaimsOptions,
                         allowed: Allowed) -> dict[str, Any]:
        # Its documented pattern: `jwt.decode` checks the signature, `claims.validate()` the
        # claims, with `claims_options` in the OpenID Connect "individual claims" form.
        requests: dict[str, Any] = {name: {"essential": True} for name in options.required}
        for name, value in (("aud", options.audience), ("iss", options.issuer)):
            if value is not None:
                requests[name] = {**requests.get(name, {}), "value": value}
        decoder = JsonWebToken(allowed) if allowed else jwt
        claims = decoder.decode(token, self._jwt_key(key), claims_options=requests or None)
        claims.validate(**({} if options.leeway_s is None else {"leeway": options.leeway_s}))
        return dict(claims)

    # -- several signatures and recipients, and the registry's names (added last) -------------

    def _sign_multi(self, signers: list[tuple[Suite, KeyData, dict[str, Any]]],
                    payload: bytes, allowed: Allowed) -> str:
        # `serialize_json` with a list of headers signs general JSON; its key may be a callable
        # of (header, payload), which picks each signer's key by kid.
        by_kid = {header.get("kid"): self._key(key) for _, key, header in signers}
        members = [{"protected": {"alg": suite.alg, **header}} for suite, _, header in signers]
        signer = JsonWebSignature(algorithms=allowed)
        return json.dumps(signer.serialize_json(
            members, payload, lambda header, _payload: by_kid[header.get("kid")]))

    def _encrypt_multi(self, recipients: list[tuple[Suite, KeyData, dict[str, Any]]],
                       plaintext: bytes, allowed: Allowed) -> str:
        raise Unsupported("Authlib's JsonWebEncryption.serialize_json reads alg from the shared "
                          "header only (rfc7516/jwe.py: get_header_alg(shared_header)): it "
                          "cannot write alg in a recipient's header")

    def registered_names(self) -> dict[str, list[str]]:
        return {"JWS alg": list(JsonWebSignature.ALGORITHMS_REGISTRY),
                "JWE alg": list(JsonWebEncryption.ALG_REGISTRY),
                "JWE enc": list(JsonWebEncryption.ENC_REGISTRY),
                "JWE zip": list(getattr(JsonWebEncryption, "ZIP_REGISTRY", {}))}

    keygen_api = ("authlib.jose.JsonWebKey.generate_key(kty, crv_or_size, is_private=...) "
                  "(https://docs.authlib.org/en/latest/jose/jwk.html)")
    # `crv_or_size` is a required argument of JsonWebKey.generate_key: no default at all.
    keygen_requires = {"RSA": "size", "oct": "size", "EC": "curve", "OKP": "curve"}
    keygen_note = ("JsonWebKey.generate_key's is_private defaults to False: the default call "
                   "returns a public key for RSA, EC and OKP (the harness passes is_private=True)")

    def _generate_key(self, kty: str, crv: str | None, size: int | None) -> dict[str, Any]:
        made = JsonWebKey.generate_key(kty, crv if kty in ("EC", "OKP") else size,
                                       is_private=True)
        return made.as_dict(is_private=True)

    def _export_jwk(self, data: dict[str, Any], private: bool) -> dict[str, Any]:
        return JsonWebKey.import_key(data).as_dict(is_private=private)

    def _export_jwks(self, data: dict[str, Any], private: bool) -> dict[str, Any]:
        return KeySet([JsonWebKey.import_key(data)]).as_dict(is_private=private)

    def _thumbprint(self, data: dict[str, Any]) -> str:
        return JsonWebKey.import_key(data).thumbprint()

    access_token_api = ("JWE: JsonWebEncryption.deserialize_compact, then JsonWebToken.decode of "
                        "the plaintext (its jwt.decode reads a JWE's plaintext as the claims, not "
                        "as a nested JWT: composed); claims_cls = authlib.oauth2.rfc9068's "
                        "JWTAccessTokenClaims (Authlib's own typ check) with iss/aud/exp "
                        "essential, then claims.validate()")

    def _validate_access_token(self, token: str, check: AccessTokenCheck) -> dict[str, Any]:
        signed: str | bytes = token
        if check.encryption is not None:
            decrypter = JsonWebEncryption(algorithms=check.encryption_algorithms)
            signed = decrypter.deserialize_compact(token, self._key(check.decryption_key))[
                "payload"]
        options = {"iss": {"essential": True, "value": check.issuer},
                   "aud": {"essential": True, "value": check.audience},
                   "exp": {"essential": True}}
        decoder = JsonWebToken(check.signing_algorithms)
        try:
            if ACCESS_TOKEN_CLAIMS is None:
                claims = decoder.decode(signed, self._key(check.verification_key),
                                        claims_options=options)
                require_at_jwt(claims.header, self.name)
            else:
                claims = decoder.decode(signed, self._key(check.verification_key),
                                        claims_cls=ACCESS_TOKEN_CLAIMS, claims_options=options)
            claims.validate()
        except CLAIMS_ERRORS as error:
            # Authlib's RFC 9068 claims class validates through joserfc's claims registry,
            # whose error types are joserfc's, not authlib.jose's.
            raise Rejected(error_text(error)) from error
        return dict(claims)

    def _verify_resolved(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                         serialization: Serialization) -> bytes:
        if serialization != "compact":
            raise Unsupported("Authlib's jwt.decode takes compact tokens only")
        key_set = self.imported(key, "jwks", JsonWebKey.import_key_set)

        def load_key(header: dict[str, Any], payload: Any) -> Any:
            # The application's callback, as Authlib's docs write it: the key the kid names.
            return key_set.find_by_kid(header.get("kid"))

        decoder = JsonWebToken(allowed) if allowed else jwt
        claims = decoder.decode(token, load_key)
        claims.validate()
        return claims_bytes(claims)

    _decrypt_resolved = _verify_resolved
